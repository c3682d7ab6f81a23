using SaltApi.PythonValues;

namespace SaltApi.Protocol.Config;

/// <summary>
/// The master options that both sides of the wire need (spec/06 §3): where the request channel and
/// the event bus are, and the timeouts and auth settings salt-api uses. Bound from the master config;
/// unknown keys are ignored, as Salt does. The initialisers below are the one place these options'
/// defaults are written: <see cref="From"/> falls back to <see cref="Defaults"/>, and the host's config
/// loader fills the loaded opts from it.
/// </summary>
public sealed record MasterConfig
{
    private readonly string? masterUri;

    /// <summary>Every option at Salt's default.</summary>
    public static MasterConfig Defaults { get; } = new();

    /// <summary><c>interface</c>: the address the master binds.</summary>
    public string Interface { get; init; } = "0.0.0.0";

    /// <summary><c>ret_port</c>: the request channel port.</summary>
    public int RetPort { get; init; } = 4506;

    /// <summary><c>sock_dir</c> after Salt's length guard.</summary>
    public string SockDir { get; init; } = "/var/run/salt/master";

    /// <summary><c>cachedir</c>.</summary>
    public string CacheDir { get; init; } = "/var/cache/salt/master";

    /// <summary><c>ipc_mode</c>: <c>ipc</c> (unix sockets) or <c>tcp</c>.</summary>
    public string IpcMode { get; init; } = "ipc";

    /// <summary><c>ipc_mode: tcp</c> (in any case): the bus on 127.0.0.1's tcp_master_pub_port and tcp_master_pull_port.</summary>
    public bool IpcTcp => string.Equals(IpcMode, "tcp", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>tcp_master_pub_port</c>: the bus publish port when <c>ipc_mode: tcp</c>.</summary>
    public int TcpMasterPubPort { get; init; } = 4512;

    /// <summary><c>tcp_master_pull_port</c>: the bus pull port when <c>ipc_mode: tcp</c>.</summary>
    public int TcpMasterPullPort { get; init; } = 4513;

    /// <summary><c>transport</c>.</summary>
    public string Transport { get; init; } = "zeromq";

    /// <summary><c>timeout</c>: seconds before a local job's stragglers are pinged.</summary>
    public int Timeout { get; init; } = 5;

    /// <summary><c>gather_job_timeout</c>.</summary>
    public int GatherJobTimeout { get; init; } = 10;

    /// <summary><c>rest_timeout</c>: seconds a sync runner call waits.</summary>
    public double RestTimeout { get; init; } = 300;

    /// <summary><c>netapi_enable_clients</c>: empty means every client is disabled (3006).</summary>
    public IReadOnlyList<string> NetapiEnableClients { get; init; } = [];

    /// <summary><c>netapi_allow_raw_shell</c>.</summary>
    public bool NetapiAllowRawShell { get; init; }

    /// <summary><c>external_auth</c> as written.</summary>
    public IReadOnlyDictionary<string, object?> ExternalAuth { get; init; } = ConfigBinder.Empty;

    /// <summary><c>token_expire</c> in seconds.</summary>
    public double TokenExpire { get; init; } = 43200;

    /// <summary><c>hash_type</c>, lower-cased.</summary>
    public string HashType { get; init; } = "sha256";

    /// <summary><c>keep_jobs</c>: hours a job stays in the job cache.</summary>
    public double KeepJobs { get; init; } = 24;

    /// <summary><c>detect_mode</c>: forces 1 s request timeouts.</summary>
    public bool DetectMode { get; init; }

    /// <summary><c>max_event_size</c>.</summary>
    public int MaxEventSize { get; init; } = 1048576;

    /// <summary><c>nodegroups</c>.</summary>
    public IReadOnlyDictionary<string, object?> Nodegroups { get; init; } = ConfigBinder.Empty;

    /// <summary><c>conf_file</c>: the main config file (named in LocalClient's nodegroup error).</summary>
    public string ConfFile { get; init; } = "the master config file";

    /// <summary><c>ext_job_cache</c>: a returner LocalClient adds to every publish's <c>ret</c>; empty for none.</summary>
    public string ExtJobCache { get; init; } = "";

    /// <summary><c>order_masters</c>: this master is a master of masters (syndics below it).</summary>
    public bool OrderMasters { get; init; }

    /// <summary><c>syndic_wait</c>: seconds a master of masters waits for its syndics' minion lists.</summary>
    public double SyndicWait { get; init; } = 5;

    /// <summary>The host a client connects to: <c>0.0.0.0</c> → 127.0.0.1, <c>::</c> → ::1 (spec/01 §1).</summary>
    public string ClientHost => Interface switch
    {
        "0.0.0.0" or "" => "127.0.0.1",
        "::" => "::1",
        var other => other,
    };

    /// <summary>
    /// <c>master_uri</c>, the one address every request goes to: as written in the config, else
    /// <see cref="ClientUri"/> of <see cref="ClientHost"/> and <see cref="RetPort"/> (Salt's client_config, spec/01 §1).
    /// </summary>
    public string MasterUri
    {
        get => masterUri ?? ClientUri(ClientHost, RetPort);
        init => masterUri = value;
    }

    /// <summary>
    /// <c>netapi_enable_clients</c> written as one string: its names separated by commas or spaces. Salt tests
    /// <c>client in "local, runner"</c>, a substring test that this list matches for every name written whole.
    /// </summary>
    public static IReadOnlyList<string> ClientList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Salt's derived <c>master_uri</c>: <c>tcp://host:ret_port</c>, IPv6 literals bracketed.</summary>
    public static string ClientUri(string host, int retPort)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Contains(':', StringComparison.Ordinal) ? $"tcp://[{host}]:{retPort}" : $"tcp://{host}:{retPort}";
    }

