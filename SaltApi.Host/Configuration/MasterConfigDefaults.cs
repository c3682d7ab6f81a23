using SaltApi.Protocol.Config;

namespace SaltApi.Host.Configuration;

/// <summary>The defaults the loader applies; the master options among them come from <see cref="MasterConfig.Defaults"/>.</summary>
internal static partial class MasterConfigLoader
{
    /// <summary>
    /// DEFAULT_API_OPTS + the DEFAULT_MASTER_OPTS the daemon and its modules read. The options
    /// <see cref="MasterConfig"/> binds take their defaults from it (one place), written as YAML would load them.
    /// </summary>
    internal static IEnumerable<KeyValuePair<string, object?>> Defaults(Func<string, string?> env)
    {
        static KeyValuePair<string, object?> D(string k, object? v) => new(k, v);
        var m = MasterConfig.Defaults;
        return
        [
            D("root_dir", "/"),
            D("interface", m.Interface),
            D("ret_port", (long)m.RetPort),
            D("publish_port", 4505L),
            D("ipv6", null),
            D("user", env("USER") is { Length: > 0 } u ? u : Environment.UserName),
            D("pki_dir", "/etc/salt/pki/master"),
            D("cachedir", m.CacheDir),
            D("sock_dir", m.SockDir),
            D("extension_modules", null),
            D("ipc_mode", m.IpcMode),
            D("tcp_master_pub_port", (long)m.TcpMasterPubPort),
            D("tcp_master_pull_port", (long)m.TcpMasterPullPort),
            D("transport", m.Transport),
            D("timeout", (long)m.Timeout),
            D("gather_job_timeout", (long)m.GatherJobTimeout),
            Seconds("rest_timeout", m.RestTimeout),
            Seconds("keep_jobs", m.KeepJobs),
            D("netapi_enable_clients", m.NetapiEnableClients.Cast<object?>().ToList()),
            D("netapi_allow_raw_shell", m.NetapiAllowRawShell),
            D("external_auth", new OrderedDictionary<string, object?>(m.ExternalAuth, StringComparer.Ordinal)),
            Seconds("token_expire", m.TokenExpire),
            D("token_expire_user_override", false),
            D("keep_acl_in_token", false),
            D("eauth_tokens", "localfs"),
            D("hash_type", m.HashType),
            D("order_masters", m.OrderMasters),
            Seconds("syndic_wait", m.SyndicWait),
            D("nodegroups", new OrderedDictionary<string, object?>(m.Nodegroups, StringComparer.Ordinal)),
            D("ext_job_cache", m.ExtJobCache),
            D("master_job_cache", "local_cache"),
            D("minion_data_cache", true),
            D("detect_mode", m.DetectMode),
            D("max_event_size", (long)m.MaxEventSize),
            D("event_match_type", "startswith"),
            D("id", null),
            D("default_include", DefaultInclude),
            D("api_pidfile", DefaultPidFile),
            D("api_logfile", DefaultLogFile),
            D("log_level", DefaultLogLevel),
            D("log_level_logfile", null),
            D("log_fmt_console", DefaultConsoleFormat),
            D("log_fmt_logfile", DefaultFileFormat),
            D("log_datefmt", DefaultConsoleDateFormat),
            D("log_datefmt_logfile", DefaultFileDateFormat),
            D("log_granular_levels", new OrderedDictionary<string, object?>()),
            D(PluginDirsKey, new List<object?>()),
        ];
    }

    /// <summary>Salt's <c>default_include</c>.</summary>
    internal const string DefaultInclude = "master.d/*.conf";

    /// <summary>Salt's <c>api_pidfile</c> default.</summary>
    internal const string DefaultPidFile = "/var/run/salt-api.pid";

    /// <summary>Salt's <c>api_logfile</c> default.</summary>
    internal const string DefaultLogFile = "/var/log/salt/api";

    /// <summary>Salt's <c>log_level</c> default.</summary>
    internal const string DefaultLogLevel = "warning";

    /// <summary>Salt's <c>log_fmt_console</c> default.</summary>
    internal const string DefaultConsoleFormat = "[%(levelname)-8s] %(message)s";

    /// <summary>Salt's <c>log_fmt_logfile</c> default.</summary>
    internal const string DefaultFileFormat = "%(asctime)s,%(msecs)03d [%(name)-17s:%(lineno)-4d][%(levelname)-8s][%(process)d] %(message)s";

    /// <summary>Salt's <c>log_datefmt</c> default.</summary>
    internal const string DefaultConsoleDateFormat = "%H:%M:%S";

    /// <summary>Salt's <c>log_datefmt_logfile</c> default.</summary>
    internal const string DefaultFileDateFormat = "%Y-%m-%d %H:%M:%S";

    // A number of seconds as YAML loads it: an int when whole, else a float.
    private static KeyValuePair<string, object?> Seconds(string key, double value) =>
        new(key, value == Math.Floor(value) && Math.Abs(value) < long.MaxValue ? (object)(long)value : value);
}
