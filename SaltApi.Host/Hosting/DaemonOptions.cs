using Microsoft.Extensions.Logging;
using SaltApi.Host.Cli;
using SaltApi.Host.Configuration;
using SaltApi.Host.Logging;
using SaltApi.Protocol.Config;

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

    /// <summary>Binds and validates; a wrong value throws <see cref="ConfigFileException"/> naming its file, line and key.</summary>
    public static DaemonOptions From(LoadedConfig config, CommandLine cli)
    {
        var opts = config.Options;
        try
        {
            var consoleLevelName = cli.LogLevel ?? ConfigValues.GetString(opts, "log_level", MasterConfigLoader.DefaultLogLevel);
            if (!SaltLogLevels.TryParse(consoleLevelName, out var consoleLevel))
            {
                throw config.Error("log_level", $"unknown log level '{consoleLevelName}' (one of {string.Join(", ", SaltLogLevels.Names)})");
            }

            var fileLevelName = cli.LogFileLevel ?? ConfigValues.GetString(opts, "log_level_logfile", consoleLevelName);
            if (!SaltLogLevels.TryParse(fileLevelName, out var fileLevel))
            {
                throw config.Error("log_level_logfile", $"unknown log level '{fileLevelName}' (one of {string.Join(", ", SaltLogLevels.Names)})");
            }

            var granular = new Dictionary<string, LogLevel>(StringComparer.Ordinal);
            foreach (var (name, value) in ConfigValues.GetMap(opts, "log_granular_levels"))
            {
                granular[name] = value is string s && SaltLogLevels.TryParse(s, out var l)
                    ? l
                    : throw config.Error("log_granular_levels." + name, "expected a log level name");
            }

            var pluginDirs = ConfigValues.GetStringList(opts, MasterConfigLoader.PluginDirsKey);
            var embedded = opts.TryGetValue(SaltApi.EmbeddedMaster.SaltMaster.ConfigKey, out var em) && em is not false;
            if (embedded && em is not null and not true and not IReadOnlyDictionary<string, object?>)
            {
                throw config.Error(SaltApi.EmbeddedMaster.SaltMaster.ConfigKey, "expected a map of embedded master options");
            }

            var logFile = Absolute(cli.LogFile) ?? ConfigValues.GetString(opts, "api_logfile", MasterConfigLoader.DefaultLogFile);
            SyslogTarget? syslog = null;
            if (SyslogTarget.IsUrl(logFile))
            {
                try
                {
                    syslog = SyslogTarget.Parse(logFile);
                }
                catch (FormatException e)
                {
                    throw config.Error("api_logfile", e.Message);
                }
            }

            return new DaemonOptions
            {
                PidFile = Absolute(cli.PidFile) ?? ConfigValues.GetString(opts, "api_pidfile", MasterConfigLoader.DefaultPidFile),
                LogFile = logFile,
                Syslog = syslog,
                ConsoleLevel = consoleLevel,
                FileLevel = fileLevel,
                ConsoleFormat = ConfigValues.GetString(opts, "log_fmt_console", MasterConfigLoader.DefaultConsoleFormat),
                FileFormat = ConfigValues.GetString(opts, "log_fmt_logfile", MasterConfigLoader.DefaultFileFormat),
                ConsoleDateFormat = ConfigValues.GetString(opts, "log_datefmt", MasterConfigLoader.DefaultConsoleDateFormat),
                FileDateFormat = ConfigValues.GetString(opts, "log_datefmt_logfile", MasterConfigLoader.DefaultFileDateFormat),
                GranularLevels = granular,
                PluginDirs = pluginDirs,
                User = ConfigValues.GetString(opts, "user", Environment.UserName),
                EmbeddedMaster = embedded,
                Master = MasterConfig.From(opts),
                Ops = SaltApi.Host.Ops.OpsOptions.From(opts),
            };
        }
        catch (ConfigException e)
        {
            throw config.Error(e.Key, e.Message[(e.Key.Length + 2)..]);
        }
    }

    // spec/06 §1: "a bare file name means ./name"; a syslog URL is not a path.
    private static string? Absolute(string? path) => path is null || SyslogTarget.IsUrl(path) ? path : Path.GetFullPath(path);
}
