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

        ctx.Response.Headers.Allow = meta.Allow;
        var route = meta.For(ctx.Request.Method) ?? throw new HttpError(405);
        if (call.Segments.Length - meta.Literal.Length > route.MaxArgs)
        {
            throw new HttpError(404, $"The path '{call.LocalPath}' was not found.");
        }

        call.Route = route;
        return next(ctx);
    }

    private static bool LiteralMatches(string[] segments, string[] literal) =>
        segments.Length >= literal.Length && segments.AsSpan(0, literal.Length).SequenceEqual(literal);
}
