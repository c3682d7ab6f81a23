using Microsoft.AspNetCore.Builder;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>How <see cref="NetapiModuleHost"/> runs a module's listener.</summary>
/// <param name="ConfigKey">The module's config key (<c>rest_cherrypy</c>), as its log lines name it.</param>
/// <param name="Front">Forwarded headers, access and error logs (<see cref="HttpFront"/>).</param>
/// <param name="Listener">Where and how to bind; the certificate is filled in from <see cref="Tls"/>.</param>
public sealed record ModuleHostOptions(string ConfigKey, HttpFrontOptions Front, ListenerOptions Listener)
{
    /// <summary>The certificate files (Salt's <c>ssl_crt</c>, <c>ssl_key</c>, <c>ssl_chain</c>); null serves plain HTTP (<c>disable_ssl</c>).</summary>
    public TlsFiles? Tls { get; init; }

    /// <summary>Options read with a warning (a value Salt reads otherwise than it looks): logged at start.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; init; } = [];

    /// <summary>The module's <c>debug</c> option: the framework's lines from Debug up rather than Warning.</summary>
    public bool Debug { get; init; }

    /// <summary>How long in-flight requests get at stop; null: the daemon's stop bound.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>Serve WebSockets (30 s keep-alive pings), on connections able to take a batch of events in one write.</summary>
    public bool WebSockets { get; init; }

    /// <summary>The module's OpenAPI description (<see cref="Routing.OpenApiDocument"/>), served at <c>/openapi.json</c>; null serves none.</summary>
    public ReadOnlyMemory<byte>? OpenApi { get; init; }

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
