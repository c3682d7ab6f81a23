using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>The daemon scenarios: sync local, login load, /events fan-out and memory.</summary>
internal sealed partial class Runner
{
    private async Task SyncAsync(BenchDaemon d)
    {
        const string Name = SyncName;
        if (!d.WsgiUp)
        {
            table.NotRun(Name, "rest_wsgi did not start");
            return;
        }

        var load = new HttpLoad(d.Wsgi, LowstateWsgi("local"), [Json, AcceptJson]);
        var (status, body) = await ProbeAsync(load.Url, load.Body!);
        if (status != 200 || !body.Contains("\"ms--4\": true", StringComparison.Ordinal))
        {
            table.NotRun(Name, $"answered {status}: {Short(body)}");
            return;
        }

        var one = await HttpRowAsync(Name, 1, load, d);
        await HttpRowAsync(Name, 16, load, d);
        var many = await HttpRowAsync(Name, 64, load, d);
        var x = many.Rps / one.Rps;
        table.Check("sync local: c=64 throughput ≥ 8× c=1 (requests overlap their waits for the minions)", $"{x:0.0}× ({many.Rps:N0} vs {one.Rps:N0} req/s)", x >= 8);
        table.Check("sync local test.ping: p50 < minion latency + 2 ms", $"p50 {one.P50:0.00} ms at c=1 (minion latency {MinionLatencyMs} ms)", one.P50 < MinionLatencyMs + 2);
    }

    private async Task LoginLoadAsync(BenchDaemon d)
    {
        const string Name = LoginName;
        if (!d.CherrypyUp)
        {
            table.NotRun(Name, "rest_cherrypy did not start");
            return;
        }

        var load = new HttpLoad(d.Cherrypy + "login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}", [Json, AcceptJson]);
        var (status, body) = await ProbeAsync(load.Url, load.Body!);
        if (status != 200 || !body.Contains("\"token\"", StringComparison.Ordinal))
        {
            table.NotRun(Name, $"answered {status}: {Short(body)}");
            return;
        }

        await HttpRowAsync(Name, 16, load, d);
    }

    private async Task EventsAsync(BenchDaemon d, string? token)
    {
        const string Name = EventsName;
        if (!d.CherrypyUp || token is null)
        {
            table.NotRun(Name, d.CherrypyUp ? "POST /login gave no token" : "rest_cherrypy did not start");
            return;
        }

        var before = d.Proc.CpuTime();
        EventsResult r;
        try
        {
            r = await EventsLoad.RunAsync(d.Cherrypy, token, d.SockDir, d.Proc.Id, 100, 1000, s.EventSeconds);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or System.Net.Sockets.SocketException or IOException)
        {
            table.NotRun(Name, e.Message.ReplaceLineEndings(" "));
            return;
        }

        var cpu = (d.Proc.CpuTime() - before).TotalSeconds / r.FireSeconds;
        table.Add(new Row(Name, "100", r.Delivered / r.FireSeconds, r.P50, r.P99, r.Lost, d.Proc.Memory().RssMb, null,
            $"req/s = deliveries/s; errors = lost of {(long)r.Fired * r.Subscribers:N0} ({r.Duplicates} dup); latency max {r.Max:0.0} ms; daemon CPU {cpu:0.00} cores; warm-up {r.WarmSeconds:0} s"));
        table.Check("/events: 0 lost, p99 delivery < 50 ms", $"{r.Lost} lost, p99 {r.P99:0.0} ms", r.Lost == 0 && r.P99 < 50);
    }

    private async Task MemoryAsync(BenchDaemon d, double idle)
    {
        if (!d.WsgiUp)
        {
            table.NotRun("daemon RSS after requests", "rest_wsgi did not start");
            return;
        }

        var load = new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]);
        var limit = TimeSpan.FromSeconds(s.MemoryRequests >= 100_000 ? 40 : 15);
        if (daemonRequests < s.MemoryRequests)
        {
            var pre = await Wrk.AtLeastAsync(load, 64, s.MemoryRequests - daemonRequests, 5, limit);
            daemonRequests += pre.Requests;
        }

        await Task.Delay(2000);
        var after = d.Proc.Memory();
        table.Add(new Row($"daemon RSS after {daemonRequests:N0} requests", RssMb: after.RssMb, Note: $"peak {after.PeakMb:0} MB"));

        var more = await Wrk.AtLeastAsync(load, 64, s.MemoryRequests, 5, limit);
        daemonRequests += more.Requests;
        await Task.Delay(2000);
        var final = d.Proc.Memory();
        var growth = final.RssMb - after.RssMb;
        table.Add(new Row($"daemon RSS after {more.Requests:N0} more (local_async c=64)", "64", more.Requests / more.Seconds, null, null, more.Errors, final.RssMb,
            Note: $"growth {growth:+0;-0} MB over those requests; peak {final.PeakMb:0} MB; idle was {idle:0} MB"));
        table.Check($"daemon RSS not growing over {more.Requests:N0} more requests", $"{after.RssMb:0} → {final.RssMb:0} MB ({growth:+0;-0} MB)", growth <= Math.Max(8, after.RssMb * 0.1));
    }
}
