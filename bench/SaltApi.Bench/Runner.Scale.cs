using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>The scenarios with the master in its own process, at scale, and the codec.</summary>
internal sealed partial class Runner
{
    // ---- 10,000 minions ---------------------------------------------------------------------------

    /// <summary>
    /// The same local_async load with the embedded master and its minions in a second process: the rows give
    /// the API daemon's own RSS and CPU per request, the note the master process's, so the API's cost is
    /// not mixed with the master's (in production a real salt-master does that work).
    /// </summary>
    /// <remarks>
    /// Run twice: with the embedded master answering at once, and with <c>publish_delay_ms: 30</c>, as a real
    /// master's publish takes tens of milliseconds: the API then holds many requests in flight, and what waiting
    /// costs it (wake-ups, polls, timers) shows in its CPU per request.
    /// </remarks>
    private async Task SplitAsync()
    {
        await SplitAsync(0);
        await Guard(SplitName + ", publish answered after 30 ms", () => SplitAsync(30));
    }

    private async Task SplitAsync(int publishDelayMs)
    {
        var name = publishDelayMs == 0 ? SplitName : $"{SplitName}, publish answered after {publishDelayMs} ms";
        var (master, api, why) = await BenchDaemon.StartSplitAsync(SplitEmbedded(publishDelayMs), 5);
        if (master is null || api is null)
        {
            table.NotRun(name, why);
            return;
        }

        await using (master)
        await using (api)
        {
            var load = new HttpLoad(api.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]);
            var (status, body) = await ProbeAsync(load.Url, load.Body!);
            if (status != 200 || !body.Contains("\"jid\"", StringComparison.Ordinal))
            {
                table.NotRun(name, $"answered {status}: {Short(body)}");
                return;
            }

            await Wrk.RunAsync(load, 16, s.JitWarmup);
            var rps = new Dictionary<int, double>();
            foreach (var c in Concurrencies)
            {
                var (apiCpu, masterCpu) = (api.Proc.CpuTime(), master.Proc.CpuTime());
                var sw = Stopwatch.StartNew();
                var (r, total) = await Wrk.MeasureAsync(load, c, s);
                var seconds = sw.Elapsed.TotalSeconds;
                var (apiUsed, masterUsed) = (api.Proc.CpuTime() - apiCpu, master.Proc.CpuTime() - masterCpu);
                rps[c] = r.Rps;
                double? ratio = ceiling.TryGetValue(c, out var ceil) ? r.Rps / ceil : null;
                var note = $"API daemon CPU {apiUsed.TotalSeconds / seconds:0.00} cores, {apiUsed.TotalMicroseconds / Math.Max(1, total):0} µs/request; "
                    + $"master process {masterUsed.TotalSeconds / seconds:0.00} cores, {masterUsed.TotalMicroseconds / Math.Max(1, total):0} µs/request, RSS {master.Proc.Memory().RssMb:0} MB";
                table.Add(new Row(name, C(c), r.Rps, r.P50, r.P99, r.Errors, api.Proc.Memory().RssMb, ratio, note));
            }

            if (rps.TryGetValue(1, out var one) && rps.TryGetValue(64, out var many) && one > 0)
            {
                table.Add(new Row(name + ": c=64 / c=1", Note: $"{many / one:0.0}× ({many:N0} vs {one:N0} req/s)"));
            }
        }
    }

    /// <summary>The embedded master of the split rows: 5 minions, and the publish delay when there is one.</summary>
    private static string SplitEmbedded(int publishDelayMs) =>
        $"  minions: 5\n  latency_ms: {MinionLatencyMs}" + (publishDelayMs > 0 ? $"\n  publish_delay_ms: {publishDelayMs}" : "");

    /// <summary>
    /// The request channel over each transport: the split pair (API daemon and master process) with
    /// <c>transport: zeromq</c> (a DEALER socket per request thread, the default, then the REQ pool) and with
    /// <c>transport: tcp</c>: rest_wsgi local_async at c = 1, 16, 64 and sync local at c = 1, 16, with the API
    /// daemon's CPU per request (where the client side of the transport runs).
    /// </summary>
    private async Task TransportsAsync()
    {
        (string Name, string Yaml)[] variants =
        [
            ("zeromq", "transport: zeromq"),
            ("zeromq (REQ pool)", "transport: zeromq\nsaltapi_client:\n  request_socket: req"),
            ("tcp", "transport: tcp"),
        ];
        var results = new Dictionary<(string Transport, string Client, int C), (WrkResult R, double CpuUs)>();
        foreach (var (transport, yaml) in variants)
        {
            var (master, api, why) = await BenchDaemon.StartSplitAsync($"  minions: 5\n  latency_ms: {MinionLatencyMs}", 5, yaml);
            if (master is null || api is null)
            {
                table.NotRun($"rest_wsgi over transport: {transport}", why);
                continue;
            }

            await using (master)
            await using (api)
            {
                var asyncLoad = new HttpLoad(api.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]);
                var syncLoad = new HttpLoad(api.Wsgi, LowstateWsgi("local"), [Json, AcceptJson]);
                var (status, body) = await ProbeAsync(syncLoad.Url, syncLoad.Body!);
                if (status != 200 || !body.Contains("\"ms--4\": true", StringComparison.Ordinal))
                {
                    table.NotRun($"rest_wsgi over transport: {transport}", $"answered {status}: {Short(body)}");
                    continue;
                }

                await Wrk.RunAsync(asyncLoad, 16, s.JitWarmup);
                foreach (var c in new[] { 1, 16, 64 })
                {
                    results[(transport, "local_async", c)] = await SplitRowAsync($"rest_wsgi local_async, split, transport: {transport}", c, asyncLoad, api, master);
                }

                foreach (var c in new[] { 1, 16 })
                {
                    results[(transport, "local (sync)", c)] = await SplitRowAsync($"rest_wsgi local (sync), split, transport: {transport}", c, syncLoad, api, master);
                }
            }
        }

        foreach (var (a, b) in new[] { ("tcp", "zeromq"), ("zeromq (REQ pool)", "zeromq") })
        {
            foreach (var ((transport, client, c), x) in results.Where(r => r.Key.Transport == a))
            {
                if (results.TryGetValue((b, client, c), out var y) && y.R.Rps > 0 && y.R.P50 > 0 && y.CpuUs > 0)
                {
                    table.Add(new Row($"rest_wsgi {client}: {a} / {b}", C(c), Note: $"req/s {x.R.Rps / y.R.Rps:0.00}×, p50 {x.R.P50 / y.R.P50:0.00}×, API CPU/request {x.CpuUs / y.CpuUs:0.00}× ({x.CpuUs:0} vs {y.CpuUs:0} µs)"));
                }
            }
        }
    }

    /// <summary>One point on the split pair: the API daemon's row, the master process's CPU in the note.</summary>
    private async Task<(WrkResult R, double CpuUs)> SplitRowAsync(string name, int c, HttpLoad load, BenchDaemon api, BenchDaemon master)
    {
        var (apiCpu, masterCpu) = (api.Proc.CpuTime(), master.Proc.CpuTime());
        var sw = Stopwatch.StartNew();
        var (r, total) = await Wrk.MeasureAsync(load, c, s);
        var seconds = sw.Elapsed.TotalSeconds;
        var (apiUsed, masterUsed) = (api.Proc.CpuTime() - apiCpu, master.Proc.CpuTime() - masterCpu);
        double? ratio = ceiling.TryGetValue(c, out var ceil) ? r.Rps / ceil : null;
        var note = $"API daemon CPU {apiUsed.TotalSeconds / seconds:0.00} cores, {apiUsed.TotalMicroseconds / Math.Max(1, total):0} µs/request; "
            + $"master process {masterUsed.TotalSeconds / seconds:0.00} cores, {masterUsed.TotalMicroseconds / Math.Max(1, total):0} µs/request";
        table.Add(new Row(name, C(c), r.Rps, r.P50, r.P99, r.Errors, api.Proc.Memory().RssMb, ratio, note));
        return (r, apiUsed.TotalMicroseconds / Math.Max(1, total));
    }

    // ---- codec --------------------------------------------------------------------------------------

    private async Task CodecAsync()
    {
        if (!Directory.Exists(Paths.Vectors))
        {
            table.NotRun("codec (BenchmarkDotNet)", "vectors not found at " + Paths.Vectors);
            return;
        }

        if (!File.Exists(Paths.CodecDll))
        {
            table.NotRun("codec (BenchmarkDotNet)", "not built");
            return;
        }

        var log = Path.Combine(Paths.Out, "codec.log");
        await using (var proc = Proc.Start("dotnet", [Paths.CodecDll, Paths.Vectors, Path.Combine(Paths.Out, "codec")], log))
        {
            var sw = Stopwatch.StartNew();
            while (!proc.HasExited && sw.Elapsed < TimeSpan.FromSeconds(150))
            {
                await Task.Delay(200);
            }

            if (!proc.HasExited)
            {
                table.NotRun("codec (BenchmarkDotNet)", "did not finish in 150 s");
                return;
            }
        }

        var names = new Dictionary<string, string>
        {
            ["RequestDecode"] = "codec: request channel decode (req/rep vectors)",
            ["RequestEncode"] = "codec: request channel encode (old-spec)",
            ["BusDecode"] = "codec: event bus frame decode (event vectors)",
            ["BusEncode"] = "codec: event bus frame encode (EventFrame.Encode)",
        };
        var found = 0;
        foreach (var line in await File.ReadAllLinesAsync(log))
        {
            var f = line.Split(' ');
            if (f.Length != 6 || f[0] != "CODEC")
            {
                continue;
            }

            found++;
            var ns = double.Parse(f[3], CultureInfo.InvariantCulture);
            table.Add(new Row(names.GetValueOrDefault(f[1], f[1]), "1", 1e9 / ns, ns / 1e6, null, 0, null, null,
                $"{f[2]} messages; {ns / 1000:0.00} µs/msg median, {double.Parse(f[4], CultureInfo.InvariantCulture) / 1000:0.00} µs p95; {f[5]} B allocated/msg; req/s = messages/s"));
        }

        if (found == 0)
        {
            table.NotRun("codec (BenchmarkDotNet)", "no result; see bench/out/codec.log");
        }
    }
}
