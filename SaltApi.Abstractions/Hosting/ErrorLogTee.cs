using Microsoft.Extensions.Logging;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The module's logger, that also writes its lines at info and above to the error-log file (rest_cherrypy's
/// <c>log_error_file</c>), as CherryPy's <c>LogManager.error</c> writes them: <c>[01/Dec/2026:17:56:56] LEVEL
/// message</c>, then the exception (CherryPy: the traceback). The module's log itself is unchanged.
/// </summary>
internal sealed class ErrorLogTee(ILogger inner, LogLineWriter file) : ILogger
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

        var message = LogSecrets.Line(formatter(state, exception));
        var line = $"{AccessLogLine.Time(DateTime.Now)} {Level(logLevel)} {message}";
        file.Write(exception is null ? line : line + "\n" + LogSecrets.Text(exception.ToString()));
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        _ => "CRITICAL",
    };
}
