using SaltApi.Client.Ssh;
using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Client.Config;

/// <summary>
/// What the client layer reads from the master config: Salt's own options through
/// <see cref="MasterConfig"/>, plus a few of ours under <c>saltapi_client</c> (a key Salt does not have).
/// </summary>
internal sealed record ClientOptions
{
    /// <summary>The master config key of our own options.</summary>
    public const string ConfigKey = "saltapi_client";

    /// <summary>Salt's options.</summary>
    public required MasterConfig Master { get; init; }

    /// <summary><c>saltapi_client.request_threads</c>: threads that own the REQ sockets.</summary>
    public int RequestThreads { get; init; } = Math.Clamp(Environment.ProcessorCount / 2, 1, 4);

    /// <summary><c>saltapi_client.request_sockets</c>: REQ sockets in flight at once, over all threads.</summary>
    public int RequestSockets { get; init; } = 256;

    /// <summary>
    /// <c>saltapi_client.request_socket_idle</c>: seconds a pooled REQ socket may sit unused before it is closed
    /// (a few per thread are always kept). Each open socket holds ~100 KB of NetMQ pipes on both ends.
    /// </summary>
    public double RequestSocketIdle { get; init; } = 10;

    /// <summary>
    /// <c>saltapi_client.request_poller</c>: how a ZeroMQ request thread waits for its sockets: <c>hand</c> (its own
    /// poll over the in-flight sockets only) or <c>netmq</c> (a NetMQPoller over every open socket).
    /// </summary>
    public string RequestPoller { get; init; } = "hand";

    /// <summary>
    /// <c>saltapi_client.request_socket</c>: how ZeroMQ requests reach the master: <c>dealer</c> (one DEALER socket per
    /// request thread, many requests in flight on it, each under its own envelope that the master's REP workers echo)
    /// or <c>req</c> (a pool of REQ sockets, one request in flight on each, as Salt's own client).
    /// </summary>
    public string RequestSocket { get; init; } = "dealer";

    /// <summary><c>saltapi_client.event_queue</c>: events a subscriber may fall behind before it is dropped.</summary>
    public int EventQueue { get; init; } = 10_000;

    /// <summary><c>saltapi_client.job_event_queue</c>: events one waiting call may hold unread.</summary>
    public int JobEventQueue { get; init; } = 100_000;

    /// <summary>
    /// <c>saltapi_client.event_batch_ms</c>: while events keep coming, they are handed to the event streams
    /// (<c>/events</c>, the WebSockets) together at most this often, each stream sending them in one write
    /// (0: each event at once).
    /// </summary>
    public double EventBatchMs { get; init; } = 5;

    /// <summary><c>tcp_keepalive</c>, copied to every REQ socket as Salt does when present (null = OS default).</summary>
    public bool? TcpKeepalive { get; init; }

    /// <summary><c>tcp_keepalive_idle</c>.</summary>
    public int TcpKeepaliveIdle { get; init; } = -1;

    /// <summary><c>tcp_keepalive_intvl</c>.</summary>
    public int TcpKeepaliveIntvl { get; init; } = -1;

    /// <summary>The <c>ssh</c> client's salt-ssh: program, config dir, rosters and bounds.</summary>
    public SshOptions Ssh { get; init; } = new();

    /// <summary>The master's <c>master_job_cache</c> (salt-ssh saves its returns there).</summary>
    public string MasterJobCache { get; init; } = "local_cache";

    /// <summary>The master's <c>permissive_acl</c> (fill_auth_list), for the list-fun gate.</summary>
    public bool PermissiveAcl { get; init; }

    /// <summary>The master's <c>keep_acl_in_token</c> (get_auth_list takes a token's stored auth_list), for the list-fun gate.</summary>
    public bool KeepAclInToken { get; init; }

    /// <summary>The master's <c>eauth_acl_module</c> (the eauth module whose <c>acl</c> replaces external_auth), for the list-fun gate.</summary>
    public string EauthAclModule { get; init; } = "";

    /// <summary>The master's <c>auth.enable_expanded_auth_matching</c> (auth_check_expanded), for the list-fun gate.</summary>
    public bool ExpandedAuthMatching { get; init; }

    /// <summary>
    /// <c>saltapi_client.list_fun_undecided</c>: what becomes of a list-valued fun whose functions the daemon cannot
    /// all decide (an eauth module with its own ACL, groups or targets only the master knows): <c>master</c> publishes
    /// it and the master decides, as Salt; <c>refuse</c> refuses it (401).
    /// </summary>
    public string ListFunUndecided { get; init; } = "master";

