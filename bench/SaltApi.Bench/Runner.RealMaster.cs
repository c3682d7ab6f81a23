using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>
/// Opt-in (<c>SALTAPI_REFSALT</c>: a directory with the refsalt scripts start.sh, stop.sh and master_ceiling.py;
/// <c>SALTAPI_SALT_SRC</c>: the Salt source tree they run): a real salt-master, our API daemon and Salt's own
/// salt-api side by side. The stack is started with five minions; tokens come from /login (eauth pam). First a sync
/// <c>local</c> <c>test.ping</c> to the five, ours and salt-api's alternating: answers missing a minion, p50/p99, and
/// our p99 against salt-api's. Then the minions are stopped (the master's publish path alone, as the ceiling measures
/// it) and for each concurrency the runs alternate: the master's own ceiling (master_ceiling.py: REQ sockets, no HTTP;
/// ZeroMQ only), our rest_cherrypy, the API floor (bench/SaltApi.Bench.Floor: Kestrel and one NetMQ DEALER, none of our
/// code, holding the event bus as we do), salt-api's rest_cherrypy. Rows: req/s, its share of the ceiling measured just
/// before, p50/p99, and the API's CPU per request (salt-api: its whole process group, the netapi child processes
/// included); and ours against the floor's.
/// </summary>
internal sealed partial class Runner
{
    private const string RealName = "real salt-master: rest_cherrypy local_async test.ping (minion stopped)";
    private const string RealSyncName = "real salt-master, 5 minions: rest_cherrypy local test.ping (sync)";
    private const int RealMinions = 5;
    private const string FloorName = "API floor (Kestrel + NetMQ DEALER, no SaltApi code)";

    private async Task RealMasterAsync()
    {
        var refsalt = Environment.GetEnvironmentVariable("SALTAPI_REFSALT");
        if (refsalt is not { Length: > 0 } || !File.Exists(Path.Combine(refsalt, "start.sh")))
        {
            table.NotRun(RealName, "set SALTAPI_REFSALT to a directory with the refsalt scripts (and SALTAPI_SALT_SRC to a Salt source tree)");
            return;
        }

        var env = new Dictionary<string, string>();
        if (Environment.GetEnvironmentVariable("SALTAPI_SALT_SRC") is { Length: > 0 } src)
        {
            env["SALT_SRC"] = src;
        }

        var refsaltDir = Environment.GetEnvironmentVariable("REFSALT_DIR") is { Length: > 0 } d ? d : "/tmp/refsalt";
        var started = await ShAsync(Path.Combine(refsalt, "start.sh"), [C(RealMinions)], env, TimeSpan.FromMinutes(5));
        if (started.Code != 0)
        {
            table.NotRun(RealName, "refsalt start.sh failed: " + started.Output.Trim().Split('\n')[^1]);
            return;
        }

        try
        {
            await RealMasterRunsAsync(refsalt, refsaltDir);
        }
        finally
        {
            await ShAsync(Path.Combine(refsalt, "stop.sh"), [], env, TimeSpan.FromMinutes(2));
        }
    }

