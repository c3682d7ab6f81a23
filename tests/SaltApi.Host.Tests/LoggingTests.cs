using Microsoft.Extensions.Logging;
using SaltApi.Host.Logging;

namespace SaltApi.Host.Tests;

public class LoggingTests
{
    private sealed class ListSink : ILogSink
    {
        public List<string> Lines { get; } = [];

        public void Write(string line) => Lines.Add(line);

        public void Dispose()
        {
        }
    }

    [Fact]
    public void Salts_console_format()
    {
        var f = new LogFormat("[%(levelname)-8s] %(message)s", "%H:%M:%S");
        Assert.Equal("[WARNING ] hello", f.Format(new LogRecord(DateTime.Now, LogLevel.Warning, "x", "hello", null)));
        Assert.Equal("[CRITICAL] boom", f.Format(new LogRecord(DateTime.Now, LogLevel.Critical, "x", "boom", null)));
        Assert.Equal("[INFO    ] hi", f.Format(new LogRecord(DateTime.Now, LogLevel.Information, "x", "hi", null)));
    }

    [Fact]
    public void Salts_logfile_format()
    {
        var f = new LogFormat("%(asctime)s,%(msecs)03d [%(name)-17s:%(lineno)-4d][%(levelname)-8s][%(process)d] %(message)s", "%Y-%m-%d %H:%M:%S");
        var t = new DateTime(2026, 11, 26, 17, 9, 20, 7);
        Assert.Equal(
            $"2026-11-26 17:09:20,007 [rest_wsgi        :0   ][ERROR   ][{Environment.ProcessId}] bad 100%",
            f.Format(new LogRecord(t, LogLevel.Error, "rest_wsgi", "bad 100%", null)));
    }

    [Fact]
    public void Literal_percent_and_unknown_fields()
    {
        var f = new LogFormat("%% %(nope)s %(message)5s|%(message)-5s|%(levelno)03d", "");
        Assert.Equal("% %(nope)    ab|ab   |030", f.Format(new LogRecord(DateTime.Now, LogLevel.Warning, "n", "ab", null)));
    }

    [Fact]
    public void Exceptions_follow_the_message()
    {
        var f = new LogFormat("%(message)s", "");
        var line = f.Format(new LogRecord(DateTime.Now, LogLevel.Error, "n", "failed", new InvalidOperationException("why")));
        Assert.StartsWith("failed\nSystem.InvalidOperationException: why", line);
    }

    [Theory]
    [InlineData("all", LogLevel.Trace)]
    [InlineData("garbage", LogLevel.Trace)]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("profile", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("warning", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    [InlineData("critical", LogLevel.Critical)]
    [InlineData("quiet", LogLevel.None)]
    public void Salt_level_names(string name, LogLevel level)
    {
        Assert.True(SaltLogLevels.TryParse(name, out var parsed));
        Assert.Equal(level, parsed);
    }

    [Fact]
    public void Levels_and_granular_levels_filter()
    {
        var sink = new ListSink();
        var granular = new Dictionary<string, LogLevel> { ["rest_wsgi"] = LogLevel.Debug, ["salt-api.plugins"] = LogLevel.Error };
        using var provider = new SaltLoggerProvider(sink, LogLevel.Warning, new LogFormat("%(name)s %(message)s", ""), granular);
        provider.CreateLogger("salt-api").LogInformation("hidden");
        provider.CreateLogger("salt-api").LogWarning("shown");
        provider.CreateLogger("rest_wsgi").LogDebug("module debug");
        provider.CreateLogger("rest_wsgi.access").LogDebug("child debug");
        provider.CreateLogger("salt-api.plugins").LogWarning("hidden too");
        provider.CreateLogger("quiet").Log(LogLevel.None, "never");
        Assert.Equal(["salt-api shown", "rest_wsgi module debug", "rest_wsgi.access child debug"], sink.Lines);
    }

    [Fact]
    public void File_sink_appends_and_reopens_after_rotation()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-log-").FullName;
        try
        {
            var path = Path.Combine(dir, "sub", "api");
            using var sink = FileSink.Open(path);
            sink.Write("one");
            File.Move(path, path + ".1");
            sink.Write("two");
            sink.Reopen();
            sink.Write("three");
            Assert.Equal("one\ntwo\n", File.ReadAllText(path + ".1"));
            Assert.Equal("three\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
