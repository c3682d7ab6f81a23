using SaltApi.Client.Ssh;
using SaltApi.Protocol.Config;

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
        OperatingSystem.IsWindows() || string.Equals(Master.IpcMode, "tcp", StringComparison.OrdinalIgnoreCase)
            ? null
            : Path.Combine(Master.SockDir, string.Equals(Master.Transport, "tcp", StringComparison.OrdinalIgnoreCase) ? "publish_pull.ipc" : "workers.ipc");

    /// <summary>Binds and validates the options.</summary>
    public static ClientOptions From(IReadOnlyDictionary<string, object?> opts)
    {
        var own = ConfigValues.GetMap(opts, ConfigKey);
        var o = new ClientOptions
        {
            Master = MasterConfig.From(opts),
            TcpKeepalive = opts.TryGetValue("tcp_keepalive", out var ka) && ka is not null ? ConfigValues.Truthy(ka) : null,
            TcpKeepaliveIdle = ConfigValues.GetInt(opts, "tcp_keepalive_idle", -1),
            TcpKeepaliveIntvl = ConfigValues.GetInt(opts, "tcp_keepalive_intvl", -1),
            PermissiveAcl = ConfigValues.Truthy(opts.GetValueOrDefault("permissive_acl")),
            KeepAclInToken = ConfigValues.Truthy(opts.GetValueOrDefault("keep_acl_in_token")),
            EauthAclModule = opts.GetValueOrDefault("eauth_acl_module") as string ?? "",
            ExpandedAuthMatching = ConfigValues.Truthy(opts.GetValueOrDefault("auth.enable_expanded_auth_matching")),
            EauthTokens = opts.GetValueOrDefault("eauth_tokens") as string ?? "localfs",
            MasterJobCache = opts.GetValueOrDefault("master_job_cache") as string ?? "local_cache",
        };
        o = o with
        {
            RequestThreads = ConfigValues.GetInt(own, "request_threads", o.RequestThreads, ConfigKey),
            RequestSockets = ConfigValues.GetInt(own, "request_sockets", o.RequestSockets, ConfigKey),
            RequestSocketIdle = ConfigValues.GetSeconds(own, "request_socket_idle", o.RequestSocketIdle, ConfigKey),
            EventQueue = ConfigValues.GetInt(own, "event_queue", o.EventQueue, ConfigKey),
            RequestPoller = own.GetValueOrDefault("request_poller") as string ?? o.RequestPoller,
            RequestSocket = own.TryGetValue("request_socket", out var rs) && rs is not null ? rs as string ?? "" : o.RequestSocket,
            JobEventQueue = ConfigValues.GetInt(own, "job_event_queue", o.JobEventQueue, ConfigKey),
            EventBatchMs = ConfigValues.GetSeconds(own, "event_batch_ms", o.EventBatchMs, ConfigKey),
            Ssh = SshOptions.From(opts, own, ConfigKey),
            ListFunUndecided = own.TryGetValue("list_fun_undecided", out var lfu) && lfu is not null ? lfu as string ?? "" : o.ListFunUndecided,
        };
        if (o.RequestThreads is < 1 or > 64)
        {
            throw new ConfigException($"{ConfigKey}.request_threads", "must be between 1 and 64");
        }

        if (o.RequestSockets is < 1 or > 65536)
        {
            throw new ConfigException($"{ConfigKey}.request_sockets", "must be between 1 and 65536");
        }

        if (o.RequestSocketIdle is < 0 or > 86400 || double.IsNaN(o.RequestSocketIdle))
        {
            throw new ConfigException($"{ConfigKey}.request_socket_idle", "must be between 0 and 86400 (seconds)");
        }

        if (o.RequestPoller is not ("hand" or "netmq"))
        {
            throw new ConfigException($"{ConfigKey}.request_poller", "must be hand or netmq");
        }

        if (o.RequestSocket is not ("dealer" or "req"))
        {
            throw new ConfigException($"{ConfigKey}.request_socket", "must be dealer or req");
        }

        if (o.ListFunUndecided is not ("master" or "refuse"))
        {
            throw new ConfigException($"{ConfigKey}.list_fun_undecided", "must be master or refuse");
        }

        // As salt.transport.request_client: a request channel exists only for these two.
        if (o.Master.Transport is not ("zeromq" or "tcp"))
        {
            throw new ConfigException("transport", "must be zeromq or tcp");
        }

        if (o.EventBatchMs is < 0 or > 1000 || double.IsNaN(o.EventBatchMs))
        {
            throw new ConfigException($"{ConfigKey}.event_batch_ms", "must be between 0 and 1000 (milliseconds)");
        }

        if (o.EventQueue < 16 || o.JobEventQueue < 16)
        {
            throw new ConfigException(ConfigKey, "event queues must hold at least 16 events");
        }

        return o;
    }
}
