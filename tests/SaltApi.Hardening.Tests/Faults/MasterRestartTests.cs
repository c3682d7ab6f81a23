using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using SaltApi.Hardening.Tests.Http;
using SaltApi.Testing;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Faults;

/// <summary>
/// A master restart as an operator does it, with the master in its own process: a daemon that runs only
/// the embedded master (and rest_cherrypy, since a salt-api with no module exits), and an API daemon with
/// no <c>embedded_master</c> pointed at its ret_port and sock_dir, as at a real salt-master on the host.
/// The master process is killed while 16 requests are in flight; every one must answer 503 at once, not
/// wait out its request timeout, and nothing may be sent again to the restarted master. On both request
/// transports (<c>transport: zeromq</c> and <c>tcp</c>).
/// </summary>
public abstract class MasterRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string WrongCreds = "\"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"wrong\"";
    private readonly string masterDir = Directory.CreateTempSubdirectory("saltapi-master-").FullName;
    private readonly string apiDir = Directory.CreateTempSubdirectory("saltapi-api-").FullName;
    private readonly int retPort = FreePort.Next();
    private readonly int masterHttpPort = FreePort.Next();
    private readonly int wsgiPort = FreePort.Next();
    private Daemon? master;
    private Daemon? api;

    /// <summary>The master config's <c>transport</c>, on both sides.</summary>
    protected abstract string Transport { get; }

    private string MasterYaml => MasterYamlWith(workersStartDelay: 0);

    private string MasterYamlWith(double workersStartDelay) => $"""
        interface: 127.0.0.1
        transport: {Transport}
        ret_port: {retPort}
        sock_dir: {masterDir}/sock
        cachedir: {masterDir}/cache
        pki_dir: {masterDir}/pki
        api_pidfile: {masterDir}/salt-api.pid
        api_logfile: {masterDir}/api.log
        external_auth:
          file:
            ^filename: {masterDir}/users
            ^filetype: text
            saltdev: ['.*', '@runner', '@wheel', '@jobs']
        embedded_master:
          minions: 5
          # Minions that take their time, and a failed login answered after ~30 s (Salt's padding):
          # both keep requests in flight, on the event bus and on the request channel.
          latency_ms: 30000
          auth_failure_delay: 30
          workers_start_delay: {workersStartDelay}
        rest_cherrypy:
          port: {masterHttpPort}
          host: 127.0.0.1
          disable_ssl: true
        """;

    // Salt's defaults for the request timeouts: 5 s per publish attempt, 60 s per master_call attempt.
    private string ApiYaml => $"""
        interface: 127.0.0.1
        transport: {Transport}
        ret_port: {retPort}
        sock_dir: {masterDir}/sock
        cachedir: {apiDir}/cache
        api_pidfile: {apiDir}/salt-api.pid
        api_logfile: {apiDir}/api.log
        timeout: 5
        netapi_enable_clients: [local, local_async, runner, wheel]
        external_auth:
          file:
            ^filename: {masterDir}/users
            ^filetype: text
            saltdev: ['.*', '@runner', '@wheel', '@jobs']
        rest_wsgi:
          port: {wsgiPort}
          host: 127.0.0.1
        """;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(masterDir, "users"), "saltdev:saltdev\n");
        await File.WriteAllTextAsync(Path.Combine(masterDir, "master"), MasterYaml);
        await File.WriteAllTextAsync(Path.Combine(apiDir, "master"), ApiYaml);
        master = await StartMasterAsync();
        api = await Daemon.LaunchAsync(apiDir, apiDir, ["-c", apiDir, "-l", "info"], wsgiPort, 0, retPort, [wsgiPort]);
    }

    private async Task<Daemon> StartMasterAsync()
    {
        // Its own scratch folder: Daemon deletes its folder on dispose, and the master's must survive a restart.
        var scratch = Directory.CreateTempSubdirectory("saltapi-master-run-").FullName;
        var d = await Daemon.LaunchAsync(scratch, masterDir, ["-c", masterDir, "-l", "info"], 0, masterHttpPort, retPort, [masterHttpPort]);
        await d.WaitForPortAsync(retPort, TimeSpan.FromSeconds(30));
        return d;
    }

    public async Task DisposeAsync()
    {
        if (api is not null)
        {
            await api.DisposeAsync();
        }

        if (master is not null)
        {
            await master.DisposeAsync();
        }

        foreach (var d in new[] { masterDir, apiDir })
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private Task<RawResponse> WsgiAsync(string body, TimeSpan limit) => RawHttp.SendAsync(wsgiPort, Post("/", body), limit);

    /// <summary>The next request is served: one try, no retry.</summary>
    private async Task NextIsGoodAsync()
    {
        var r = await WsgiAsync($$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""", TimeSpan.FromSeconds(30));
        Assert.True(r.Status == 200 && r.Text.Contains("\"minions\": [\"ms--0\"]", StringComparison.Ordinal), $"{r}\n{string.Concat(api!.Output.TakeLast(3000))}");
    }

    [Fact]
    public async Task Killing_the_master_fails_every_request_in_flight_with_503_at_once_and_a_restarted_master_serves_again()
    {
        await NextIsGoodAsync();

        // 16 in flight: a publish and a wheel call whose replies the master holds back (failed logins), and
        // synchronous jobs waiting for their minions' returns on the event bus.
        string[] bodies =
        [
            $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{WrongCreds}}}]""",
            $$"""[{"client": "wheel", "fun": "key.list_all", {{WrongCreds}}}]""",
            $$"""[{"client": "local", "tgt": "ms--*", "fun": "test.ping", "timeout": 60, {{Creds}}}]""",
        ];
        var ended = new double[16];
        var kill = Stopwatch.StartNew();
        var inFlight = Enumerable.Range(0, 16).Select(async i =>
        {
            var r = await WsgiAsync(bodies[i % 5 == 4 ? 1 : i % 2 == 0 ? 0 : 2], TimeSpan.FromSeconds(240));
            ended[i] = kill.Elapsed.TotalSeconds;
            return r;
        }).ToList();

        // Every request has reached the master (the sync ones have their jid) before it goes.
        await Task.Delay(1500);
        Assert.All(inFlight, t => Assert.False(t.IsCompleted, $"answered before the master went away: {(t.IsCompleted ? t.Result.ToString() : "")}"));
        var killedAt = kill.Elapsed.TotalSeconds;
        master!.Signal(9);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var responses = await Task.WhenAll(inFlight);

        var waits = ended.Select(e => e - killedAt).ToArray();
        var report = string.Join("\n", responses.Select((r, i) => $"{r.Status} after {waits[i]:0.00}s: {r.Text[..Math.Min(r.Text.Length, 60)]}"));
        output.WriteLine(report);
        foreach (var line in api!.Output.Split('\n').Where(l => l.Contains("master", StringComparison.OrdinalIgnoreCase)))
        {
            output.WriteLine(line);
        }

        Assert.True(waits.Max() < 2.5, $"in-flight requests must fail at once, not wait out their timeouts:\n{report}");
        Assert.All(responses, r => Assert.True(r.Status == 503 && r.Text.Contains("Salt Master is not available.", StringComparison.Ordinal), report));

        // Back on the same ports and sock_dir: the same API daemon serves again.
        await master.DisposeAsync();
        master = await StartMasterAsync();
        await NextIsGoodAsync();
        Assert.False(api!.HasExited);
    }

    [Fact]
    public async Task Requests_made_while_a_stopped_master_is_down_are_503_within_2_s_and_the_first_one_after_its_restart_succeeds()
    {
        await NextIsGoodAsync();

        // As `systemctl restart salt-master`: SIGTERM. A real master leaves its files in sock_dir (workers.ipc,
        // publish_pull.ipc, the bus socket) and nothing listens until it is back: requests made meanwhile cannot be
        // sent, and must not wait out Salt's tries (5 s x 3 for a publish, 60 s x 3 for a runner).
        master!.Signal(15);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(File.Exists(Path.Combine(masterDir, "sock", "workers.ipc")), "the stopped master left its files");
        string[] bodies =
        [
            $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""",
            $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""",
            $$"""[{"client": "runner", "fun": "jobs.list_jobs", {{Creds}}}]""",
            $$"""[{"client": "wheel", "fun": "key.list_all", {{Creds}}}]""",
        ];
        var down = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            var sw = Stopwatch.StartNew();
            var r = await WsgiAsync(bodies[i % bodies.Length], TimeSpan.FromSeconds(240));
            return (Response: r, Took: sw.Elapsed.TotalSeconds, Body: bodies[i % bodies.Length]);
        }));
        var report = string.Join("\n", down.Select(d => $"{d.Response.Status} after {d.Took:0.00}s: {d.Body[..40]} -> {d.Response.Text[..Math.Min(d.Response.Text.Length, 60)]}"));
        output.WriteLine(report);

        // The client gives a request with no connection 1.5 s (the issue's goal: 2 s); the bound allows for a loaded machine.
        Assert.True(down.Max(d => d.Took) < 5, $"requests made while the master is down must end at once:\n{report}\n{string.Concat(api!.Output.TakeLast(3000))}");
        Assert.All(down, d => Assert.True(d.Response.Status == 503 && d.Response.Text.Contains("Salt Master is not available.", StringComparison.Ordinal), report));

        // Back on the same ports and sock_dir: the very next request is served.
        await master.DisposeAsync();
        master = await StartMasterAsync();
        await NextIsGoodAsync();
        Assert.False(api!.HasExited);
    }

    [Fact]
    public async Task Under_load_a_restarted_master_whose_workers_are_not_up_yet_gets_no_publish_and_every_request_ends_within_2_s()
    {
        await NextIsGoodAsync();

        // 16 clients publishing back to back, through a restart whose master takes 6 s to start its workers (its
        // ret_port open meanwhile, as a salt-master's): each request ends with a 200, or a 503 within NoConnectionWait.
        var body = $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""";
        var results = new ConcurrentQueue<(double Start, double Took, int Status, string? Jid)>();
        var clock = Stopwatch.StartNew();
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var start = clock.Elapsed.TotalSeconds;
                var r = await WsgiAsync(body, TimeSpan.FromSeconds(120));
                var jid = Regex.Match(r.Text, "\"jid\": \"([0-9]+)\"") is { Success: true } m ? m.Groups[1].Value : null;
                results.Enqueue((start, clock.Elapsed.TotalSeconds - start, r.Status, jid));
            }
        }).ToList();

        async Task UntilAsync(Func<bool> condition, string what)
        {
            while (!condition())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), what);
                await Task.Delay(50);
            }
        }

        await UntilAsync(() => results.Count(r => r.Status == 200) >= 16, "the load was not served before the restart");
        master!.Signal(15);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await master.DisposeAsync();
        await File.WriteAllTextAsync(Path.Combine(masterDir, "master"), MasterYamlWith(workersStartDelay: 6));
        var restarted = clock.Elapsed.TotalSeconds;
        master = await StartMasterAsync();
        await UntilAsync(() => results.Any(r => r.Status == 200 && r.Start > restarted), "the restarted master never served");
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        var all = results.ToArray();
        var summary = $"{all.Length} requests: {all.Count(r => r.Status == 200)} x 200, {all.Count(r => r.Status == 503)} x 503, others {all.Count(r => r.Status is not 200 and not 503)}; max {all.Max(r => r.Took):0.00}s";
        output.WriteLine(summary);
        Assert.All(all, r => Assert.True(r.Status is 200 or 503, $"{r.Status} at {r.Start:0.00}s; {summary}"));
        // The goal is 2 s (NoConnectionWait, 1.5 s, and the HTTP round trip); room for a loaded machine, below the 5 s of a publish sent.
        Assert.True(all.Max(r => r.Took) < 4, $"a request waited for the cold master: {summary}\n{string.Join("\n", all.Where(r => r.Took >= 4).Take(20).Select(r => $"{r.Status} at {r.Start:0.00}s after {r.Took:0.00}s"))}");

        // Every job the restarted master ran is one a client got a 200 (its jid) for: no 503'd publish ran later.
        var given = all.Where(r => r.Status == 200 && r.Jid is not null).Select(r => r.Jid!).ToHashSet();
        var jobs = await WsgiAsync($$"""[{"client": "runner", "fun": "jobs.list_jobs", {{Creds}}}]""", TimeSpan.FromSeconds(60));
        Assert.Equal(200, jobs.Status);
        var ran = Regex.Matches(jobs.Text, "\"([0-9]{20})\": \\{").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(ran);
        Assert.All(ran, jid => Assert.True(given.Contains(jid), $"job {jid} ran on the master, but its client got no 200; {summary}"));
        Assert.False(api!.HasExited);
    }
}

/// <summary>Over ZeroMQ (the default transport).</summary>
public sealed class MasterRestartZeromqTests(Xunit.Abstractions.ITestOutputHelper output) : MasterRestartTests(output)
{
    protected override string Transport => "zeromq";
}

/// <summary>Over Salt's TCP transport.</summary>
public sealed class MasterRestartTcpTests(Xunit.Abstractions.ITestOutputHelper output) : MasterRestartTests(output)
{
    protected override string Transport => "tcp";
}
