using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The module's logger, that also writes its lines at info and above to the error-log file (rest_cherrypy's
/// <c>log_error_file</c>), as CherryPy's <c>LogManager.error</c> writes them: <c>[01/Dec/2026:17:56:56] LEVEL
/// message</c>, then the exception (CherryPy: the traceback). The module's log itself is unchanged.
/// </summary>
internal sealed partial class ErrorLogTee(ILogger inner, LogLineWriter file) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Information and < LogLevel.None || inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (inner.IsEnabled(logLevel))
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }

        if (logLevel is < LogLevel.Information or LogLevel.None)
        {
            return;
        }

        var message = Redact(formatter(state, exception)).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        var line = $"{AccessLogLine.Time(DateTime.Now)} {Level(logLevel)} {message}";
        file.Write(exception is null ? line : line + "\n" + Redact(exception.ToString()));
    }

    /// <summary>Values of token, session and password parameters and the token of <c>/ws/…</c> as <c>***</c>.</summary>
    internal static string Redact(string text)
    {
        try
        {
            return WebSocketPath().Replace(Parameter().Replace(text, "$1***"), "$1***");
        }
        catch (RegexMatchTimeoutException)
        {
            return "[a line that could not be checked for secrets was left out]";
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        _ => "CRITICAL",
    };

    [GeneratedRegex(@"((?:salt_)?token=|session_id=|password=|passwd=)[^&;\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex Parameter();

    [GeneratedRegex(@"(/(?:ws|all_events|formatted_events)/)[^/?\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex WebSocketPath();
}
