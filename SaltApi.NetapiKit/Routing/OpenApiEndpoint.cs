using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Client;

namespace SaltApi.NetapiKit.Routing;

/// <summary>
/// Serves a module's OpenAPI description at <see cref="OpenApiDocument.Path"/> (GET and HEAD), ahead of the module's
/// own steps: it needs no session, since it describes the routes and holds nothing of a user's or of the master's.
/// </summary>
internal static class OpenApiEndpoint
{
    public static void Use(IApplicationBuilder web, ReadOnlyMemory<byte> document) => web.Use(async (ctx, next) =>
    {
        var req = ctx.Request;
        if (!string.Equals(req.Path.Value, OpenApiDocument.Path, StringComparison.Ordinal) || !(HttpMethods.IsGet(req.Method) || HttpMethods.IsHead(req.Method)))
        {
            await next(ctx).ConfigureAwait(false);
            return;
        }

        if (NetapiCall.Current is { } call)
        {
            call.Route = OpenApiDocument.Path;
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = document.Length;
        if (HttpMethods.IsGet(req.Method))
        {
            await ctx.Response.Body.WriteAsync(document, ctx.RequestAborted).ConfigureAwait(false);
        }
    });
}
