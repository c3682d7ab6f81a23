using Microsoft.Extensions.Logging;
using SaltApi.Host.Cli;
using SaltApi.Host.Configuration;
using SaltApi.Host.Logging;
using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Host.Hosting;

/// <summary>
/// The daemon's own settings, bound from the loaded master config and the command line
/// (a flag given explicitly wins, then the config, then the default: spec/06 §1).
/// </summary>
internal sealed record DaemonOptions
{
    public required string PidFile { get; init; }

    public required string LogFile { get; init; }

    /// <summary>Where log lines go instead of a file when <see cref="LogFile"/> is a syslog URL.</summary>
    public SyslogTarget? Syslog { get; init; }

    public required LogLevel ConsoleLevel { get; init; }

    public required LogLevel FileLevel { get; init; }

    public required string ConsoleFormat { get; init; }

    public required string FileFormat { get; init; }

    public required string ConsoleDateFormat { get; init; }

    public required string FileDateFormat { get; init; }

    public required IReadOnlyDictionary<string, LogLevel> GranularLevels { get; init; }

    public required IReadOnlyList<string> PluginDirs { get; init; }

    public required string User { get; init; }

    public required bool EmbeddedMaster { get; init; }

    public required MasterConfig Master { get; init; }

    /// <summary>The <c>saltapi_ops:</c> listener (health and metrics), or null when not configured.</summary>
    public SaltApi.Host.Ops.OpsOptions? Ops { get; init; }

    /// <summary>What binding read but left aside (a quoted false-word, an unknown key of a section of ours), to log at start.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Binds and validates the daemon's options, the master's, the client layer's, the embedded master's and
    /// <c>saltapi_ops</c>, through one <see cref="ConfigBinder"/>: every wrong value is reported at once, in one
    /// <see cref="ConfigFileException"/> naming each one's file, line and key.
    /// </summary>
    public static DaemonOptions From(LoadedConfig config, CommandLine cli)
    {
        var b = new ConfigBinder(config.Options);
        var options = Bind(b, cli);
        if (b.Errors.Count > 0)
        {
            throw config.Error(b.Errors);
        }

        return options with { Warnings = b.Warnings.Select(w => w.ToString()).ToList() };
    }

    /// <summary>The plugin folders configured, read leniently (for a daemon that refuses its config and still checks the modules' sections).</summary>
    public static IReadOnlyList<string> PluginDirsOf(LoadedConfig config) => new ConfigBinder(config.Options).GetList(MasterConfigLoader.PluginDirsKey) ?? [];

    private static DaemonOptions Bind(ConfigBinder b, CommandLine cli)
    {
        LogLevel Level(string key, string name)
        {
            if (!SaltLogLevels.TryParse(name, out var level))
            {
                b.Problem(key, $"unknown log level '{name}' (one of {string.Join(", ", SaltLogLevels.Names)})");
            }

            return level;
        }

        var consoleLevel = Level("log_level", cli.LogLevel ?? b.GetString("log_level", MasterConfigLoader.DefaultLogLevel));
        // log_level_logfile defaults to log_level: a wrong log_level is reported once, under its own key.
        var fileLevelName = cli.LogFileLevel ?? b.GetString("log_level_logfile");
        var fileLevel = fileLevelName is null ? consoleLevel : Level("log_level_logfile", fileLevelName);

        var granular = new Dictionary<string, LogLevel>(StringComparer.Ordinal);
        var granularSection = b.Section("log_granular_levels");
        foreach (var (name, value) in granularSection.Values)
        {
            if (value is string s && SaltLogLevels.TryParse(s, out var l))
            {
                granular[name] = l;
            }
            else
            {
                granularSection.Problem(name, $"expected a log level name, not {ConfigBinder.Show(value)}");
            }
        }

        var pluginDirs = b.GetList(MasterConfigLoader.PluginDirsKey) ?? [];
        var embedded = b.Values.TryGetValue(SaltApi.EmbeddedMaster.SaltMaster.ConfigKey, out var em) && em is not false;
        if (embedded && em is not null and not true and not IReadOnlyDictionary<string, object?>)
        {
            b.Problem(SaltApi.EmbeddedMaster.SaltMaster.ConfigKey, $"expected a map of embedded master options, not {ConfigBinder.Show(em)}");
        }
        else if (embedded)
        {
            SaltApi.EmbeddedMaster.SaltMaster.CheckOptions(b);
        }

        var logFile = Absolute(cli.LogFile) ?? b.GetString("api_logfile", MasterConfigLoader.DefaultLogFile);
        SyslogTarget? syslog = null;
        if (SyslogTarget.IsUrl(logFile))
        {
            try
            {
                syslog = SyslogTarget.Parse(logFile);
            }
            catch (FormatException e)
            {
                b.Problem("api_logfile", e.Message);
            }
        }

        var master = SaltApi.Client.SaltClientLayer.CheckOptions(b);
        return new DaemonOptions
        {
            PidFile = Absolute(cli.PidFile) ?? b.GetString("api_pidfile", MasterConfigLoader.DefaultPidFile),
            LogFile = logFile,
            Syslog = syslog,
            ConsoleLevel = consoleLevel,
            FileLevel = fileLevel,
            ConsoleFormat = b.GetString("log_fmt_console", MasterConfigLoader.DefaultConsoleFormat),
            FileFormat = b.GetString("log_fmt_logfile", MasterConfigLoader.DefaultFileFormat),
            ConsoleDateFormat = b.GetString("log_datefmt", MasterConfigLoader.DefaultConsoleDateFormat),
            FileDateFormat = b.GetString("log_datefmt_logfile", MasterConfigLoader.DefaultFileDateFormat),
            GranularLevels = granular,
            PluginDirs = pluginDirs,
            User = b.GetString("user", Environment.UserName),
            EmbeddedMaster = embedded,
            Master = master,
            Ops = SaltApi.Host.Ops.OpsOptions.Bind(b),
        };
    }

    // spec/06 §1: "a bare file name means ./name"; a syslog URL is not a path.
    private static string? Absolute(string? path) => path is null || SyslogTarget.IsUrl(path) ? path : Path.GetFullPath(path);
}
