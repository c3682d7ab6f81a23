using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>Runs every scenario in order on loopback and prints the table.</summary>
internal sealed partial class Runner(Settings s)
{
    // Captured once so that every part of the class (Runner.Scale.cs) reads the same settings.
    private readonly Settings s = s;

    private const string Json = "Content-Type: application/json";
    private const string AcceptJson = "Accept: application/json";
    private const string Eauth = "\"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"saltdev\"";
    private static readonly int[] Concurrencies = [1, 16, 64, 256];
    private static readonly Dictionary<string, string> DaemonGroups = new()
    {
        ["memory"] = "daemon RSS idle and after requests",
        ["runner"] = RunnerName,
        ["wsgi"] = "rest_wsgi local_async test.ping, 5 minions",
        ["cherrypy"] = "rest_cherrypy local_async test.ping, 5 minions",
        ["sync"] = SyncName,
        ["login"] = LoginName,
        ["events"] = EventsName,
        ["tornado"] = "rest_tornado local_async test.ping and /events",
    };

    private const string RunnerName = "rest_wsgi runner jobs.lookup_jid, 10,000 jobs cached";
    private const string SyncName = "rest_wsgi local test.ping (sync), 5 minions";
    private const string LoginName = "rest_cherrypy POST /login (eauth file)";
    private const string EventsName = "rest_cherrypy /events: 100 subscribers, 1,000 events/s fired";
    private const string SplitName = "rest_wsgi local_async, master in its own process (API daemon alone)";

    // The simulated minions' return latency we configure (embedded_master latency_ms), for the sync target.
    private const double MinionLatencyMs = 5;