    /// <summary>The bus socket readers connect to.</summary>
    public string EventPubPath => Path.Combine(SockDir, "master_event_pub.ipc");

    /// <summary>The bus socket firers write to.</summary>
    public string EventPullPath => Path.Combine(SockDir, "master_event_pull.ipc");

    /// <summary>Whose existence says the master runs (NetapiClient's check).</summary>
    public string WorkersPath => Path.Combine(SockDir, "workers.ipc");

    /// <summary>The token store of the localfs backend.</summary>
    public string TokenDir => Path.Combine(CacheDir, "tokens");

    /// <summary>Binds the options from a loaded master config; an absent option takes its value from <see cref="Defaults"/>. Throws one <see cref="ConfigException"/> naming every wrong option.</summary>
    public static MasterConfig From(IReadOnlyDictionary<string, object?> opts) => ConfigException.Bind(opts, Bind);

    /// <summary>Binds the options from the top of a master config; every wrong option is recorded in <paramref name="b"/>'s errors.</summary>
    public static MasterConfig Bind(ConfigBinder b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var opts = b.Values;
        var d = Defaults;
        var cachedir = b.GetString("cachedir", d.CacheDir);
        var sockDir = b.GetString("sock_dir", d.SockDir);
        // Salt's unix-socket path guard (salt/config apply_master_config).
        if (sockDir.Length > cachedir.Length + 10)
        {
            sockDir = Path.Combine(cachedir, ".salt-unix");
        }

        var c = new MasterConfig
        {
            Interface = b.GetString("interface", d.Interface),
            RetPort = b.GetInt("ret_port", d.RetPort, 0, 65535),
            SockDir = sockDir,
            CacheDir = cachedir,
            IpcMode = b.GetString("ipc_mode", d.IpcMode),
            TcpMasterPubPort = b.GetInt("tcp_master_pub_port", d.TcpMasterPubPort),
            TcpMasterPullPort = b.GetInt("tcp_master_pull_port", d.TcpMasterPullPort),
            Transport = b.GetString("transport", d.Transport),
            Timeout = b.GetInt("timeout", d.Timeout),
            GatherJobTimeout = b.GetInt("gather_job_timeout", d.GatherJobTimeout),
            RestTimeout = b.GetNumber("rest_timeout", d.RestTimeout),
            NetapiEnableClients = opts.GetValueOrDefault("netapi_enable_clients") is string clients ? ClientList(clients) : opts.ContainsKey("netapi_enable_clients") ? b.GetList("netapi_enable_clients") ?? [] : d.NetapiEnableClients,
            NetapiAllowRawShell = b.GetBool("netapi_allow_raw_shell", d.NetapiAllowRawShell),
            ExternalAuth = opts.ContainsKey("external_auth") ? b.GetMap("external_auth") ?? ConfigBinder.Empty : d.ExternalAuth,
            TokenExpire = b.GetNumber("token_expire", d.TokenExpire),
            HashType = b.GetString("hash_type", d.HashType).ToLowerInvariant(),
            KeepJobs = b.GetNumber("keep_jobs", d.KeepJobs),
            DetectMode = b.GetBool("detect_mode", d.DetectMode),
            MaxEventSize = b.GetInt("max_event_size", d.MaxEventSize),
            Nodegroups = opts.ContainsKey("nodegroups") ? b.GetMap("nodegroups") ?? ConfigBinder.Empty : d.Nodegroups,
            ConfFile = b.GetString("conf_file", d.ConfFile),
            ExtJobCache = PyScalar.Truthy(opts.GetValueOrDefault("ext_job_cache")) ? b.GetString("ext_job_cache", d.ExtJobCache) : d.ExtJobCache,
            OrderMasters = b.GetBool("order_masters", d.OrderMasters),
            SyndicWait = b.GetNumber("syndic_wait", d.SyndicWait),
        };

        // Salt's client_config keeps a master_uri written in the config; otherwise it is derived (above).
        if (opts.TryGetValue("master_uri", out var uri) && uri is string { Length: > 0 } written)
        {
            c = c with { MasterUri = written };
        }

        return c;
    }
}
