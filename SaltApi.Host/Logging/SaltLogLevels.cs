using Microsoft.Extensions.Logging;

namespace SaltApi.Host.Logging;

/// <summary>Salt's log level names (salt._logging.impl.LOG_LEVELS) and their Microsoft.Extensions.Logging levels.</summary>
internal static class SaltLogLevels
{
    /// <summary>The names in the order Salt's help text lists them (by numeric level).</summary>
    public static readonly string[] Names = ["all", "garbage", "trace", "debug", "profile", "info", "warning", "error", "critical", "quiet"];

    /// <summary>The level a name stands for: all/garbage/trace → Trace, profile → Debug, quiet → None.</summary>
    public static bool TryParse(string? name, out LogLevel level)
    {
        level = name?.ToLowerInvariant() switch
        {
            "all" or "garbage" or "trace" => LogLevel.Trace,
            "debug" or "profile" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warning" or "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "critical" => LogLevel.Critical,
            "quiet" => LogLevel.None,
            _ => (LogLevel)(-1),
        };
        return (int)level >= 0;
    }

    /// <summary>Python's levelname for a record of this level.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "NOTSET",
    };
}
