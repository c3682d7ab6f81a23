using System.Net;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests.Ops;

/// <summary>
/// A burst of 300 concurrent sync <c>local test.sleep 3</c> calls is served whole (salt-api resets the
/// connections past its thread_pool + listen backlog; a waiting request here holds no thread), and past the
/// gate's bound (thread_pool running + queue_size waiting) a request is still a clean 503.
/// </summary>
public sealed partial class BurstTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Burst = 300;

    [Fact]
    public async Task Three_hundred_concurrent_sync_calls_are_all_answered_on_rest_cherrypy_and_rest_wsgi()
    {
        await using var ops = await OpsDaemon.StartAsync();
        using var http = OpsDaemon.NewClient();
        var d = ops.Daemon;
        var token = await OpsDaemon.LoginAsync(http, d.Cherrypy);
        foreach (var (name, uri, chunk, header) in new[]
        {
            ("rest_cherrypy", d.Cherrypy, (object)new { client = "local", tgt = "*", fun = "test.sleep", arg = new[] { 3 } }, (string?)token),
            ("rest_wsgi", d.Wsgi, new { client = "local", tgt = "*", fun = "test.sleep", arg = new[] { 3 }, token }, null),
        })
        {
            using var start = new SemaphoreSlim(0);
            var calls = Enumerable.Range(0, Burst).Select(async _ =>
            {
                await start.WaitAsync();
                using var r = await OpsDaemon.PostAsync(http, uri, new[] { chunk }, header);
                var body = await r.Content.ReadAsStringAsync();
                return (r.StatusCode, body);
            }).ToList();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            start.Release(Burst);
            var answers = await Task.WhenAll(calls);
            var failed = answers.Where(a => a.StatusCode != HttpStatusCode.OK).ToList();
            output.WriteLine($"{name}: {Burst - failed.Count} of {Burst} answered 200 in {clock.Elapsed.TotalSeconds:F1} s; peak RSS {PeakRss(d.Pid) / 1024} MiB");
            Assert.True(failed.Count == 0, $"{name}: {failed.Count} of {Burst} failed, e.g. {(failed.Count > 0 ? $"{(int)failed[0].StatusCode} {failed[0].body}" : "")}");
            Assert.All(answers, a => Assert.Contains("\"ms--4\": true", a.body, StringComparison.Ordinal));
        }

        // Memory stays bounded: a burst costs the daemon (and its embedded master) far less than a thread each would.
        Assert.True(PeakRss(d.Pid) < 1024 * 1024, $"peak RSS {PeakRss(d.Pid)} KiB");
        var scrape = await ops.ScrapeAsync(http);
        Assert.Equal(0, scrape.Sum("saltapi_request_refused_total"));
        Assert.Equal(Burst, scrape.Sum("saltapi_request_duration_seconds_count", ("module", "rest_wsgi"), ("client", "local"), ("status", "200")));
    }

    [Fact]
    public async Task Past_thread_pool_and_queue_size_a_request_is_a_clean_503_and_counted()
    {
        await using var ops = await OpsDaemon.StartAsync(cherrypyKeys: "  thread_pool: 5\n  queue_size: 5\n");
        using var http = OpsDaemon.NewClient();
        var d = ops.Daemon;
        var token = await OpsDaemon.LoginAsync(http, d.Cherrypy);
        using var start = new SemaphoreSlim(0);
        var calls = Enumerable.Range(0, 20).Select(async _ =>
        {
            await start.WaitAsync();
            using var r = await OpsDaemon.PostAsync(http, d.Cherrypy, new[] { new { client = "local", tgt = "ms--0", fun = "test.sleep", arg = new[] { 5 } } }, token);
            return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
        }).ToList();
        start.Release(20);
        var answers = await Task.WhenAll(calls);
        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.OK).ToList();
        Assert.Equal(10, refused.Count);
        Assert.All(refused, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode));
        Assert.All(refused, a => Assert.Contains("503 Service Unavailable", a.Body, StringComparison.Ordinal));
        var scrape = await ops.ScrapeAsync(http);
        Assert.Equal(10, scrape.Sum("saltapi_request_refused_total", ("module", "rest_cherrypy"), ("reason", "queue_full")));
    }

    /// <summary>The process's peak resident set (VmHWM), KiB.</summary>
    private static long PeakRss(int pid) =>
        long.Parse(HighWater().Match(File.ReadAllText($"/proc/{pid}/status")).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex HighWater();
}
