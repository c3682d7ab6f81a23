using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;
using SaltApi.NetapiKit.Hosting;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>The <c>rest_wsgi</c> section. Salt knows only <c>port</c>; the rest are ours.</summary>
/// <param name="Listener">
/// The listener keys, bound by the kit: <c>port</c> (Salt's only option), <c>host</c> (Salt binds <c>localhost</c>
/// and so do we unless told otherwise), <c>debug</c>, <c>thread_pool</c> and <c>queue_size</c> (rest_cherrypy's
/// names and defaults), <c>max_request_body_size</c>, <c>max_connections</c>, <c>max_connections_per_address</c>,
/// <c>trusted_proxies</c>, <c>log_access_file</c>, <c>log_error_file</c>, <c>openapi</c>. No TLS, as Salt's.
/// </param>
/// <param name="DrainTimeout">How long a stop waits for in-flight requests; null = the daemon's stop bound, which also caps it.</param>
/// <param name="MaxChunks">Lowstate chunks in one request; more are a 400.</param>
internal sealed record RestWsgiOptions(ListenerSection Listener, TimeSpan? DrainTimeout, int MaxChunks = RestWsgiOptions.DefaultMaxChunks)
{
    /// <summary>rest_wsgi's listener defaults: a waiting request holds no thread (see rest_cherrypy's <c>queue_size</c>).</summary>
    private static readonly ListenerDefaults Defaults = new("localhost", ThreadPool: 100, QueueSize: 1000) { Tls = false, MaxConnectionsOption = true };

    /// <summary>Default bound on the chunks of one request.</summary>
    public const int DefaultMaxChunks = 1000;

    /// <summary><c>api_acl</c> (ours here, rest_cherrypy's option), checked for every chunk's user; null = none.</summary>
    public ApiAcl? ApiAcl { get; init; }

    /// <summary>Binds and validates a section; throws one <see cref="NetapiConfigException"/> naming every wrong option.</summary>
    public static RestWsgiOptions Bind(IReadOnlyDictionary<string, object?> values) => ListenerSection.Bind("rest_wsgi", values, Defaults, (s, listener) =>
    {
        TimeSpan? drain = s.Has("drain_timeout") ? s.GetSeconds("drain_timeout", TimeSpan.Zero) : null;
        return new RestWsgiOptions(listener, drain is { } d ? TimeSpan.FromSeconds(Math.Max(d.TotalSeconds, 1)) : null, Math.Max(1, s.GetInt("max_lowstate_chunks", DefaultMaxChunks)))
        {
            ApiAcl = ApiAcl.Read(s),
        };
    });
}
