using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>The access-log writer never makes a request wait: when its sink is stuck, lines are dropped and counted.</summary>
public class LogLineWriterTests
{
    [Fact]
    public async Task A_stuck_sink_drops_and_counts_instead_of_blocking()
    {
        using var release = new ManualResetEventSlim();
        var sink = new StuckLogger(release);
        var writer = LogLineWriter.ToLogger(sink, "access log", capacity: 4);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var accepted = 0;
            for (var i = 0; i < 1000; i++)
            {
                accepted += writer.Write("line " + i) ? 1 : 0;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), watch.Elapsed.ToString());
            Assert.InRange(accepted, 4, 5);   // the queue, and the line the sink is stuck on
            Assert.Equal(1000 - accepted, writer.Dropped);
        }
        finally
        {
            release.Set();
            await writer.DisposeAsync();
        }

        Assert.Contains(sink.Lines, l => l.Contains("lines were dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lines_reach_the_file_in_order()
    {
        var path = Path.Combine(Path.GetTempPath(), "saltapi-access-" + Guid.NewGuid().ToString("N"), "access.log");
        var writer = LogLineWriter.ToFile(path, new StuckLogger(null), "access log");
        for (var i = 0; i < 100; i++)
        {
            Assert.True(writer.Write("line " + i));
        }

        await writer.DisposeAsync();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "line " + i), File.ReadAllLines(path));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public async Task A_file_moved_away_is_reopened_by_its_path()
    {
        var dir = Path.Combine(Path.GetTempPath(), "saltapi-access-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(dir, "access.log");
        var writer = LogLineWriter.ToFile(path, new StuckLogger(null), "access log");
        Assert.True(writer.Write("before"));
        await WaitForAsync(() => File.Exists(path) && File.ReadAllText(path).Contains("before", StringComparison.Ordinal));
        File.Move(path, path + ".1");   // logrotate's create mode: moved away, a new file in its place
        File.WriteAllText(path, "");
        await Task.Delay(1100);
        Assert.True(writer.Write("after"));
        await writer.DisposeAsync();
        Assert.Equal(["before"], File.ReadAllLines(path + ".1"));
        Assert.Equal(["after"], File.ReadAllLines(path));
        Directory.Delete(dir, recursive: true);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(condition());
    }

    private sealed class StuckLogger(ManualResetEventSlim? release) : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Information)
            {
                release?.Wait(TimeSpan.FromSeconds(30));
            }

            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
