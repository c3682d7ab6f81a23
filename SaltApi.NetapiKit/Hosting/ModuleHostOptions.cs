using Microsoft.AspNetCore.Builder;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>How <see cref="NetapiModuleHost"/> runs a module's listener.</summary>
/// <param name="Section">The listener keys of the module's section: where and how to bind, TLS, the front, debug, openapi, warnings.</param>
/// <param name="Use">Adds the module's routes to the built application; returns what is disposed after the drain (or null).</param>
public sealed record ModuleHostOptions(ListenerSection Section, Func<WebApplication, NetapiModuleContext, IDisposable?> Use)
{
    /// <summary>How long in-flight requests get at stop; null: the daemon's stop bound, which also caps it.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>Serve WebSockets (30 s keep-alive pings), on connections able to take a batch of events in one write.</summary>
    public bool WebSockets { get; init; }

    /// <summary>The module's OpenAPI description (<see cref="Routing.OpenApiDocument"/>), written and served at <c>/openapi.json</c> when the section's <c>openapi</c> is on.</summary>
    public Func<byte[]>? OpenApi { get; init; }

    /// <summary>Services and server options of the module's own, set before the application is built.</summary>
    public Action<WebApplicationBuilder>? Configure { get; init; }
}

/// <summary>
/// The certificate files of a module with TLS on. As salt-api's modules: <c>ssl_crt</c> is required, and so is
/// <c>ssl_key</c> unless <see cref="KeyMayBeInCrt"/> (Tornado's <c>ssl_options</c> take the key from the
/// certificate file when none is given); <c>ssl_chain</c> is optional.
/// </summary>
/// <param name="Crt">The certificate (PEM), possibly followed by its intermediates.</param>
/// <param name="Key">The private key (PEM).</param>
/// <param name="Chain">Intermediates to send after the certificate.</param>
public sealed record TlsFiles(string? Crt, string? Key, string? Chain = null)
{
    /// <summary>Whether the key may be in <see cref="Crt"/> (no <see cref="Key"/> needed).</summary>
    public bool KeyMayBeInCrt { get; init; }

    /// <summary>Which required option is missing, or null when none is.</summary>
    internal bool Missing => string.IsNullOrEmpty(Crt) || (!KeyMayBeInCrt && string.IsNullOrEmpty(Key));

    /// <summary>The certificate and key files given (the chain is checked as it is read).</summary>
    internal IEnumerable<string> Given => new[] { Crt, Key }.Where(f => !string.IsNullOrEmpty(f))!;
}
