using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;
using SaltApi.NetapiKit.Hosting;

namespace SaltApi.Plugins.RestTornadoCompat.Config;

/// <summary>The <c>rest_tornado:</c> section (saltnado's module docstring and <c>__init__.start</c>), bound once at start by <see cref="Bind"/>.</summary>
/// <param name="Listener">
/// The listener keys, bound by the kit: <c>port</c>, <c>address</c> (every interface), <c>disable_ssl</c>,
/// <c>ssl_crt</c>, <c>ssl_key</c> (optional: the key may be in <c>ssl_crt</c>), <c>debug</c>, <c>thread_pool</c>,
/// <c>queue_size</c>, <c>max_request_body_size</c>, <c>max_connections_per_address</c>, <c>trusted_proxies</c>,
/// <c>log_access_file</c>, <c>log_error_file</c>, <c>openapi</c>.
/// </param>
/// <param name="NumProcesses">Accepted and ignored: one process serves every request (logged at start when not 1).</param>
/// <param name="CorsOrigins"><c>cors_origin</c>: an origin, a list of origins, or <c>*</c>; empty = no CORS headers.</param>
/// <param name="WebhookUrl">Ours (rest_cherrypy's option): the hook path, <c>/hook</c> by default, which Salt's rest_tornado always serves.</param>
/// <param name="MaxLowstateChunks">Ours, as rest_wsgi's: more lowstate chunks in one request are a 400 (each runs in turn, holding a slot).</param>
/// <param name="ApiAcl">
/// Ours (rest_cherrypy's option, also read by rest_wsgi): <c>api_acl.users</c>, checked on every path that takes
/// credentials or a token; null = no ACL. Salt's rest_tornado has none, so a user limited by address on the
/// other modules reached the same master through it from anywhere.
/// </param>
/// <param name="AuthorizedIps">Ours (rest_cherrypy's option): with addresses listed, any other client gets <c>403</c>.</param>
internal sealed record TornadoOptions(
    ListenerSection Listener,
    int Backlog,
    int NumProcesses,
    bool Websockets,
    IReadOnlyList<string> CorsOrigins,
    string WebhookUrl,
    bool WebhookDisableAuth,
    int MaxLowstateChunks,
    ApiAcl? ApiAcl,
    IReadOnlyList<string> AuthorizedIps)
{
    /// <summary>
    /// rest_tornado's listener defaults. Ours (rest_cherrypy's names): <c>thread_pool</c> requests run at once
    /// (Salt's rest_tornado runs every request of its one loop at once; here a request past the slots waits for
    /// one), <c>queue_size</c> wait for a slot (at most 30 s each; one more is a 503). Bodies above
    /// <c>max_request_body_size</c> are 413: Tornado's own bound (100 MiB) by default. 10,000 open connections at once.
    /// </summary>
    private static readonly ListenerDefaults Defaults = new(NetapiWebHost.AnyAddress, ThreadPool: 128, QueueSize: 1024)
    {
        HostKey = "address",
        KeyMayBeInCrt = true,
        RefuseGateOutOfRange = true,
        MaxConnections = 10_000,
    };

    /// <summary>Binds and validates a section; throws one <see cref="NetapiConfigException"/> naming every wrong option.</summary>
    public static TornadoOptions Bind(IReadOnlyDictionary<string, object?> values) => ListenerSection.Bind("rest_tornado", values, Defaults, From);

    private static TornadoOptions From(ModuleSection s, ListenerSection listener)
    {
        var o = new TornadoOptions(
            listener,
            Backlog: s.GetInt("backlog", 128, 1, 65535),
            NumProcesses: s.Has("num_processes") ? s.GetInt("num_processes", 1, 0) : 1,
            Websockets: s.GetBool("websockets", false),
            CorsOrigins: s.GetStringList("cors_origin"),
            WebhookUrl: "/" + s.GetString("webhook_url", "/hook").Trim('/'),
            WebhookDisableAuth: s.GetBool("webhook_disable_auth", false),
            MaxLowstateChunks: s.GetInt("max_lowstate_chunks", 1000, 1),
            ApiAcl: ApiAcl.Read(s),
            AuthorizedIps: NetapiKit.Access.AuthorizedIps.Read(s));
        if (o.WebhookUrl == "/")
        {
            s.Problem("webhook_url", "must name a path below /");
        }

        return o;
    }
}
