using System.Security.Authentication;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>
/// The part of a module's section that every netapi module reads alike: where it listens, TLS, the bounds on
/// bodies, connections and requests at once, the front (<c>trusted_proxies</c>, access and error logs), <c>debug</c>
/// and <c>openapi</c>. Bound once by <see cref="Bind"/> with the module's own defaults and key names
/// (<see cref="ListenerDefaults"/>); the module's options record keeps this and only its own keys.
/// </summary>
public sealed record ListenerSection
{
    /// <summary>The module's config key (<c>rest_cherrypy</c>), as its log lines name it.</summary>
    public string ConfigKey { get; init; } = "";

    /// <summary><c>port</c> (Salt's, required).</summary>
    public int Port { get; init; }

    /// <summary>The bind address (rest_cherrypy's <c>host</c>, rest_tornado's <c>address</c>).</summary>
    public string Host { get; init; } = "";

    /// <summary><c>disable_ssl</c>: serve plain HTTP (always so for a module without TLS).</summary>
    public bool DisableSsl { get; init; }

    /// <summary><c>ssl_crt</c>: the certificate (PEM).</summary>
    public string? SslCrt { get; init; }

    /// <summary><c>ssl_key</c>: its private key (PEM).</summary>
    public string? SslKey { get; init; }

    /// <summary><c>ssl_chain</c>: intermediates sent after the certificate.</summary>
    public string? SslChain { get; init; }

