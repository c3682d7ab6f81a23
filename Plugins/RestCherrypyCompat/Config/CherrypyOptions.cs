using System.Globalization;
using System.Security.Authentication;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;

namespace SaltApi.Plugins.RestCherrypyCompat.Config;

/// <summary>The <c>rest_cherrypy:</c> section (spec/05 §1), bound once at start; unknown keys are ignored.</summary>
internal sealed record CherrypyOptions
{
    public int Port { get; init; }

    public string Host { get; init; } = "0.0.0.0";

    public bool DisableSsl { get; init; }

    public string? SslCrt { get; init; }

    public string? SslKey { get; init; }

    public string? SslChain { get; init; }

    /// <summary>Ours (Salt #52981): lowest TLS version accepted, <c>1.2</c> (default) or <c>1.3</c>.</summary>
    public SslProtocols SslMinVersion { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    public bool Debug { get; init; }

    public int ThreadPool { get; init; } = 100;

    /// <summary>
    /// Requests waiting for one of the <see cref="ThreadPool"/> slots (<c>queue_size</c>, or Salt's
    /// <c>socket_queue_size</c>). Deliberate difference: Salt's 30 is CherryPy's listen backlog, and a burst past
    /// thread_pool + 30 is reset; here a waiting request holds no thread, so 1,000 wait by default (bodies stay
    /// within their own budget), and only past that is a request a 503.
    /// </summary>
    public int QueueSize { get; init; } = DefaultQueueSize;

    /// <summary>The default of <see cref="QueueSize"/>.</summary>
    public const int DefaultQueueSize = 1000;

    /// <summary>
    /// Salt documents 1048576 but never applies it (CherryPy's own 100 MiB does): 100 MiB by default, for a
    /// request whose session is checked valid before its body is read; without one, at most 1 MiB.
    /// </summary>
    public long MaxRequestBodySize { get; init; } = RequestBodyBudget.DefaultMaxBodySize;

    /// <summary>Open connections at once: a generous multiple of the gate (idle keep-alives, event streams).</summary>
    public long MaxConnections => Math.Max(1000, 10L * (ThreadPool + QueueSize));

    /// <summary>Ours: open connections at once from one client address (a <c>trusted_proxies</c> address is not bounded).</summary>
    public long MaxConnectionsPerAddress { get; init; } = 500;

    public bool CollectStats { get; init; }

    public bool StatsDisableAuth { get; init; }

    public string WebhookUrl { get; init; } = "hook";

    public bool WebhookDisableAuth { get; init; }

    public bool EnableSessions { get; init; } = true;

    public string? Static { get; init; }

    public string StaticPath { get; init; } = "static";

    public string? App { get; init; }

    public string AppPath { get; init; } = "app";

    public string RootPrefix { get; init; } = "/";

    public string? Favicon { get; init; }

    /// <summary><c>openapi</c> (ours): serve the OpenAPI description of the routes at <c>/openapi.json</c>.</summary>
    public bool OpenApi { get; init; }

    /// <summary><c>api_acl.users</c>: user (or <c>*</c>) → allowed client IPs (or <c>*</c>); null = no ACL.</summary>
    public ApiAcl? ApiAcl { get; init; }

    public IReadOnlyList<string> AuthorizedIps { get; init; } = [];

    /// <summary>
    /// Ours: origins allowed by CORS (<c>*</c> = any, without credentials); empty = Salt's cors_tool (every Origin
    /// reflected with credentials allowed; a request the session cookie alone authenticates from another origin is 403).
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary><c>trusted_proxies</c> (ours), <c>log_access_file</c>, <c>log_error_file</c>: the contract's HttpFront.</summary>
    public HttpFrontOptions Front { get; init; } = new();

    /// <summary>Options Salt reads surprisingly (a quoted "False" that is true), logged once as the module starts.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; init; } = [];

    /// <summary>Binds and validates a section; throws one <see cref="NetapiConfigException"/> naming every wrong option.</summary>
    public static CherrypyOptions Bind(IReadOnlyDictionary<string, object?> values)
    {
        var section = new ModuleSection("rest_cherrypy", values);
        var options = From(section);
        section.ThrowIfInvalid();
        return options with { Warnings = section.Warnings.ToList() };
    }

    /// <summary>Binds a section; every wrong option is recorded in <paramref name="s"/>'s problems.</summary>
    public static CherrypyOptions From(ModuleSection s)
    {
        var o = new CherrypyOptions
        {
            Port = s.GetPort(),
            Host = s.GetString("host", "0.0.0.0"),
            DisableSsl = s.GetBool("disable_ssl", false),
            SslCrt = s.GetString("ssl_crt"),
            SslKey = s.GetString("ssl_key"),
            SslChain = s.GetString("ssl_chain"),
            SslMinVersion = s.GetString("ssl_min_version") switch
            {
                null or "" or "1.2" or "TLSv1.2" => SslProtocols.Tls12 | SslProtocols.Tls13,
                "1.3" or "TLSv1.3" => SslProtocols.Tls13,
                var v => Refuse(s, "ssl_min_version", $"must be 1.2 or 1.3, not '{v}'", SslProtocols.Tls12 | SslProtocols.Tls13),
            },
            Debug = s.GetBool("debug", false),
            ThreadPool = Math.Max(1, s.GetInt("thread_pool", 100)),
            QueueSize = Math.Max(0, s.Has("queue_size") ? s.GetInt("queue_size", DefaultQueueSize) : s.GetInt("socket_queue_size", DefaultQueueSize)),
            MaxRequestBodySize = s.GetSize("max_request_body_size", RequestBodyBudget.DefaultMaxBodySize),
            CollectStats = s.GetBool("collect_stats", false),
            StatsDisableAuth = s.GetBool("stats_disable_auth", false),
            WebhookUrl = s.GetString("webhook_url", "/hook").Trim('/'),
            WebhookDisableAuth = s.GetBool("webhook_disable_auth", false),
            EnableSessions = s.GetNotFalse("enable_sessions"),   // app.py: `if apiopts.get("enable_sessions", True) is False`
            Static = s.GetString("static"),
            StaticPath = s.GetString("static_path", "/static").Trim('/'),
            App = s.GetString("app"),
            AppPath = s.GetString("app_path", "/app").Trim('/'),
            RootPrefix = "/" + s.GetString("root_prefix", "/").Trim('/'),
            Favicon = s.GetString("favicon"),
            OpenApi = s.GetBool("openapi", false),
            ApiAcl = ApiAcl.Read(s),
            AuthorizedIps = NetapiKit.Access.AuthorizedIps.Read(s),
            CorsOrigins = s.GetStringList("cors_origin"),
            Front = HttpFrontOptions.Read(s),
        };
        o = o with { MaxConnectionsPerAddress = ListenerOptions.PerAddress(s, o.MaxConnections) };
        if (o.WebhookUrl.Length == 0)
        {
            o = o with { WebhookUrl = "hook" };
        }

        return o;
    }

    private static T Refuse<T>(ModuleSection s, string key, string message, T fallback)
    {
        s.Problem(key, message);
        return fallback;
    }
}