    private async Task RealMasterRunsAsync(string refsalt, string refsaltDir)
    {
        var pids = (await File.ReadAllLinesAsync(Path.Combine(refsaltDir, "pids"))).Select(l => l.Split(' ')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));
        var master = File.ReadAllText(Path.Combine(refsaltDir, "etc", "master"));
        var retPort = int.Parse(System.Text.RegularExpressions.Regex.Match(master, @"(?m)^ret_port: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var saltApiPort = int.Parse(System.Text.RegularExpressions.Regex.Match(master, @"(?ms)^rest_cherrypy:.*?port: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

        // Our daemon: the master's config with its own ports, pid and log files (salt-api holds the others).
        var (etc, ourCherry) = await OurConfigAsync(master, "bench");
        await using var api = Proc.Start("dotnet", [Paths.HostDll, "-c", etc, "-l", "warning"], Path.Combine(Paths.Out, "realmaster-api.log"));
        if (!await api.WaitForPortAsync(ourCherry, TimeSpan.FromSeconds(60)))
        {
            table.NotRun(RealName, "our daemon did not start: " + api.Tail());
            return;
        }

        // With --baseline: another build's daemon beside ours, on the same master, its runs alternating with ours.
        Proc? baseline = null;
        var baselineCherry = 0;
        if (s.Baseline is { } baselineDll)
        {
            (var baselineEtc, baselineCherry) = await OurConfigAsync(master, "bench-baseline");
            baseline = Proc.Start("dotnet", [baselineDll, "-c", baselineEtc, "-l", "warning"], Path.Combine(Paths.Out, "realmaster-api-baseline.log"));
            if (!await baseline.WaitForPortAsync(baselineCherry, TimeSpan.FromSeconds(60)))
            {
                table.NotRun(RealName, "the baseline daemon did not start: " + baseline.Tail());
                await baseline.DisposeAsync();
                return;
            }
        }

        try
        {
            await RealMasterLoadsAsync(refsalt, master, retPort, saltApiPort, pids, api, ourCherry, baseline, baselineCherry);
        }
        finally
        {
            if (baseline is not null)
            {
                await baseline.DisposeAsync();
            }
        }
    }

    /// <summary>The master's event bus (its <c>master_event_pub.ipc</c>), which the floor holds a reader of as we do.</summary>
    private static string MasterEventPub(string master)
    {
        var root = System.Text.RegularExpressions.Regex.Match(master, @"(?m)^root_dir: *(\S+)") is { Success: true } r ? r.Groups[1].Value : "/";
        var sockDir = System.Text.RegularExpressions.Regex.Match(master, @"(?m)^sock_dir: *(\S+)") is { Success: true } d ? d.Groups[1].Value : "/var/run/salt/master";
        // As Salt's prepend_root_dir: root_dir goes before a sock_dir not already under it.
        return Path.Combine(sockDir.StartsWith(root, StringComparison.Ordinal) ? sockDir : root.TrimEnd('/') + sockDir, "master_event_pub.ipc");
    }

    /// <summary>A copy of the master's config for one of our daemons: free ports for its modules, its own pid and log files.</summary>
    private static async Task<(string Etc, int Cherry)> OurConfigAsync(string master, string name)
    {
        var (ourWsgi, ourCherry, ourTornado) = (FreePort(), FreePort(), FreePort());
        var etc = Directory.CreateTempSubdirectory("saltapi-realmaster-").FullName;
        var ours = System.Text.RegularExpressions.Regex.Replace(master, @"(?m)^(rest_cherrypy:\n(?:  .*\n)*?  port: )\d+", m => m.Groups[1].Value + ourCherry);
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^(rest_wsgi:\n(?:  .*\n)*?  port: )\d+", m => m.Groups[1].Value + ourWsgi);
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^(rest_tornado:\n(?:  .*\n)*?  port: )\d+", m => m.Groups[1].Value + ourTornado);
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^rest_wsgi:\n", "rest_wsgi:\n  host: 127.0.0.1\n");
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^api_pidfile: .*$", $"api_pidfile: /var/run/saltapi-{name}.pid");
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^api_logfile: .*$", $"api_logfile: /var/log/salt/saltapi-{name}.log");
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^  log_(access|error)_file: .*\n", "");
        await File.WriteAllTextAsync(Path.Combine(etc, "master"), ours);
        return (etc, ourCherry);
    }

    private async Task RealMasterLoadsAsync(string refsalt, string master, int retPort, int saltApiPort, Dictionary<string, int> pids, Proc api, int ourCherry, Proc? baseline, int baselineCherry)
    {
        // Our /login answers the master's eauth token (the ceiling's publish loads carry it too); rest_cherrypy's own
        // answers its session id, good for its own X-Auth-Token only.
        var token = await RealTokenAsync($"http://127.0.0.1:{ourCherry}/login");
        var session = await RealTokenAsync($"http://127.0.0.1:{saltApiPort}/login");
        if (token is null || session is null)
        {
            table.NotRun(RealName, "no token from /login (eauth pam, saltdev)");
            return;
        }

        const string Body = "[{\"client\": \"local_async\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]";
        var ourLoads = new List<(string Name, HttpLoad Load, Func<TimeSpan> Cpu)>
        {
            ("SaltApi", new HttpLoad($"http://127.0.0.1:{ourCherry}/", Body, [Json, AcceptJson, "X-Auth-Token: " + token]), api.CpuTime),
        };
        if (baseline is not null)
        {
            if (await RealTokenAsync($"http://127.0.0.1:{baselineCherry}/login") is not { } baselineToken)
            {
                table.NotRun(RealName, "no token from the baseline's /login");
                return;
            }

            ourLoads.Add(("SaltApi baseline", new HttpLoad($"http://127.0.0.1:{baselineCherry}/", Body, [Json, AcceptJson, "X-Auth-Token: " + baselineToken]), baseline.CpuTime));
        }

        (string Name, HttpLoad Load, Func<TimeSpan> Cpu) saltApi = ("salt-api", new HttpLoad($"http://127.0.0.1:{saltApiPort}/", Body, [Json, AcceptJson, "X-Auth-Token: " + session]), new GroupCpu(pids["salt-api"]).Total);
        await RealSyncAsync([.. ourLoads, saltApi], ourLoads.Count);

        // The API floor beside ours (local_async only, so not in the sync rows): its runs alternate with ours.
        var floorPort = FreePort();
        await using var floor = Proc.Start("dotnet", [Paths.FloorDll, C(floorPort), C(retPort), token, "--bus", MasterEventPub(master)], Path.Combine(Paths.Out, "realmaster-floor.log"));
        if (await floor.WaitForPortAsync(floorPort, TimeSpan.FromSeconds(60)))
        {
            ourLoads.Add((FloorName, new HttpLoad($"http://127.0.0.1:{floorPort}/", Body, [Json, AcceptJson]), floor.CpuTime));
        }
        else
        {
            table.NotRun($"{RealName}: {FloorName}", "the floor did not start (bench/SaltApi.Bench.Floor built?): " + floor.Tail());
        }

        List<(string Name, HttpLoad Load, Func<TimeSpan> Cpu)> loads = [.. ourLoads, saltApi];

        // The publish path alone from here: the minions are stopped.
        foreach (var (_, pgid) in pids.Where(p => p.Key.StartsWith("salt-minion", StringComparison.Ordinal)))
        {
            // procps kill: the shell's own (dash) refuses "--" and left the minions running.
            var killed = await ShAsync("/bin/kill", ["-KILL", "--", "-" + pgid.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>(), TimeSpan.FromSeconds(10));
            if (killed.Code != 0)
            {
                table.NotRun(RealName, "could not stop the minions: " + killed.Output.Trim());
                return;
            }
        }

        foreach (var (_, load, _) in loads)
        {
            await Wrk.RunAsync(load, 16, s.JitWarmup);
        }

        // master_ceiling.py speaks ZeroMQ: with transport: tcp there is no ceiling to measure.
        var zeromq = !System.Text.RegularExpressions.Regex.IsMatch(master, @"(?m)^transport:\s*tcp\b");
        // The master's processes (its CPU per publish, ours against the direct client's).
        var masterCpu = new GroupCpu(pids["salt-master"]);
        foreach (var c in new[] { 1, 16, 64 })
        {
            var runs = loads.ToDictionary(l => l.Name, _ => new List<(WrkResult R, double Us, Ceiling Ceiling, double MasterUs)>());
            var ceilings = new List<Ceiling>();
            for (var i = 0; i < s.Repeats; i++)
            {
                var ceiling = new Ceiling(0, 0, 0, 0);
                if (zeromq)
                {
                    var masterBefore = masterCpu.Total();
                    ceiling = await MasterCeilingAsync(refsalt, retPort, token, c, Math.Max(5, s.Duration));
                    ceiling = ceiling with { MasterUs = (masterCpu.Total() - masterBefore).TotalMicroseconds / Math.Max(1, ceiling.Rps * Math.Max(5, s.Duration)) };
                }

                ceilings.Add(ceiling);
                // This build, the baseline and the floor take turns going first.
                foreach (var (name, load, cpu) in i % 2 == 0 ? loads : [.. loads.Take(ourLoads.Count).Reverse(), .. loads.Skip(ourLoads.Count)])
                {
                    var before = cpu();
                    var masterBefore = masterCpu.Total();
                    // As long as master_ceiling.py waits (30 s): a master that stalls for seconds is waited out, as Salt's
                    // client waits (5 s x 3 tries), not counted as an error at wrk's usual 5 s.
                    var r = await Wrk.RunAsync(load, c, Math.Max(5, s.Duration), timeoutSeconds: 30);
                    runs[name].Add((r, (cpu() - before).TotalMicroseconds / Math.Max(1, r.Requests), ceiling, (masterCpu.Total() - masterBefore).TotalMicroseconds / Math.Max(1, r.Requests)));
                }
            }

            if (zeromq)
            {
                table.Add(new Row($"{RealName}: master ceiling (master_ceiling.py, no HTTP)", C(c), Stats.Median(ceilings.Select(v => v.Rps)), Stats.Median(ceilings.Select(v => v.P50)), Stats.Median(ceilings.Select(v => v.P99)), null, null, null,
                    $"master CPU {Stats.Median(ceilings.Select(v => v.MasterUs)):0} µs/publish"));
            }

            foreach (var (name, _, _) in loads)
            {
                var x = runs[name];
                // Ratios and differences against the ceiling run just before (repeat by repeat), then their median.
                var against = zeromq
                    ? $"; p99 − ceiling's {Stats.Median(x.Select(v => v.R.P99 - v.Ceiling.P99)):+0.0;-0.0} ms; master CPU {Stats.Median(x.Select(v => v.MasterUs)):0} µs/publish, {Stats.Median(x.Select(v => v.MasterUs / Math.Max(1, v.Ceiling.MasterUs))):0.00}× the ceiling's"
                    : $"; master CPU {Stats.Median(x.Select(v => v.MasterUs)):0} µs/publish; no ceiling (transport: tcp)";
                table.Add(new Row($"{RealName}: {name}", C(c), Stats.Median(x.Select(v => v.R.Rps)), Stats.Median(x.Select(v => v.R.P50)), Stats.Median(x.Select(v => v.R.P99)), x.Sum(v => v.R.Errors), null,
                    zeromq ? Stats.Median(x.Select(v => v.Ceiling.Rps > 0 ? v.R.Rps / v.Ceiling.Rps : 0)) : null,
                    $"API CPU {Stats.Median(x.Select(v => v.Us)):0} µs/request" + against + ErrorKinds(x.Select(v => v.R))));
            }

            if (baseline is not null)
            {
                // Ratios of runs seconds apart (repeat by repeat), then their median.
                var (mine, theirs) = (runs["SaltApi"], runs["SaltApi baseline"]);
                var cpu = Stats.Median(mine.Zip(theirs, (a, b) => a.Us / Math.Max(1, b.Us)));
                var rps = Stats.Median(mine.Zip(theirs, (a, b) => a.R.Rps / Math.Max(1, b.R.Rps)));
                table.Add(new Row($"{RealName}: SaltApi / baseline", C(c), Note: $"API CPU/request {cpu:0.00}×, req/s {rps:0.00}× (medians of {mine.Count} paired runs)"));
            }

            if (runs.TryGetValue(FloorName, out var floorRuns))
            {
                var mine = runs["SaltApi"];
                var cpu = Stats.Median(mine.Zip(floorRuns, (a, b) => a.Us / Math.Max(1, b.Us)));
                var rps = Stats.Median(mine.Zip(floorRuns, (a, b) => a.R.Rps / Math.Max(1, b.R.Rps)));
                var p99 = Stats.Median(mine.Zip(floorRuns, (a, b) => a.R.P99 - b.R.P99));
                table.Add(new Row($"{RealName}: SaltApi / floor", C(c), Note: $"API CPU/request {cpu:0.00}×, req/s {rps:0.00}×, p99 {p99:+0.0;-0.0} ms (medians of {mine.Count} paired runs)"));
            }
        }
    }

    /// <summary>
    /// Sync <c>local</c> <c>test.ping</c> to the five live minions over each API's rest_cherrypy, the runs alternating
    /// (ours and the baseline taking turns going first): answers missing a minion (not a 200 naming every minion with
    /// true), p50/p99, API CPU per request, and p99 against salt-api's measured beside it.
    /// </summary>
    private async Task RealSyncAsync(List<(string Name, HttpLoad Load, Func<TimeSpan> Cpu)> asyncLoads, int ours)
    {
        const string Body = "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]";
        var ids = Enumerable.Range(0, RealMinions).Select(i => "ms-" + C(i)).ToArray();
        var loads = asyncLoads.Select(l => (l.Name, Load: l.Load with { Body = Body, Expect = ids }, l.Cpu)).ToList();
        foreach (var (_, load, _) in loads)
        {
            await Wrk.RunAsync(load, 4, 5);
        }

        foreach (var c in new[] { 1, 16 })
        {
            var runs = loads.ToDictionary(l => l.Name, _ => new List<(WrkResult R, double Us)>());
            for (var i = 0; i < s.Repeats; i++)
            {
                foreach (var (name, load, cpu) in i % 2 == 0 ? loads : [.. loads.Take(ours).Reverse(), .. loads.Skip(ours)])
                {
                    var before = cpu();
                    // As long as master_ceiling.py waits (30 s): a master that stalls for seconds is waited out, as Salt's
                    // client waits (5 s x 3 tries), not counted as an error at wrk's usual 5 s.
                    var r = await Wrk.RunAsync(load, c, Math.Max(5, s.Duration), timeoutSeconds: 30);
                    runs[name].Add((r, (cpu() - before).TotalMicroseconds / Math.Max(1, r.Requests)));
                }
            }

            var saltApiP99 = Stats.Median(runs["salt-api"].Select(v => v.R.P99));
            foreach (var (name, _, _) in loads)
            {
                var x = runs[name];
                var p99 = Stats.Median(x.Select(v => v.R.P99));
                var vsSaltApi = name == "salt-api" ? "" : $"; p99 ÷ salt-api's {p99 / saltApiP99:0.00}";
                table.Add(new Row($"{RealSyncName}: {name}", C(c), Stats.Median(x.Select(v => v.R.Rps)), Stats.Median(x.Select(v => v.R.P50)), p99, x.Sum(v => v.R.Errors + v.R.Missing), null, null,
                    $"{x.Sum(v => v.R.Missing)} of {x.Sum(v => v.R.Requests)} answers missing a minion; API CPU {Stats.Median(x.Select(v => v.Us)):0} µs/request{vsSaltApi}"));
            }
        }
    }

    /// <summary>A salt token from salt-api's rest_cherrypy /login (eauth pam), as an operator gets one.</summary>
    private static async Task<string?> RealTokenAsync(string url)
    {
        for (var i = 0; i < 5; i++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new StringContent("{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"pam\"}", System.Text.Encoding.UTF8, "application/json"),
                };
                request.Headers.Accept.ParseAdd("application/json");
                using var response = await Http.SendAsync(request);
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString();
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
            {
                await Task.Delay(2000);
            }
        }

        return null;
    }

    /// <summary>master_ceiling.py with <paramref name="threads"/> REQ sockets: the master's publish rate with no HTTP in front.</summary>
    private static async Task<Ceiling> MasterCeilingAsync(string refsalt, int retPort, string token, int threads, int seconds)
    {
        var (code, output) = await ShAsync("/usr/bin/python3", [Path.Combine(refsalt, "master_ceiling.py"), C(retPort), token, C(threads), C(seconds)], new Dictionary<string, string>(), TimeSpan.FromSeconds(seconds + 60));
        var m = System.Text.RegularExpressions.Regex.Match(output, @"([0-9.]+) req/s p50=([0-9.]+)ms p99=([0-9.]+)ms");
        double D(int i) => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture);
        return code == 0 && m.Success ? new Ceiling(D(1), D(2), D(3), 0) : new Ceiling(0, 0, 0, 0);
    }