    /// <summary>Ours (Salt #52981): lowest TLS version accepted, <c>1.2</c> (default) or <c>1.3</c>.</summary>
    public SslProtocols SslMinVersion { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Whether the key may be in <see cref="SslCrt"/> (rest_tornado).</summary>
    public bool KeyMayBeInCrt { get; init; }

    /// <summary><c>debug</c>: the framework's lines from Debug up rather than Warning.</summary>
    public bool Debug { get; init; }

    /// <summary><c>thread_pool</c>: requests run at once.</summary>
    public int ThreadPool { get; init; }

    /// <summary><c>queue_size</c>: requests waiting for a slot; one more is a 503.</summary>
    public int QueueSize { get; init; }

    /// <summary>
    /// <c>max_request_body_size</c>: bodies above this are 413; 100 MiB by default (what salt-api's servers apply),
    /// for a request whose token or session is checked valid first; without one, at most 1 MiB.
    /// </summary>
    public long MaxRequestBodySize { get; init; } = RequestBodyBudget.DefaultMaxBodySize;

    /// <summary>Open connections at once (idle keep-alives, event streams).</summary>
    public long MaxConnections { get; init; }

    /// <summary>Ours: open connections at once from one client address (a <c>trusted_proxies</c> address is not bounded).</summary>
    public long MaxConnectionsPerAddress { get; init; }

    /// <summary><c>openapi</c> (ours): serve the OpenAPI description of the routes at <c>/openapi.json</c>.</summary>
    public bool OpenApi { get; init; }

    /// <summary><c>trusted_proxies</c>, <c>log_access_file</c>, <c>log_error_file</c>: the contract's HttpFront.</summary>
    public HttpFrontOptions Front { get; init; } = new();

    /// <summary>Options of the whole section Salt reads surprisingly (a quoted "False" that is true), logged once at start.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; init; } = [];

    /// <summary>The certificate files, or null to serve plain HTTP (<c>disable_ssl</c>).</summary>
    public TlsFiles? Tls => DisableSsl ? null : new TlsFiles(SslCrt, SslKey, SslChain) { KeyMayBeInCrt = KeyMayBeInCrt };

    /// <summary>Where and how Kestrel binds.</summary>
    public ListenerOptions Listener => new(Host, Port, MaxRequestBodySize, MinimumTls: SslMinVersion, MaxConnections: MaxConnections)
    {
        MaxConnectionsPerAddress = MaxConnectionsPerAddress,
        UnboundedAddresses = Front.TrustedProxies,
    };

    /// <summary>
    /// Binds and validates a module's section: the listener keys with <paramref name="defaults"/>, its own keys by
    /// <paramref name="from"/>; throws one <see cref="NetapiConfigException"/> naming every wrong option. The
    /// section's warnings are the listener's, logged once as the module starts.
    /// </summary>
    public static T Bind<T>(string configKey, IReadOnlyDictionary<string, object?> values, ListenerDefaults defaults, Func<ModuleSection, ListenerSection, T> from)
    {
        ArgumentNullException.ThrowIfNull(from);
        var section = new ModuleSection(configKey, values);
        var warnings = new List<ConfigProblem>();
        var options = from(section, Read(section, defaults) with { Warnings = warnings });
        section.ThrowIfInvalid();
        warnings.AddRange(section.Warnings); // every key has been read by now
        return options;
    }

    // The listener keys of the section; every wrong one is recorded in its problems.
    private static ListenerSection Read(ModuleSection s, ListenerDefaults d)
    {
        var port = s.GetPort();
        // No host (or an empty one) is the module's default, as Tornado's bind_sockets and CherryPy's '' read it.
        var host = s.GetString(d.HostKey) is { Length: > 0 } given ? given : d.Host;
        var disableSsl = !d.Tls || s.GetBool("disable_ssl", false);
        var (crt, key) = d.Tls ? (s.GetString("ssl_crt"), s.GetString("ssl_key")) : (null, null);
        var chain = d.ChainAndMinVersion ? s.GetString("ssl_chain") : null;
        var minVersion = d.ChainAndMinVersion ? MinVersion(s) : SslProtocols.Tls12 | SslProtocols.Tls13;
        var debug = s.GetBool("debug", false);

        // rest_tornado refuses a gate out of range; rest_cherrypy and rest_wsgi take the nearest value (at least one slot).
        var threadPool = d.RefuseGateOutOfRange ? s.GetInt("thread_pool", d.ThreadPool, 1, 100_000) : Math.Max(1, s.GetInt("thread_pool", d.ThreadPool));
        var queueKey = d.QueueSizeAlias is { } alias && !s.Has("queue_size") ? alias : "queue_size";
        var queueSize = d.RefuseGateOutOfRange ? s.GetInt(queueKey, d.QueueSize, 0, 1_000_000) : Math.Max(0, s.GetInt(queueKey, d.QueueSize));
        var maxConnections = d.MaxConnections ?? Math.Max(1000, 10L * (threadPool + queueSize));
        if (d.MaxConnectionsOption)
        {
            maxConnections = Math.Max(1, s.GetInt("max_connections", (int)Math.Min(maxConnections, int.MaxValue)));
        }

        return new ListenerSection
        {
            ConfigKey = s.ConfigKey,
            Port = port,
            Host = host,
            DisableSsl = disableSsl,
            SslCrt = crt,
            SslKey = key,
            SslChain = chain,
            SslMinVersion = minVersion,
            KeyMayBeInCrt = d.KeyMayBeInCrt,
            Debug = debug,
            ThreadPool = threadPool,
            QueueSize = queueSize,
            MaxRequestBodySize = s.GetSize("max_request_body_size", RequestBodyBudget.DefaultMaxBodySize),
            MaxConnections = maxConnections,
            // Ours: by default half the connections, so that one address can never take every one.
            MaxConnectionsPerAddress = s.GetInt("max_connections_per_address", (int)Math.Clamp(maxConnections / 2, 1, int.MaxValue), min: 1),
            Front = HttpFrontOptions.Read(s),
            OpenApi = s.GetBool("openapi", false),
        };
    }

    private static SslProtocols MinVersion(ModuleSection s)
    {
        switch (s.GetString("ssl_min_version"))
        {
            case null or "" or "1.2" or "TLSv1.2":
                return SslProtocols.Tls12 | SslProtocols.Tls13;
            case "1.3" or "TLSv1.3":
                return SslProtocols.Tls13;
            case var v:
                s.Problem("ssl_min_version", $"must be 1.2 or 1.3, not '{v}'");
                return SslProtocols.Tls12 | SslProtocols.Tls13;
        }
    }
}

/// <summary>A module's own defaults and key names for <see cref="ListenerSection.Bind"/>.</summary>
/// <param name="Host">The bind address when none is given.</param>
/// <param name="ThreadPool">The default of <c>thread_pool</c>.</param>
/// <param name="QueueSize">The default of <c>queue_size</c>.</param>
public sealed record ListenerDefaults(string Host, int ThreadPool, int QueueSize)
{
    /// <summary>The key of the bind address: <c>host</c>, or rest_tornado's <c>address</c>.</summary>
    public string HostKey { get; init; } = "host";

    /// <summary>Whether the module serves TLS (<c>disable_ssl</c>, <c>ssl_crt</c>, <c>ssl_key</c>); Salt's rest_wsgi has none.</summary>
    public bool Tls { get; init; } = true;

    /// <summary>Whether the key may be in the <c>ssl_crt</c> file (Tornado's <c>ssl_options</c>).</summary>
    public bool KeyMayBeInCrt { get; init; }

    /// <summary>Whether <c>ssl_chain</c> and <c>ssl_min_version</c> are read (rest_cherrypy's).</summary>
    public bool ChainAndMinVersion { get; init; }

    /// <summary>Another key for <c>queue_size</c> when that is not given (rest_cherrypy: Salt's <c>socket_queue_size</c>).</summary>
    public string? QueueSizeAlias { get; init; }

    /// <summary>Whether a <c>thread_pool</c> below 1 or a negative <c>queue_size</c> is an error rather than the nearest value.</summary>
    public bool RefuseGateOutOfRange { get; init; }

    /// <summary>Open connections at once when fixed; null: max(1000, 10 × (<c>thread_pool</c> + <c>queue_size</c>)).</summary>
    public long? MaxConnections { get; init; }

    /// <summary>Whether <c>max_connections</c> may set that bound (rest_wsgi's, ours).</summary>
    public bool MaxConnectionsOption { get; init; }
}
