using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;
using SaltApi.NetapiKit.Hosting;

namespace SaltApi.Plugins.RestCherrypyCompat.Config;

/// <summary>The <c>rest_cherrypy:</c> section (spec/05 §1), bound once at start by <see cref="Bind"/>; unknown keys are ignored.</summary>
/// <param name="Listener">
/// The listener keys, bound by the kit: <c>port</c>, <c>host</c> (<c>0.0.0.0</c>), <c>disable_ssl</c>,
/// <c>ssl_crt</c>, <c>ssl_key</c>, <c>ssl_chain</c>, <c>ssl_min_version</c>, <c>debug</c>, <c>thread_pool</c>
/// (100), <c>queue_size</c> (or Salt's <c>socket_queue_size</c>), <c>max_request_body_size</c>,
/// <c>max_connections_per_address</c>, <c>trusted_proxies</c>, <c>log_access_file</c>, <c>log_error_file</c>, <c>openapi</c>.
/// </param>
/// <param name="ApiAcl"><c>api_acl.users</c>: user (or <c>*</c>) → allowed client IPs (or <c>*</c>); null = no ACL.</param>
/// <param name="CorsOrigins">
/// Ours: origins allowed by CORS (<c>*</c> = any, without credentials); empty = Salt's cors_tool (every Origin
/// reflected with credentials allowed; a request the session cookie alone authenticates from another origin is 403).
/// </param>
internal sealed record CherrypyOptions(
    ListenerSection Listener,
    bool CollectStats,
    bool StatsDisableAuth,
    string WebhookUrl,
    bool WebhookDisableAuth,
    bool EnableSessions,
    string? Static,
    string StaticPath,
    string? App,
    string AppPath,
    string RootPrefix,
    string? Favicon,
    ApiAcl? ApiAcl,
    IReadOnlyList<string> AuthorizedIps,
    IReadOnlyList<string> CorsOrigins)
{
    /// <summary>
    /// The default of <c>queue_size</c>. Deliberate difference: Salt's 30 is CherryPy's listen backlog, and a burst
    /// past thread_pool + 30 is reset; here a waiting request holds no thread, so 1,000 wait by default (bodies stay
    /// within their own budget), and only past that is a request a 503. Salt documents a
    /// <c>max_request_body_size</c> of 1048576 but never applies it (CherryPy's own 100 MiB does): the kit's 100 MiB.
    /// Open connections at once are a generous multiple of the gate (idle keep-alives, event streams).
    /// </summary>
    private static readonly ListenerDefaults Defaults = new("0.0.0.0", ThreadPool: 100, QueueSize: 1000)
    {
        ChainAndMinVersion = true,
        QueueSizeAlias = "socket_queue_size",
    };

    /// <summary>Binds and validates a section; throws one <see cref="NetapiConfigException"/> naming every wrong option.</summary>
    public static CherrypyOptions Bind(IReadOnlyDictionary<string, object?> values) => ListenerSection.Bind("rest_cherrypy", values, Defaults, From);

    private static CherrypyOptions From(ModuleSection s, ListenerSection listener) => new(
        listener,
        CollectStats: s.GetBool("collect_stats", false),
        StatsDisableAuth: s.GetBool("stats_disable_auth", false),
        WebhookUrl: s.GetString("webhook_url", "/hook").Trim('/') is { Length: > 0 } hook ? hook : "hook",
        WebhookDisableAuth: s.GetBool("webhook_disable_auth", false),
        EnableSessions: s.GetNotFalse("enable_sessions"),   // app.py: `if apiopts.get("enable_sessions", True) is False`
        Static: s.GetString("static"),
        StaticPath: s.GetString("static_path", "/static").Trim('/'),
        App: s.GetString("app"),
        AppPath: s.GetString("app_path", "/app").Trim('/'),
        RootPrefix: "/" + s.GetString("root_prefix", "/").Trim('/'),
        Favicon: s.GetString("favicon"),
        ApiAcl: ApiAcl.Read(s),
        AuthorizedIps: NetapiKit.Access.AuthorizedIps.Read(s),
        CorsOrigins: s.GetStringList("cors_origin"));
}
