using System.Globalization;
using System.Diagnostics;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>
/// The raised scale targets of issue 17: 1,000 event subscribers (SSE <c>/events</c> and <c>/ws</c>) at
/// 1,000 events/s for 10 s, and 100,000 simulated minions answering one <c>local test.ping</c> to <c>*</c>.
/// </summary>
internal sealed partial class Runner
{
    private const int ScaleSubscribers = 1000;
    private const int ScaleRate = 1000;
    private const double ScaleSeconds = 10;

    private async Task ScaleTargetsAsync()
    {
        if (s.Runs("events1k") || s.Runs("ws1k"))
        {
            await Guard("1,000 event subscribers", SubscribersAsync);
        }

        if (s.Runs("100k"))
        {
            await Guard("100,000 minions", () => ManyMinionsAsync(100_000, 3000, 1024));
        }
    }

    /// <summary>One daemon (5 minions), then 1,000 SSE subscribers, then 1,000 WebSocket subscribers.</summary>
    private async Task SubscribersAsync()
    {
        var (daemon, why, _) = await BenchDaemon.StartAsync("subscribers", $"  minions: 5\n  latency_ms: {MinionLatencyMs}", 5, TimeSpan.FromSeconds(60));
        var kinds = new List<(string Group, string Name, bool Ws)>();
        if (s.Runs("events1k"))
        {
            kinds.Add(("events1k", $"rest_cherrypy /events: {ScaleSubscribers:N0} subscribers, {ScaleRate:N0} events/s for {ScaleSeconds:0} s", false));
        }

        if (s.Runs("ws1k"))
        {
            kinds.Add(("ws1k", $"rest_cherrypy /ws: {ScaleSubscribers:N0} subscribers, {ScaleRate:N0} events/s for {ScaleSeconds:0} s", true));
        }

        if (daemon is null)
        {
            foreach (var k in kinds)
            {
                table.NotRun(k.Name, why);
            }

            return;
        }

        await using (daemon)
        {
            var sinceLogin = Stopwatch.StartNew();
            var token = daemon.CherrypyUp ? await LoginAsync(daemon) : null;
            foreach (var (_, name, ws) in kinds)
            {
                if (token is null)
                {
                    table.NotRun(name, daemon.CherrypyUp ? "POST /login gave no token" : "rest_cherrypy did not start");
                    continue;
                }

                var before = daemon.Proc.CpuTime();
                EventsResult r;
                try
                {
                    r = await EventsLoad.RunAsync(daemon.Cherrypy, token, daemon.SockDir, daemon.Proc.Id, ScaleSubscribers, ScaleRate, ScaleSeconds, webSocket: ws, sinceLogin: sinceLogin, busProbe: true);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or System.Net.Sockets.SocketException or IOException or System.Net.WebSockets.WebSocketException)
                {
                    table.NotRun(name, e.Message.ReplaceLineEndings(" "));
                    continue;
                }

                var cpu = (daemon.Proc.CpuTime() - before).TotalSeconds / r.FireSeconds;
                var benchCpu = r.BenchCpuSeconds / r.FireSeconds;
                var perDelivery = r.Delivered > 0 ? 1e6 * r.FireSeconds / r.Delivered : double.NaN;
                var mem = daemon.Proc.Memory();
                table.Add(new Row(name, C(ScaleSubscribers), r.Delivered / r.FireSeconds, r.P50, r.P99, r.Lost, mem.RssMb, null,
                    $"req/s = deliveries/s; errors = lost of {(long)r.Fired * r.Subscribers:N0} ({r.Duplicates} dup); latency max {r.Max:0.0} ms; daemon CPU {cpu:0.00} cores ({cpu * perDelivery:0.00} µs/delivery), peak RSS {mem.PeakMb:0} MB; the subscribers run in the bench process on the same cores: {benchCpu:0.00} cores ({benchCpu * perDelivery:0.00} µs/delivery); warm-up {r.WarmSeconds:0} s (until the tier-up compilers were idle); p99 by measured second {string.Join(' ', r.P99BySecond.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} ms; on the master's bus (a reader on a thread of its own, the master's share) p50 {r.BusP50:0.0} / p99 {r.BusP99:0.0} ms"));
                table.Check($"{(ws ? "/ws" : "/events")}: {ScaleSubscribers:N0} subscribers × {ScaleRate:N0} events/s, 0 lost, p99 delivery < 100 ms", $"{r.Lost:N0} lost, p99 {r.P99:0.0} ms, RSS {mem.RssMb:0} MB", r.Lost == 0 && r.P99 < 100);
            }
        }
    }

    /// <summary>A daemon with <paramref name="count"/> simulated minions (the 10k and 100k groups): rest_wsgi <c>local test.ping</c> to <c>*</c>, three calls.</summary>
    private async Task ManyMinionsAsync(int count, double limitMs, double limitMb)
    {
        var name = $"rest_wsgi local test.ping → {count:N0} minions";
        var (daemon, why, startTime) = await BenchDaemon.StartAsync($"{count}-minions", $"  minions: {count}\n  latency_ms: {MinionLatencyMs}", 30, TimeSpan.FromSeconds(120));
        if (daemon is null)
        {
            table.NotRun(name, why);
            return;
        }

        await using (daemon)
        {
            if (!daemon.WsgiUp)
            {
                table.NotRun(name, "rest_wsgi did not start");
                return;
            }

            var idle = daemon.Proc.Memory().RssMb;
            var body = LowstateWsgi("local");
            var times = new List<double>();
            var returns = new List<int>();
            for (var i = 0; i < 3 && !OverBudget; i++)
            {
                var sw = Stopwatch.StartNew();
                var (status, text) = await ProbeAsync(daemon.Wsgi, body);
                sw.Stop();
                if (status != 200)
                {
                    table.NotRun(name, $"answered {status}: {Short(text)}");
                    return;
                }

                times.Add(sw.Elapsed.TotalMilliseconds);
                using var doc = JsonDocument.Parse(text);
                var ret = doc.RootElement.GetProperty("return")[0];
                returns.Add(ret.ValueKind == JsonValueKind.Object ? ret.EnumerateObject().Count(p => p.Value.ValueKind == JsonValueKind.True) : 0);
            }

            var mem = daemon.Proc.Memory();
            var median = Stats.Median(times);
            var missing = count - returns.Min();
            table.Add(new Row(name, "1", null, median, times.Max(), missing, mem.RssMb, null,
                $"p50 = median call time of {times.Count}, p99 = the slowest; errors = minions missing in the worst call; daemon+embedded master {idle:0} MB after start, peak {mem.PeakMb:0} MB; start {startTime.TotalSeconds:0.0} s (until rest_wsgi listens)"));
            table.Check($"{count:N0} minions: all return in < {limitMs / 1000:0} s", $"{median / 1000:0.00} s median, {missing} missing", missing == 0 && median < limitMs);
            var limit = limitMb >= 1024 ? $"{limitMb / 1024:0} GB" : $"{limitMb:0} MB";
            table.Check($"{count:N0} minions: daemon + embedded master < {limit}", $"{mem.RssMb:0} MB (peak {mem.PeakMb:0} MB)", mem.PeakMb < limitMb);
        }
    }
}
