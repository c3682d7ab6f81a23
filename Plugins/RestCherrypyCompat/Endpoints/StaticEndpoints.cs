using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>
/// <c>app</c>/<c>app_path</c>, <c>static</c>/<c>static_path</c> and <c>favicon</c>: rest_cherrypy's App,
/// its static directory, and html_override_tool. The files are served by a step before routing.
/// </summary>
internal sealed class StaticEndpoints(CherrypyOptions options)
{
    /// <summary>GET <c>/app[/...]</c>: the <c>app</c> file, or our page when none is set.</summary>
    public async Task AppAsync(Call call)
    {
        byte[] bytes;
        if (options.App is { } file)
        {
            if (!File.Exists(file))
            {
                throw new HttpError(404, $"The path '{call.OriginalPath}' was not found.");
            }

            bytes = await File.ReadAllBytesAsync(file, call.Aborted);
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(DefaultApp);
        }

        await call.WriteAsync(200, "text/html", bytes);
    }

    /// <summary>The step before routing: the favicon, a file under <c>static_path</c>, or the app for a browser.</summary>
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        if (!await TryStaticAsync(Call.Of(ctx)))
        {
            await next(ctx);
        }
    }

    private async Task<bool> TryStaticAsync(Call call)
    {
        var req = call.Request;
        if (!HttpMethods.IsGet(req.Method) && !HttpMethods.IsHead(req.Method))
        {
            return false;
        }

        var segments = call.Segments;
        if (segments is ["favicon.ico"] && options.Favicon is { } favicon && File.Exists(favicon))
        {
            await call.WriteAsync(200, "image/x-icon", await File.ReadAllBytesAsync(favicon, call.Aborted));
            return true;
        }

        var staticPath = options.StaticPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (options.Static is { } root && staticPath.Length > 0 && segments.Length > staticPath.Length &&
            segments.Take(staticPath.Length).SequenceEqual(staticPath, StringComparer.Ordinal))
        {
            var full = Path.GetFullPath(Path.Combine([root, .. segments[staticPath.Length..]]));
            var rootFull = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if (!full.StartsWith(rootFull, StringComparison.Ordinal) || !File.Exists(full))
            {
                throw new HttpError(404, $"The path '{call.OriginalPath}' was not found.");
            }

            await call.WriteAsync(200, ContentTypeOf(full), await File.ReadAllBytesAsync(full, call.Aborted));
            return true;
        }

        // As Salt's html_override_tool: a browser asking for HTML anywhere but the app/static gets the app.
        if (options.App is not null && HttpMethods.IsGet(req.Method))
        {
            var accept = req.Headers.Accept.ToString();
            var appPath = options.AppPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var underApp = appPath.Length > 0 && segments.Length >= appPath.Length && segments.Take(appPath.Length).SequenceEqual(appPath, StringComparer.Ordinal);
            if (accept != "*/*" && PrefersHtml(accept) && !underApp)
            {
                await AppAsync(call);
                return true;
            }
        }

        return false;
    }

    private static bool PrefersHtml(string accept)
    {
        var best = accept.Split(',')
            .Select(p => p.Split(';'))
            .Select(p => (Value: p[0].Trim().ToLowerInvariant(), Q: p.Skip(1).Select(x => x.Trim()).Where(x => x.StartsWith("q=", StringComparison.Ordinal))
                .Select(x => double.TryParse(x[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out var q) ? q : 1.0).DefaultIfEmpty(1.0).First()))
            .OrderByDescending(p => p.Q)
            .FirstOrDefault();
        return best.Value == "text/html";
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html",
        ".js" => "application/javascript",
        ".css" => "text/css",
        ".json" => "application/json",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        ".ico" => "image/x-icon",
        ".txt" => "text/plain",
        _ => "application/octet-stream",
    };

    private const string DefaultApp = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>salt-api</title></head>
        <body>
        <h1>salt-api</h1>
        <p>This is the rest_cherrypy-compatible API. Log in with <code>POST /login</code>,
        then send lowstate to <code>POST /</code> with the <code>X-Auth-Token</code> header,
        and watch the event bus at <code>GET /events</code>.</p>
        </body>
        </html>
        """;
}