    /// <summary>The master's token store (<c>eauth_tokens</c>); <c>localfs</c> keeps one file per token in {cachedir}/tokens.</summary>
    public string EauthTokens { get; init; } = "localfs";

    /// <summary>Per-attempt timeout of runner / wheel / mk_token / get_token (Salt's master_call: 60 s; detect_mode: 1 s).</summary>
    public TimeSpan MasterCallTimeout => Master.DetectMode ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(60);

    /// <summary>
    /// NetapiClient._is_master_running's file: <c>workers.ipc</c> (<c>publish_pull.ipc</c> with <c>transport: tcp</c>)
    /// in sock_dir; null where Salt's check cannot work (Windows, and <c>ipc_mode: tcp</c> where the master creates no such file).
    /// </summary>
    public string? MasterRunningFile =>
        OperatingSystem.IsWindows() || Master.IpcTcp
            ? null
            : Path.Combine(Master.SockDir, string.Equals(Master.Transport, "tcp", StringComparison.OrdinalIgnoreCase) ? "publish_pull.ipc" : "workers.ipc");

    /// <summary>Binds and validates the options; throws one <see cref="ConfigException"/> naming every wrong option.</summary>
    public static ClientOptions From(IReadOnlyDictionary<string, object?> opts) => ConfigException.Bind(opts, Bind);

    /// <summary>Binds the options (the master's included) from the top of a master config; every wrong option is recorded in <paramref name="b"/>'s errors.</summary>
    public static ClientOptions Bind(ConfigBinder b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var opts = b.Values;
        var master = MasterConfig.Bind(b);
        var d = new ClientOptions { Master = master };
        var own = b.Section(ConfigKey);
        var o = new ClientOptions
        {
            Master = master,
            TcpKeepalive = opts.TryGetValue("tcp_keepalive", out var ka) && ka is not null ? PyScalar.Truthy(ka) : null,
            TcpKeepaliveIdle = b.GetInt("tcp_keepalive_idle", -1),
            TcpKeepaliveIntvl = b.GetInt("tcp_keepalive_intvl", -1),
            PermissiveAcl = PyScalar.Truthy(opts.GetValueOrDefault("permissive_acl")),
            KeepAclInToken = PyScalar.Truthy(opts.GetValueOrDefault("keep_acl_in_token")),
            EauthAclModule = opts.GetValueOrDefault("eauth_acl_module") as string ?? "",
            ExpandedAuthMatching = PyScalar.Truthy(opts.GetValueOrDefault("auth.enable_expanded_auth_matching")),
            EauthTokens = opts.GetValueOrDefault("eauth_tokens") as string ?? "localfs",
            MasterJobCache = opts.GetValueOrDefault("master_job_cache") as string ?? "local_cache",
            RequestThreads = own.GetInt("request_threads", d.RequestThreads, 1, 64),
            RequestSockets = own.GetInt("request_sockets", d.RequestSockets, 1, 65536),
            RequestSocketIdle = own.GetNumber("request_socket_idle", d.RequestSocketIdle, 0, 86400),
            EventQueue = own.GetInt("event_queue", d.EventQueue, 16),
            RequestPoller = OneOf(own, "request_poller", d.RequestPoller, "hand", "netmq"),
            RequestSocket = OneOf(own, "request_socket", d.RequestSocket, "dealer", "req"),
            JobEventQueue = own.GetInt("job_event_queue", d.JobEventQueue, 16),
            EventBatchMs = own.GetNumber("event_batch_ms", d.EventBatchMs, 0, 1000),
            Ssh = SshOptions.Bind(b, own),
            ListFunUndecided = OneOf(own, "list_fun_undecided", d.ListFunUndecided, "master", "refuse"),
        };

        // As salt.transport.request_client: a request channel exists only for these two.
        if (o.Master.Transport is not ("zeromq" or "tcp"))
        {
            b.Problem("transport", $"must be zeromq or tcp, not '{o.Master.Transport}'");
        }

        return o;
    }

    // A string option with a few allowed values; anything else (another type included) is a problem.
    private static string OneOf(ConfigBinder b, string key, string fallback, string a, string c)
    {
        if (!b.Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        if (v is string s && (s == a || s == c))
        {
            return s;
        }

        b.Problem(key, $"must be {a} or {c}, not {ConfigBinder.Show(v)}");
        return fallback;
    }
}