    /// <summary>One master_ceiling.py run: req/s, p50/p99 (ms), and the master's CPU per publish (µs) during it.</summary>
    private sealed record Ceiling(double Rps, double P50, double P99, double MasterUs);

    /// <summary>
    /// CPU time (user + system) of the processes of a process group (salt-api and its netapi children), summed from the
    /// growth of each process seen at two readings in a row: one that comes or goes between them does not count.
    /// </summary>
    private sealed class GroupCpu(int pgid)
    {
        private Dictionary<int, long> last = Read(pgid);
        private long total;

        public TimeSpan Total()
        {
            var now = Read(pgid);
            foreach (var (pid, ticks) in now)
            {
                if (last.TryGetValue(pid, out var before) && ticks >= before)
                {
                    total += ticks - before;
                }
            }

            last = now;
            return TimeSpan.FromSeconds(total / 100.0); // USER_HZ
        }

        private static Dictionary<int, long> Read(int pgid)
        {
            var result = new Dictionary<int, long>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(f[2], CultureInfo.InvariantCulture) == pgid)
                    {
                        result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
                {
                }
            }

            return result;
        }
    }

    private static async Task<(int Code, string Output)> ShAsync(string file, IEnumerable<string> args, IDictionary<string, string> env, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (p.ExitCode, await stdout + await stderr);
    }

    // What the errors were (wrk's kinds: "status" is a non-2xx answer, such as a 503; "timeout" a request not answered in 30 s).
    private static string ErrorKinds(IEnumerable<WrkResult> runs) =>
        string.Join("; ", runs.Select(r => r.ErrorKinds).Where(k => k.Length > 0)) is { Length: > 0 } kinds ? $"; errors: {kinds}" : "";
}
