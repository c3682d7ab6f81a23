using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Host.Logging;

/// <summary>Where formatted log lines go.</summary>
internal interface ILogSink : IDisposable
{
    void Write(string line);

    /// <summary>A line of a record at <paramref name="level"/> (syslog puts it in the priority).</summary>
    void Write(LogLevel level, string line) => Write(line);
}

/// <summary>Salt's console handler: stderr.</summary>
internal sealed class ConsoleSink : ILogSink
{
    private readonly TextWriter writer;
    private readonly Lock gate = new();

    public ConsoleSink(TextWriter? writer = null) => this.writer = writer ?? Console.Error;

    public void Write(string line)
    {
        lock (gate)
        {
            writer.Write(line);
            writer.Write('\n');
            writer.Flush();
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>Salt's log file handler: appends; <see cref="Reopen"/> (on SIGHUP) lets logrotate move the file away.</summary>
internal sealed class FileSink : ILogSink
{
    private readonly string path;
    private readonly Lock gate = new();
    private StreamWriter? writer;

    private FileSink(string path, StreamWriter writer)
    {
        this.path = path;
        this.writer = writer;
    }

    /// <summary>The file path.</summary>
    public string Path => path;

    /// <summary>Opens (creating its directory) the log file for appending; throws on permission problems.</summary>
    public static FileSink Open(string path) => new(path, OpenWriter(path));

    private static StreamWriter OpenWriter(string path)
    {
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public void Write(string line)
    {
        lock (gate)
        {
            if (writer is null)
            {
                return;
            }

            writer.Write(line);
            writer.Write('\n');
        }
    }

    /// <summary>Closes and reopens the file by its path.</summary>
    public void Reopen()
    {
        var fresh = OpenWriter(path);
        lock (gate)
        {
            writer?.Dispose();
            writer = fresh;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            writer?.Dispose();
            writer = null;
        }
    }
}

/// <summary>
/// A logger provider with Salt's levels and format for one handler (console or file). Per-logger levels
/// (<c>log_granular_levels</c>) apply by the longest matching dotted prefix, as Python's logger tree does.
/// </summary>
internal sealed class SaltLoggerProvider(ILogSink sink, LogLevel level, LogFormat format, IReadOnlyDictionary<string, LogLevel>? granular = null) : ILoggerProvider
{
    public LogLevel Level { get; } = level;

    public ILogSink Sink { get; } = sink;

    public LogFormat Format { get; } = format;

    public ILogger CreateLogger(string categoryName) => new SaltLogger(this, categoryName, LevelFor(categoryName));

    private LogLevel LevelFor(string name) =>
        granular?.Keys.Where(key => name == key || name.StartsWith(key + ".", StringComparison.Ordinal)).MaxBy(key => key.Length) is { } best
            ? granular[best]
            : Level;

    public void Dispose() => Sink.Dispose();

    private sealed class SaltLogger(SaltLoggerProvider provider, string name, LogLevel level) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var record = new LogRecord(DateTime.Now, logLevel, name, LogSecrets.Line(formatter(state, exception)), exception);
            provider.Sink.Write(logLevel, provider.Format.Format(record));
        }
    }
}
