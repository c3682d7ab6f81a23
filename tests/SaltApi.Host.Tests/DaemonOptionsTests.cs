using Microsoft.Extensions.Logging;
using SaltApi.Host.Cli;
using SaltApi.Host.Configuration;
using SaltApi.Host.Hosting;

namespace SaltApi.Host.Tests;

public sealed class DaemonOptionsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-options-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private LoadedConfig Load(string master)
    {
        File.WriteAllText(Path.Combine(dir, "master"), master);
        return MasterConfigLoader.Load(Path.Combine(dir, "master"), n => n == "HOME" ? "/nonexistent-home" : null);
    }

    [Fact]
    public void Flag_then_config_then_default()
    {
        var config = Load("log_level: info\nlog_level_logfile: error\napi_pidfile: /run/a.pid\n");
        var fromConfig = DaemonOptions.From(config, new CommandLine());
        Assert.Equal(LogLevel.Information, fromConfig.ConsoleLevel);
        Assert.Equal(LogLevel.Error, fromConfig.FileLevel);
        Assert.Equal("/run/a.pid", fromConfig.PidFile);
        Assert.Equal("/var/log/salt/api", fromConfig.LogFile);

        var fromFlags = DaemonOptions.From(config, new CommandLine { LogLevel = "debug", LogFileLevel = "critical", PidFile = "/run/b.pid", LogFile = "/tmp/x.log" });
        Assert.Equal(LogLevel.Debug, fromFlags.ConsoleLevel);
        Assert.Equal(LogLevel.Critical, fromFlags.FileLevel);
        Assert.Equal("/run/b.pid", fromFlags.PidFile);
        Assert.Equal("/tmp/x.log", fromFlags.LogFile);

        // The file level defaults to the console level (spec/06 §1).
        var defaults = DaemonOptions.From(Load("a: 1\n"), new CommandLine { LogLevel = "trace" });
        Assert.Equal(LogLevel.Trace, defaults.FileLevel);
        Assert.Equal(LogLevel.Warning, DaemonOptions.From(Load("a: 1\n"), new CommandLine()).ConsoleLevel);
    }

    [Fact]
    public void A_bare_log_file_name_is_in_the_working_directory() =>
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "api.log"), DaemonOptions.From(Load("a: 1\n"), new CommandLine { LogFile = "api.log" }).LogFile);

    [Theory]
    [InlineData("a: 1\nlog_level: loud\n", "log_level", 2)]
    [InlineData("ret_port: 99999\n", "ret_port", 1)]
    [InlineData("timeout: soon\n", "timeout", 1)]
    [InlineData("x: 1\nnetapi_plugin_dirs: {a: b}\n", "netapi_plugin_dirs", 2)]
    [InlineData("embedded_master: 5\n", "embedded_master", 1)]
    [InlineData("log_granular_levels:\n  salt: 3\n", "log_granular_levels.salt", 2)]
    public void Wrong_values_name_file_line_and_key(string master, string key, int line)
    {
        var e = Assert.Throws<ConfigFileException>(() => DaemonOptions.From(Load(master), new CommandLine()));
        Assert.Equal(Path.Combine(dir, "master"), e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void Embedded_master_is_enabled_by_its_section()
    {
        Assert.True(DaemonOptions.From(Load("embedded_master:\n  minions: 2\n"), new CommandLine()).EmbeddedMaster);
        Assert.True(DaemonOptions.From(Load("embedded_master:\n"), new CommandLine()).EmbeddedMaster);
        Assert.False(DaemonOptions.From(Load("embedded_master: false\n"), new CommandLine()).EmbeddedMaster);
        Assert.False(DaemonOptions.From(Load("a: 1\n"), new CommandLine()).EmbeddedMaster);
    }

    [Fact]
    public void Sock_dir_checks_beside_a_real_master()
    {
        var logged = new List<string>();
        var log = new ListLogger(logged);
        var missing = DaemonOptions.From(Load($"sock_dir: {dir}/nope\n"), new CommandLine()).Master;
        MasterHostChecks.CheckSockDir(missing, "salt", log);
        Assert.Contains(logged, l => l.StartsWith($"Warning: sock_dir {dir}/nope does not exist", StringComparison.Ordinal));

        logged.Clear();
        Directory.CreateDirectory(Path.Combine(dir, "sock"));
        var noSocket = DaemonOptions.From(Load($"sock_dir: {dir}/sock\n"), new CommandLine()).Master;
        MasterHostChecks.CheckSockDir(noSocket, "salt", log);
        Assert.Contains(logged, l => l.Contains("master_event_pub.ipc does not exist: is the salt-master running?", StringComparison.Ordinal));

        // The bus socket is there, but not the file NetapiClient checks for liveness.
        logged.Clear();
        File.WriteAllText(Path.Combine(dir, "sock", "master_event_pub.ipc"), "");
        MasterHostChecks.CheckSockDir(noSocket, "salt", log);
        Assert.Contains(logged, l => l.StartsWith($"Warning: {dir}/sock/workers.ipc does not exist: requests will answer \"Salt Master is not available.\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "sock", "workers.ipc"), "");
        logged.Clear();
        MasterHostChecks.CheckSockDir(noSocket, "salt", log);
        Assert.DoesNotContain(logged, l => l.StartsWith("Warning", StringComparison.Ordinal));

        // ipc_mode tcp: the bus is on 4512/4513, sock_dir is not used for it.
        logged.Clear();
        var tcp = DaemonOptions.From(Load($"sock_dir: {dir}/sock\nipc_mode: tcp\n"), new CommandLine()).Master;
        MasterHostChecks.CheckSockDir(tcp, "salt", log);
        Assert.DoesNotContain(logged, l => l.StartsWith("Warning", StringComparison.Ordinal));
    }

    private sealed class ListLogger(List<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