    private readonly Table table = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Dictionary<int, double> ceiling = [];
    private readonly Dictionary<(string Module, int C), (double Rps, double P99)> asyncRuns = [];
    private long daemonRequests;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(60) };

    private bool OverBudget => clock.Elapsed > s.Budget;

    public async Task<int> RunAsync()
    {
        var header = Header();
        Console.Error.WriteLine(header);
        if (!WrkAvailable())
        {
            Console.Error.WriteLine("wrk is missing: bench/run.sh installs it (apt-get install wrk)");
            return 2;
        }

        if (s.Runs("ceiling") || s.Runs("wsgi") || s.Runs("cherrypy"))
        {
            await Guard("ceiling", CeilingAsync);
        }

        if (DaemonGroups.Keys.Any(s.Runs))
        {
            await Guard("daemon (5 minions)", FiveMinionsAsync);
        }
        if (s.Runs("split"))
        {
            await Guard(SplitName, SplitAsync);
        }

        if (s.Runs("ab"))
        {
            await Guard("A/B: this build against " + s.Baseline, AbAsync);
        }

        if (s.Runs("transport"))
        {
            await Guard("request transports (zeromq, tcp)", TransportsAsync);
        }

        if (s.Runs("bigbody"))
        {
            await Guard(BigBodyName, BigBodyAsync);
        }

        if (s.Runs("10k"))
        {
            await Guard("10,000 minions", () => ManyMinionsAsync(10_000, 3000, 500));
        }

        if (s.Runs("events1k") || s.Runs("ws1k") || s.Runs("100k"))
        {
            await ScaleTargetsAsync();
        }

        // Opt-in: only with SALTAPI_REFSALT set (or asked for by name).
        if (s.Runs("realmaster") && (Environment.GetEnvironmentVariable("SALTAPI_REFSALT") is { Length: > 0 } || s.Only.Contains("realmaster")))
        {
            await Guard(RealName, RealMasterAsync);
        }

        if (s.Runs("codec"))
        {
            await Guard("codec", CodecAsync);
        }

        var text = table.Render(header + $"\nWhole run: {clock.Elapsed.TotalSeconds:0} s; load average at the end {LoadAverage()}.");
        Console.WriteLine();
        Console.WriteLine(text);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(Paths.Out, "results-" + stamp + ".md"), text);
        await File.WriteAllTextAsync(Path.Combine(Paths.Out, "results-latest.md"), text);
        await File.WriteAllTextAsync(Path.Combine(Paths.Out, "results-latest.json"), JsonSerializer.Serialize(table.Rows));
        // The chart of req/s and p99 against concurrency (ceiling and every module's local_async rows).
        var svg = Chart.Svg(table.Rows, $"SaltApi bench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: local_async test.ping, 5 minions, against a bare Kestrel");
        await File.WriteAllTextAsync(Path.Combine(Paths.Out, "chart-" + stamp + ".svg"), svg);
        await File.WriteAllTextAsync(Path.Combine(Paths.Out, "chart-latest.svg"), svg);
        Console.Error.WriteLine($"written: {Path.Combine(Paths.Out, "results-latest.md")}");
        return 0;
    }

    private async Task Guard(string what, Func<Task> scenario)
    {
        if (OverBudget)
        {
            table.NotRun(what, $"time budget of {s.Budget.TotalMinutes:0} min used up");
            return;
        }

        Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {what}");
        try
        {
            await scenario();
        }
        catch (Exception e)
        {
            // Whatever went wrong, the table says so and the run goes on.
            table.NotRun(what, e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
        }
    }

    // ---- the ceiling ------------------------------------------------------------------------------

    private async Task CeilingAsync()
    {
        if (!File.Exists(Paths.CeilingDll))
        {
            table.NotRun("ceiling (bare Kestrel, fixed JSON)", "not built");
            return;
        }

        var port = FreePort();
        await using var proc = Proc.Start("dotnet", [Paths.CeilingDll, port.ToString(CultureInfo.InvariantCulture)], Path.Combine(Paths.Out, "ceiling.log"));
        if (!await proc.WaitForPortAsync(port, TimeSpan.FromSeconds(20)))
        {
            table.NotRun("ceiling (bare Kestrel, fixed JSON)", "did not start: " + proc.Tail());
            return;
        }

        var load = new HttpLoad($"http://127.0.0.1:{port}/", LowstateWsgi("local_async"), [Json, AcceptJson]);
        foreach (var c in Concurrencies)
        {
            var (r, _) = await Wrk.MeasureAsync(load, c, s);
            ceiling[c] = r.Rps;
            table.Add(new Row("ceiling: bare Kestrel, fixed JSON", C(c), r.Rps, r.P50, r.P99, r.Errors, proc.Memory().RssMb, 1));
        }
    }

    // ---- the daemon with 5 minions ----------------------------------------------------------------

    private async Task FiveMinionsAsync()
    {
        var (daemon, why, _) = await BenchDaemon.StartAsync("5-minions", $"  minions: 5\n  latency_ms: {MinionLatencyMs}", 5, TimeSpan.FromSeconds(60), tornado: s.Runs("tornado"));
        if (daemon is null)
        {
            foreach (var (group, name) in DaemonGroups)
            {
                if (s.Runs(group))
                {
                    table.NotRun(name, why);
                }
            }

            return;
        }

        await using (daemon)
        {
            await Task.Delay(3000);
            var idle = daemon.Proc.Memory().RssMb;
            if (s.Runs("memory"))
            {
                table.Add(new Row("daemon RSS idle (5 minions, after start)", RssMb: idle));
                table.Check("daemon RSS idle < 80 MB", $"{idle:0} MB", idle < 80);
            }

            var token = daemon.CherrypyUp ? await LoginAsync(daemon) : null;
            await WarmUpAsync(daemon, token);
            if (s.Runs("runner"))
            {
                await Guard("runner jobs.lookup_jid", () => RunnerAsync(daemon));
            }

            if (s.Runs("wsgi"))
            {
                await Guard("rest_wsgi local_async", () => AsyncAsync(daemon, "rest_wsgi", token));
            }

            if (s.Runs("cherrypy"))
            {
                await Guard("rest_cherrypy local_async", () => AsyncAsync(daemon, "rest_cherrypy", token));
            }

            if (s.Runs("tornado"))
            {
                await Guard("rest_tornado local_async", () => TornadoAsyncAsync(daemon));
            }

            if (s.Runs("sync"))
            {
                await Guard("rest_wsgi local test.ping", () => SyncAsync(daemon));
            }

            if (s.Runs("login"))
            {
                await Guard("rest_cherrypy /login", () => LoginLoadAsync(daemon));
            }

            if (s.Runs("events"))
            {
                await Guard("rest_cherrypy /events", () => EventsAsync(daemon, token));
            }

            if (s.Runs("tornado"))
            {
                await Guard("rest_tornado /events", () => TornadoEventsAsync(daemon));
            }

            if (s.Runs("memory"))
            {
                await Guard("daemon RSS after requests", () => MemoryAsync(daemon, idle));
            }

            if (daemon.Proc.HasExited)
            {
                table.NotRun("daemon", "the daemon died during the run: " + daemon.Proc.Tail(3));
            }
        }
    }

    /// <summary>
    /// Load before the first measured point, so that every point measures steady-state code: tiered
    /// compilation keeps rejitting hot methods for the first ~10 s of load (seen as 15 % of the daemon's CPU
    /// in the tiered-compilation thread), which would otherwise land in whichever scenario runs first.
    /// </summary>
    private async Task WarmUpAsync(BenchDaemon d, string? token)
    {
        var loads = new List<HttpLoad>();
        if (d.WsgiUp)
        {
            loads.Add(new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]));
            loads.Add(new HttpLoad(d.Wsgi, LowstateWsgi("local"), [Json, AcceptJson]));
        }

        if (d.CherrypyUp && token is not null)
        {
            loads.Add(CherrypyAsync(d, token));
        }

        var each = Math.Max(1, s.JitWarmup / Math.Max(1, loads.Count));
        foreach (var load in loads)
        {
            var r = await Wrk.RunAsync(load, 16, each);
            daemonRequests += r.Requests;
        }
    }

    private static async Task<string?> LoginAsync(BenchDaemon d)
    {
        var (status, body) = await ProbeAsync(d.Cherrypy + "login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}");
        if (status != 200)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private async Task RunnerAsync(BenchDaemon d)
    {
        const string Name = RunnerName;
        if (!d.WsgiUp)
        {
            table.NotRun(Name, "rest_wsgi did not start");
            return;
        }

        // At least 10,000 jobs in the job cache (the embedded master keeps max_jobs: 10000 by default),
        // then the job to look up: the newest, so that no eviction removes it.
        var fill = await Wrk.AtLeastAsync(new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]), 64, 10_000, 1, TimeSpan.FromSeconds(40));
        daemonRequests += fill.Requests + 1;
        var (status, body) = await ProbeAsync(d.Wsgi, LowstateWsgi("local_async"));
        if (status != 200 || !body.Contains("\"jid\"", StringComparison.Ordinal))
        {
            table.NotRun(Name, $"local_async answered {status}: {Short(body)}");
            return;
        }

        string jid;
        using (var doc = JsonDocument.Parse(body))
        {
            jid = doc.RootElement.GetProperty("return")[0].GetProperty("jid").GetString() ?? "";
        }

        await Task.Delay(500); // the minions' returns reach the job cache
        var lookup = $"[{{\"client\": \"runner\", \"fun\": \"jobs.lookup_jid\", \"jid\": \"{jid}\", {Eauth}}}]";
        (status, body) = await ProbeAsync(d.Wsgi, lookup);
        if (status != 200 || !body.Contains("ms--0", StringComparison.Ordinal))
        {
            table.NotRun(Name, $"jobs.lookup_jid answered {status}: {Short(body)}");
            return;
        }

        var note = $"{fill.Requests + 1:N0} jobs put in the cache ({fill.Errors} errors filling it)";
        await HttpRowAsync(Name, 16, new HttpLoad(d.Wsgi, lookup, [Json, AcceptJson]), d, note);
    }

    private async Task AsyncAsync(BenchDaemon d, string module, string? token)
    {
        var name = $"{module} local_async test.ping, 5 minions";
        HttpLoad load;
        if (module == "rest_wsgi")
        {
            if (!d.WsgiUp)
            {
                table.NotRun(name, "rest_wsgi did not start");
                return;
            }

            load = new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]);
        }
        else
        {
            if (!d.CherrypyUp || token is null)
            {
                table.NotRun(name, d.CherrypyUp ? "POST /login gave no token" : "rest_cherrypy did not start");
                return;
            }

            load = CherrypyAsync(d, token);
        }

        var (status, body) = await ProbeAsync(load.Url, load.Body!, load.Headers);
        if (status != 200 || !body.Contains("\"jid\"", StringComparison.Ordinal))
        {
            table.NotRun(name, $"answered {status}: {Short(body)}");
            return;
        }

        foreach (var c in Concurrencies)
        {
            var r = await HttpRowAsync(name, c, load, d);
            asyncRuns[(module, c)] = (r.Rps, r.P99);
        }

        if (asyncRuns.TryGetValue((module, 1), out var one) && asyncRuns.TryGetValue((module, 64), out var many))
        {
            var x = many.Rps / one.Rps;
            table.Check($"{module}: c=64 throughput ≥ 8× c=1 (no request waits on another's round trip)", $"{x:0.0}× ({many.Rps:N0} vs {one.Rps:N0} req/s)", x >= 8);
        }

        if (module == "rest_wsgi" && asyncRuns.TryGetValue((module, 64), out var w) && ceiling.TryGetValue(64, out var ceil))
        {
            table.Check("rest_wsgi local_async c=64 ≥ 40% of the ceiling, p99 < 20 ms", $"{w.Rps / ceil:P0} of {ceil:N0} req/s, p99 {w.P99:0.0} ms", w.Rps / ceil >= 0.4 && w.P99 < 20);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Short(string body) => body.Length > 160 ? body[..160].ReplaceLineEndings(" ") + "…" : body.ReplaceLineEndings(" ");

    private static string C(int c) => c.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private static bool WrkAvailable()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("wrk", "--version") { RedirectStandardOutput = true, RedirectStandardError = true });
            p?.WaitForExit(5000);
            return p is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private string Header()
    {
        string Read(string path, string prefix)
        {
            try
            {
                return File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
            }
            catch (IOException)
            {
                return "?";
            }
        }

        string Commit()
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Paths.RepoRoot });
                var c = p?.StandardOutput.ReadToEnd().Trim();
                p?.WaitForExit(5000);
                return string.IsNullOrEmpty(c) ? "?" : c;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return "?";
            }
        }

        var mem = Read("/proc/meminfo", "MemTotal") is var m && m.EndsWith("kB", StringComparison.Ordinal)
            ? (double.Parse(m[..^2].Trim(), CultureInfo.InvariantCulture) / 1024 / 1024).ToString("0", CultureInfo.InvariantCulture) + " GiB"
            : "?";
        return string.Create(CultureInfo.InvariantCulture,
            $"SaltApi benchmarks, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit {Commit()}. Machine: {Environment.ProcessorCount} cores ({Read("/proc/cpuinfo", "model name")}), {mem} RAM, Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}. " +
            $"Load average at the start {LoadAverage()} (other work on the machine skews every figure; the ratios are measured in the same run). " +
            $"Loopback only; wrk (Debian) with bench/lua/post.lua, {s.Repeats}× {s.Duration} s runs after a {s.Warmup} s warm-up, medians; latencies in ms; RSS of the daemon process (embedded master included).");
    }
}
