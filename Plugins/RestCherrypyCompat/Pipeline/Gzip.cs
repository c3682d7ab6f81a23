using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// CherryPy's gzip tool, which rest_cherrypy turns on for the whole application (<c>tools.gzip.on</c>):
/// a body is gzipped when the client asks (<c>Accept-Encoding: gzip</c>) and its type is one the tool
/// compresses. CherryPy's defaults are <c>text/html</c> and <c>text/plain</c> (the error pages); we also
/// compress the API's own answers, JSON and YAML (deliberate: Salt never compresses them, but job
/// results are large and repetitive). Event streams (<c>text/event-stream</c>) and WebSockets are never
/// compressed: an event must leave as soon as it is written. An answer that carries a token
/// (<c>/login</c>, <c>/token</c>) is never compressed either (<see cref="Never"/>), so that BREACH has
/// nothing to measure; they are a few hundred bytes. rest_wsgi (wsgiref) compresses nothing, nor do we there.
/// </summary>
internal static class Gzip
{
    /// <summary>The types compressed: CherryPy's defaults, then ours.</summary>
    public static readonly string[] MimeTypes = ["text/html", "text/plain", "application/json", "application/x-yaml"];

    /// <summary>Registers the compression services (gzip only, as CherryPy; over TLS too, as CherryPy).</summary>
    public static void AddTo(IServiceCollection services)
    {
        // Registered first: AddResponseCompression only adds its own provider when none is there.
        services.AddSingleton<IResponseCompressionProvider, Provider>();
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.MimeTypes = MimeTypes;
            o.Providers.Add<GzipCompressionProvider>();
        });
        // CherryPy compresses at level 5; Optimal is zlib's default (6), Fastest is 1.
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal);
    }

    /// <summary>This request's answer is sent as is, whatever the client accepts (it carries a secret).</summary>
    public static void Never(HttpContext ctx)
    {
        if (ctx.Features.Get<IHttpsCompressionFeature>() is { } feature)
        {
            feature.Mode = HttpsCompressionMode.DoNotCompress;
        }
    }

    /// <summary>The framework's provider, with <see cref="Never"/> honoured over plain HTTP too (it only looks at it for HTTPS).</summary>
    private sealed class Provider(IServiceProvider services, IOptions<ResponseCompressionOptions> options) : ResponseCompressionProvider(services, options)
    {
        public override bool ShouldCompressResponse(HttpContext context) =>
            context.Features.Get<IHttpsCompressionFeature>()?.Mode != HttpsCompressionMode.DoNotCompress && base.ShouldCompressResponse(context);
    }
}
