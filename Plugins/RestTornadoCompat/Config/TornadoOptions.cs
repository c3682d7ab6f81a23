using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;

namespace SaltApi.Plugins.RestTornadoCompat.Config;

/// <summary>The <c>rest_tornado:</c> section (saltnado's module docstring and <c>__init__.start</c>), bound once at start.</summary>
internal sealed record TornadoOptions
{
    public int Port { get; init; }

    /// <summary>Tornado binds every interface when <c>address</c> is not given.</summary>
    public string Address { get; init; } = NetapiWebHost.AnyAddress;

    public int Backlog { get; init; } = 128;

    public bool DisableSsl { get; init; }

    public string? SslCrt { get; init; }

    /// <summary>Optional: the key may be in the <c>ssl_crt</c> file.</summary>
    public string? SslKey { get; init; }

    public bool Debug { get; init; }

    /// <summary>Accepted and ignored: one process serves every request (logged at start when not 1).</summary>
    public int NumProcesses { get; init; } = 1;

    public bool Websockets { get; init; }

    /// <summary><c>cors_origin</c>: an origin, a list of origins, or <c>*</c>; empty = no CORS headers.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Ours (rest_cherrypy's option): the hook path, <c>/hook</c> by default, which Salt's rest_tornado always serves.</summary>
    public string WebhookUrl { get; init; } = "/hook";

    public bool WebhookDisableAuth { get; init; }

    /// <summary>Ours: bodies above this are 413; Tornado's own bound (100 MiB) by default, for a request whose token is valid (without one, at most 1 MiB).</summary>
    public long MaxRequestBodySize { get; init; } = RequestBodyBudget.DefaultMaxBodySize;

    /// <summary>Open connections at once.</summary>
    public long MaxConnections { get; init; } = 10_000;

    /// <summary>Ours: open connections at once from one client address (a <c>trusted_proxies</c> address is not bounded).</summary>
    public long MaxConnectionsPerAddress { get; init; } = 5_000;

    /// <summary>
    /// Ours (rest_cherrypy's name): requests run at once. Salt's rest_tornado runs every request of its one loop
    /// at once; here a request past the slots waits for one.
    /// </summary>
    public int ThreadPool { get; init; } = DefaultThreadPool;

    /// <summary>Ours (rest_cherrypy's name): requests waiting for a slot (at most 30 s each); one more is a 503.</summary>
    public int QueueSize { get; init; } = DefaultQueueSize;

    /// <summary>The default of <see cref="ThreadPool"/>.</summary>
    public const int DefaultThreadPool = 128;

    /// <summary>The default of <see cref="QueueSize"/>.</summary>
    public const int DefaultQueueSize = 1024;

    /// <summary>Ours, as rest_wsgi's: more lowstate chunks in one request are a 400 (each runs in turn, holding a slot).</summary>
    public int MaxLowstateChunks { get; init; } = 1000;

    /// <summary>
    /// Ours (rest_cherrypy's option, also read by rest_wsgi): <c>api_acl.users</c>, checked on every path that takes
    /// credentials or a token; null = no ACL. Salt's rest_tornado has none, so a user limited by address on the
    /// other modules reached the same master through it from anywhere.
    /// </summary>
    public ApiAcl? ApiAcl { get; init; }

    /// <summary>Ours (rest_cherrypy's option): with addresses listed, any other client gets <c>403</c>.</summary>
    public IReadOnlyList<string> AuthorizedIps { get; init; } = [];

    /// <summary>Ours, as the other modules': <c>trusted_proxies</c> and the access/error logs (the contract's HttpFront).</summary>
    public HttpFrontOptions Front { get; init; } = new();

    /// <summary>Options Salt reads surprisingly (a quoted "False" that is true), logged once as the module starts.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; init; } = [];

    /// <summary><c>openapi</c> (ours): serve the OpenAPI description of the routes at <c>/openapi.json</c>.</summary>
    public bool OpenApi { get; init; }

    /// <summary>Binds and validates a section; throws one <see cref="NetapiConfigException"/> naming every wrong option.</summary>
    public static TornadoOptions Bind(IReadOnlyDictionary<string, object?> values)
    {
        var s = new ModuleSection("rest_tornado", values);
        var o = new TornadoOptions
        {
            Port = s.GetPort(),
            // Tornado's bind_sockets: no address (or "") is every interface, IPv6 and IPv4.
            Address = s.GetString("address") is { Length: > 0 } address ? address : NetapiWebHost.AnyAddress,
            Backlog = s.GetInt("backlog", 128, 1, 65535),
            DisableSsl = s.GetBool("disable_ssl", false),
            SslCrt = s.GetString("ssl_crt"),
            SslKey = s.GetString("ssl_key"),
            Debug = s.GetBool("debug", false),
            NumProcesses = s.Has("num_processes") ? s.GetInt("num_processes", 1, 0) : 1,
            Websockets = s.GetBool("websockets", false),
            CorsOrigins = s.GetStringList("cors_origin"),
            WebhookUrl = "/" + s.GetString("webhook_url", "/hook").Trim('/'),
            WebhookDisableAuth = s.GetBool("webhook_disable_auth", false),
            MaxRequestBodySize = s.GetSize("max_request_body_size", RequestBodyBudget.DefaultMaxBodySize),
            MaxConnectionsPerAddress = ListenerOptions.PerAddress(s, 10_000),
            MaxLowstateChunks = s.GetInt("max_lowstate_chunks", 1000, 1),
            ThreadPool = s.GetInt("thread_pool", DefaultThreadPool, 1, 100_000),
            QueueSize = s.GetInt("queue_size", DefaultQueueSize, 0, 1_000_000),
            ApiAcl = ApiAcl.Read(s),
            AuthorizedIps = NetapiKit.Access.AuthorizedIps.Read(s),
            Front = HttpFrontOptions.Read(s),
            OpenApi = s.GetBool("openapi", false),
        };
        if (o.WebhookUrl == "/")
        {
            s.Problem("webhook_url", "must name a path below /");
        }

        s.ThrowIfInvalid();
        return o with { Warnings = s.Warnings.ToList() };
    }
}
