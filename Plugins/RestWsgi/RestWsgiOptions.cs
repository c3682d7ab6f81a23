using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Access;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>The <c>rest_wsgi</c> section. Salt knows only <c>port</c>; the rest are ours.</summary>
/// <param name="Port">The port (Salt's only option).</param>
/// <param name="Host">Bind address; Salt binds <c>localhost</c> and so do we unless told otherwise.</param>
/// <param name="MaxRequestBodySize">Bodies above this are a 413 (ours, default 1 MiB as rest_cherrypy's; Salt reads anything).</param>
/// <param name="DrainTimeout">How long a stop waits for in-flight requests; null = the daemon's stop bound, which also caps it.</param>
/// <param name="ThreadPool">Requests run at once (ours, rest_cherrypy's name and default).</param>
/// <param name="QueueSize">Requests waiting for a slot beyond those; more are a 503 (ours, rest_cherrypy's name and default).</param>
/// <param name="MaxChunks">Lowstate chunks in one request; more are a 400.</param>
/// <param name="MaxConnections">Open connections at once.</param>
/// <param name="MaxConnectionsPerAddress">Open connections at once from one client address.</param>
internal sealed record RestWsgiOptions(int Port, string Host, long MaxRequestBodySize, TimeSpan? DrainTimeout, int ThreadPool = 100, int QueueSize = RestWsgiOptions.DefaultQueueSize, int MaxChunks = RestWsgiOptions.DefaultMaxChunks, int MaxConnections = 1000, long MaxConnectionsPerAddress = 500)
{
    /// <summary>Default body bound, for a request with a valid X-Auth-Token: salt-api's effective 100 MiB (without one, at most 1 MiB).</summary>
    public const long DefaultMaxBody = RequestBodyBudget.DefaultMaxBodySize;

    /// <summary>Default of <c>queue_size</c>: a waiting request holds no thread (see rest_cherrypy's).</summary>
    public const int DefaultQueueSize = 1000;

    /// <summary>Default bound on the chunks of one request.</summary>
    public const int DefaultMaxChunks = 1000;

    /// <summary><c>trusted_proxies</c>, <c>log_access_file</c>, <c>log_error_file</c> (ours here; rest_cherrypy's names): the contract's HttpFront.</summary>
    public HttpFrontOptions Front { get; init; } = new();

    /// <summary><c>api_acl</c> (ours here, rest_cherrypy's option), checked for every chunk's user; null = none.</summary>
    public ApiAcl? ApiAcl { get; init; }

    /// <summary><c>openapi</c> (ours): serve the OpenAPI description at <c>/openapi.json</c> (that path then no longer answers as the others).</summary>
    public bool OpenApi { get; init; }

    /// <summary>Options Salt reads surprisingly (an <c>api_acl</c> without users refuses everyone), logged once as the module starts.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; init; } = [];

    /// <summary>Binds the section; every wrong option is recorded in <paramref name="section"/>'s problems.</summary>
    public static RestWsgiOptions From(ModuleSection section)
    {
        var port = section.GetPort();
        var host = section.GetString("host", "localhost");
        var maxBody = section.GetSize("max_request_body_size", DefaultMaxBody);
        TimeSpan? drain = section.Has("drain_timeout") ? section.GetSeconds("drain_timeout", TimeSpan.Zero) : null;
        var threadPool = Math.Max(1, section.GetInt("thread_pool", 100));
        var queueSize = Math.Max(0, section.GetInt("queue_size", DefaultQueueSize));
        var maxChunks = Math.Max(1, section.GetInt("max_lowstate_chunks", DefaultMaxChunks));
        var maxConnections = Math.Max(1, section.GetInt("max_connections", Math.Max(1000, 10 * (threadPool + queueSize))));
        var perAddress = ListenerOptions.PerAddress(section, maxConnections);
        return new RestWsgiOptions(port, host, maxBody, drain is { } d ? TimeSpan.FromSeconds(Math.Max(d.TotalSeconds, 1)) : null, threadPool, queueSize, maxChunks, maxConnections, perAddress)
        {
            Front = HttpFrontOptions.Read(section),
            ApiAcl = ApiAcl.Read(section),
            OpenApi = section.GetBool("openapi", false),
        };
    }

    /// <summary>The drain bound within the daemon's stop bound: <c>drain_timeout</c> when it is shorter, else the stop bound.</summary>
    public TimeSpan Drain(TimeSpan stopTimeout) => DrainTimeout is { } d && d < stopTimeout ? d : stopTimeout;
}
