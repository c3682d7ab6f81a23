using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>The rest_tornado rows, beside rest_cherrypy's: local_async at each concurrency and the /events fan-out.</summary>
internal sealed partial class Runner
{
    private const string TornadoAsyncName = "rest_tornado local_async test.ping, 5 minions";
    private const string TornadoEventsName = "rest_tornado /events: 100 subscribers, 1,000 events/s fired";

    private string? tornadoToken;

    /// <summary>A token from rest_tornado's own <c>POST /login</c> (its cookie and body carry it).</summary>
    private async Task<string?> TornadoLoginAsync(BenchDaemon d)
    {
        if (tornadoToken is not null)
        {
            return tornadoToken;
        }

        var (status, body) = await ProbeAsync(d.Tornado + "login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}");
        if (status != 200)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            return tornadoToken = doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private async Task TornadoAsyncAsync(BenchDaemon d)
    {
        const string Name = TornadoAsyncName;
        var token = d.TornadoUp ? await TornadoLoginAsync(d) : null;
        if (token is null)
        {
            table.NotRun(Name, d.TornadoUp ? "POST /login gave no token" : "rest_tornado did not start");
            return;
        }

        var load = new HttpLoad(d.Tornado, "[{\"client\": \"local_async\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]", [Json, AcceptJson, "X-Auth-Token: " + token]);
        var (status, body) = await ProbeAsync(load.Url, load.Body!, load.Headers);
        if (status != 200 || !body.Contains("\"jid\"", StringComparison.Ordinal))
        {
            table.NotRun(Name, $"answered {status}: {Short(body)}");
            return;
        }

        // Warm the module's own code paths before its first measured point, as WarmUpAsync does for the others.
        daemonRequests += (await Wrk.RunAsync(load, 16, Math.Max(1, s.JitWarmup / 3))).Requests;
        foreach (var c in Concurrencies)
        {
            var r = await HttpRowAsync(Name, c, load, d);
            asyncRuns[("rest_tornado", c)] = (r.Rps, r.P99);
        }

        if (asyncRuns.TryGetValue(("rest_tornado", 1), out var one) && asyncRuns.TryGetValue(("rest_tornado", 64), out var many))
        {
            var x = many.Rps / one.Rps;
            table.Check("rest_tornado: c=64 throughput ≥ 8× c=1 (no request waits on another's round trip)", $"{x:0.0}× ({many.Rps:N0} vs {one.Rps:N0} req/s)", x >= 8);
        }
    }

    private async Task TornadoEventsAsync(BenchDaemon d)
    {
        const string Name = TornadoEventsName;
        var token = d.TornadoUp ? await TornadoLoginAsync(d) : null;
        if (token is null)
        {
            table.NotRun(Name, d.TornadoUp ? "POST /login gave no token" : "rest_tornado did not start");
            return;
        }

        var before = d.Proc.CpuTime();
        EventsResult r;
        try
        {
            // rest_tornado reads the token from X-Auth-Token or the session_id cookie only.
            r = await EventsLoad.RunAsync(d.Tornado, token, d.SockDir, d.Proc.Id, 100, 1000, s.EventSeconds, tokenHeader: true);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or System.Net.Sockets.SocketException or IOException)
        {
            table.NotRun(Name, e.Message.ReplaceLineEndings(" "));
            return;
        }

        var cpu = (d.Proc.CpuTime() - before).TotalSeconds / r.FireSeconds;
        table.Add(new Row(Name, "100", r.Delivered / r.FireSeconds, r.P50, r.P99, r.Lost, d.Proc.Memory().RssMb, null,
            $"req/s = deliveries/s; errors = lost of {(long)r.Fired * r.Subscribers:N0} ({r.Duplicates} dup); latency max {r.Max:0.0} ms; daemon CPU {cpu:0.00} cores; warm-up {r.WarmSeconds:0} s"));
        table.Check("rest_tornado /events: 0 lost, p99 delivery < 50 ms", $"{r.Lost} lost, p99 {r.P99:0.0} ms", r.Lost == 0 && r.P99 < 50);
    }
}
