using System.Globalization;
using SaltApi.Client.Config;
using SaltApi.Host.Configuration;
using SaltApi.Protocol.Config;

namespace SaltApi.Host.Tests;

/// <summary>
/// Every master option the daemon and its client layer read, read as Salt's code reads it: booleans by
/// Python's bool() (<c>if opts.get(...)</c>), integers by int(), a string where a list is meant; a quoted
/// false-word that Salt reads as true gets one warning naming the key.
/// </summary>
public sealed class MasterOptionReadingTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-opts-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string, string, string, bool> Table => new()
    {
        // key, YAML as written, the bound value, whether a warning names the key
        { "netapi_allow_raw_shell", "'False'", "True", true },
        { "netapi_allow_raw_shell", "'no'", "True", true },
        { "netapi_allow_raw_shell", "false", "False", false },
        { "netapi_allow_raw_shell", "''", "False", false },
        { "detect_mode", "'0'", "True", true },
        { "detect_mode", "0", "False", false },
        { "order_masters", "'off'", "True", true },
        { "order_masters", "yes", "True", false },
        { "permissive_acl", "'False'", "True", true },
        { "permissive_acl", "[]", "False", false },
        { "tcp_keepalive", "'false'", "True", true },
        { "tcp_keepalive", "False", "False", false },
        { "ext_job_cache", "''", "", false },
        { "ext_job_cache", "redis", "redis", false },
        { "timeout", "'7'", "7", false },
        { "timeout", "7.9", "7", false },
        { "gather_job_timeout", "' 3 '", "3", false },
        { "ret_port", "'4510'", "4510", false },
        { "tcp_master_pub_port", "4_600", "4600", false },
        { "tcp_master_pull_port", "'4601'", "4601", false },
        { "max_event_size", "1048576.0", "1048576", false },
        { "tcp_keepalive_idle", "'300'", "300", false },
        { "tcp_keepalive_intvl", "true", "1", false },
        { "rest_timeout", "'60'", "60", false },
        { "token_expire", "'3600'", "3600", false },
        { "keep_jobs", "'12'", "12", false },
        { "syndic_wait", "'2'", "2", false },
        { "netapi_enable_clients", "[local, runner]", "local|runner", false },
        { "netapi_enable_clients", "local", "local", true },
        { "netapi_enable_clients", "'local, runner'", "local|runner", true },
        { "hash_type", "SHA512", "sha512", false },
        { "transport", "tcp", "tcp", false },
        { "ipc_mode", "tcp", "tcp", false },
        { "interface", "127.0.0.2", "127.0.0.2", false },
        { "master_uri", "tcp://10.0.0.1:4506", "tcp://10.0.0.1:4506", false },
        { "sock_dir", "/run/salt/m", "/run/salt/m", false },
        { "cachedir", "/srv/cache", "/srv/cache", false },
        { "eauth_tokens", "rediscluster", "rediscluster", false },
        { "log_level", "'info'", "Information", false },
        { "log_level_logfile", "debug", "Debug", false },
        { "api_pidfile", "/run/salt-api.pid", "/run/salt-api.pid", false },
        { "api_logfile", "/var/log/salt/api2", "/var/log/salt/api2", false },
        { "log_fmt_console", "'%(message)s'", "%(message)s", false },
        { "log_datefmt", "'%H:%M'", "%H:%M", false },
        { "user", "12", "12", false },
        { "netapi_plugin_dirs", "/srv/plugins", "/srv/plugins", false },
        { "netapi_plugin_dirs", "[/a, /b]", "/a|/b", false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_option_reads_as_salt_reads_it(string key, string yaml, string expected, bool warned)
    {
        var main = Path.Combine(dir, "master");
        File.WriteAllText(main, $"{key}: {yaml}\n");
        var config = MasterConfigLoader.Load(main, name => name == "HOME" ? "/nonexistent-home" : null);
        var client = ClientOptions.From(config.Options);
        var daemon = Hosting.DaemonOptions.From(config, new Cli.CommandLine());
        var m = client.Master;
        string actual = key switch
        {
            "netapi_allow_raw_shell" => m.NetapiAllowRawShell.ToString(),
            "detect_mode" => m.DetectMode.ToString(),
            "order_masters" => m.OrderMasters.ToString(),
            "permissive_acl" => client.PermissiveAcl.ToString(),
            "tcp_keepalive" => client.TcpKeepalive.ToString()!,
            "ext_job_cache" => m.ExtJobCache,
            "timeout" => m.Timeout.ToString(CultureInfo.InvariantCulture),
            "gather_job_timeout" => m.GatherJobTimeout.ToString(CultureInfo.InvariantCulture),
            "ret_port" => m.RetPort.ToString(CultureInfo.InvariantCulture),
            "tcp_master_pub_port" => m.TcpMasterPubPort.ToString(CultureInfo.InvariantCulture),
            "tcp_master_pull_port" => m.TcpMasterPullPort.ToString(CultureInfo.InvariantCulture),
            "max_event_size" => m.MaxEventSize.ToString(CultureInfo.InvariantCulture),
            "tcp_keepalive_idle" => client.TcpKeepaliveIdle.ToString(CultureInfo.InvariantCulture),
            "tcp_keepalive_intvl" => client.TcpKeepaliveIntvl.ToString(CultureInfo.InvariantCulture),
            "rest_timeout" => m.RestTimeout.ToString(CultureInfo.InvariantCulture),
            "token_expire" => m.TokenExpire.ToString(CultureInfo.InvariantCulture),
            "keep_jobs" => m.KeepJobs.ToString(CultureInfo.InvariantCulture),
            "syndic_wait" => m.SyndicWait.ToString(CultureInfo.InvariantCulture),
            "netapi_enable_clients" => string.Join('|', m.NetapiEnableClients),
            "hash_type" => m.HashType,
            "transport" => m.Transport,
            "ipc_mode" => m.IpcMode,
            "interface" => m.Interface,
            "master_uri" => m.MasterUri,
            "sock_dir" => m.SockDir,
            "cachedir" => m.CacheDir,
            "eauth_tokens" => client.EauthTokens,
            "log_level" => daemon.ConsoleLevel.ToString(),
            "log_level_logfile" => daemon.FileLevel.ToString(),
            "api_pidfile" => daemon.PidFile,
            "api_logfile" => daemon.LogFile,
            "log_fmt_console" => daemon.ConsoleFormat,
            "log_datefmt" => daemon.ConsoleDateFormat,
            "user" => daemon.User,
            "netapi_plugin_dirs" => string.Join('|', daemon.PluginDirs),
            _ => throw new InvalidOperationException(key),
        };
        Assert.Equal(expected, actual);
        var warnings = SaltReadingWarnings.For(config).ToList();
        if (warned)
        {
            var warning = Assert.Single(warnings);
            Assert.StartsWith(key + ": ", warning, StringComparison.Ordinal);
            Assert.Contains($"{main}, line 1", warning, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(warnings);
        }
    }
}
