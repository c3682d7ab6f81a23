using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// Salt's headers on every answer, then <c>root_prefix</c> (the app is mounted there; elsewhere is a 404),
/// then the path as CherryPy's dispatcher walks it: empty segments dropped, each segment decoded once
/// more. Routing sees that path (with <c>%</c>, <c>/</c> and <c>?</c> inside a segment kept escaped); the
/// request's own path is put back when the request leaves, for the logs.
/// </summary>
internal sealed class RootPrefix(CherrypyServices api)
{
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var req = ctx.Request;
        var resp = ctx.Response;
        resp.Headers["X-Salt-Version"] = CherrypyServices.SaltVersion;
        resp.Headers.Vary = "Accept-Encoding";

        var original = req.Path;
        var path = original.Value ?? "/";
        var prefix = api.Options.RootPrefix;
        if (prefix != "/")
        {
            if (!(path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal)))
            {
                throw new HttpError(404, $"The path '{path}' was not found.");
            }

            path = path[prefix.Length..];
        }

        call.OriginalPath = original.Value ?? "/";
        call.LocalPath = path;
        call.Segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        req.Path = new PathString(RoutePath(call.Segments));
        try
        {
            await next(ctx);
        }
        finally
        {
            req.Path = original;
        }
    }

    /// <summary>The path routing matches: the decoded segments, each escaped so that it stays one segment.</summary>
    internal static string RoutePath(IReadOnlyList<string> segments) =>
        segments.Count == 0 ? "/" : string.Concat(segments.Select(s => "/" + Escape(s)));

    /// <summary>A decoded segment as it appears in <see cref="RoutePath"/>.</summary>
    internal static string Escape(string segment) =>
        segment.AsSpan().IndexOfAny("%/?") < 0
            ? segment
            : segment.Replace("%", "%25", StringComparison.Ordinal).Replace("/", "%2F", StringComparison.Ordinal).Replace("?", "%3F", StringComparison.Ordinal);
}
