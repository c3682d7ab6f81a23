using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// After routing, CherryPy's dispatcher answers: no resource is a 404; a resource answers with its Allow
/// header, 405 for a method it lacks, 404 for more path segments than its handler takes.
/// </summary>
internal static class ResourceCheck
{
    public static Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var meta = ctx.GetEndpoint()?.Metadata.GetMetadata<ResourceEndpoint>();
        if (meta is null || !LiteralMatches(call.Segments, meta.Literal))
        {
            throw new HttpError(404, $"The path '{call.LocalPath}' was not found.");
        }

        var r = meta.Resource;
        var method = ctx.Request.Method;
        ctx.Response.Headers.Allow = Resources.Allow(r);
        if (!Resources.Allows(r, method))
        {
            throw new HttpError(405);
        }

        if (call.Segments.Length - meta.Literal.Length > Resources.MaxArgs(r, method))
        {
            throw new HttpError(404, $"The path '{call.LocalPath}' was not found.");
        }

        call.Resource = meta;
        return next(ctx);
    }

    private static bool LiteralMatches(string[] segments, string[] literal)
    {
        if (segments.Length < literal.Length)
        {
            return false;
        }

        for (var i = 0; i < literal.Length; i++)
        {
            if (!string.Equals(segments[i], literal[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
