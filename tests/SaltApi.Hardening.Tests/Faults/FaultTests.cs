using System.Diagnostics;
using System.Text;
using SaltApi.Hardening.Tests.Http;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Faults;

/// <summary>
/// Faults under the daemon: the master stopped and restarted (also under load), the event-bus and
/// marker sockets removed and recreated, a minion that never answers, a runner that outlives its
/// timeout. In-flight requests end with Salt's 503/504 (or a result) within their timeout, never hang
/// or crash, and new requests succeed once the master is back.
/// </summary>
public sealed class FaultTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    private static readonly string Ping = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""";

    private async Task<RawResponse> WsgiAsync(string body, TimeSpan? limit = null)
    {
        try
        {
            return await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", body), limit ?? TimeSpan.FromSeconds(30));
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new Xunit.Sdk.XunitException($"rest_wsgi refused the connection ({e.Message}); exited: {fixture.Daemon.HasExited}\n{Tail()}");
        }
    }

    private string Tail() => fixture.Daemon.Output[^Math.Min(fixture.Daemon.Output.Length, 4000)..];

    private Task<RawResponse> RunAsync(string body, TimeSpan? limit = null) =>
        RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/run", body, "application/json", ("Accept", "application/json")), limit ?? TimeSpan.FromSeconds(30));

    /// <summary>Retries a good request until it succeeds (the client reconnects on its own), within a bound.</summary>
    private async Task<TimeSpan> UntilGoodAsync(TimeSpan bound)
    {
        var sw = Stopwatch.StartNew();
        RawResponse? last = null;
        while (sw.Elapsed < bound)
        {
            last = await WsgiAsync(Ping);
            if (last.Status == 200 && last.Text == "{\"return\": [{\"ms--0\": true}]}")
            {
                var run = await RunAsync(Ping);
                if (run.Status == 200)
                {
                    return sw.Elapsed;
                }
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"no good answer within {bound} after the fault; last: {last}\n{fixture.Daemon.Output[^Math.Min(fixture.Daemon.Output.Length, 3000)..]}");
    }

    [Fact]
    public async Task Master_stopped_gives_503_and_the_next_request_succeeds_once_it_is_back()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        await fixture.StopMasterAsync();
        try
        {
            var wsgi = await WsgiAsync(Ping, TimeSpan.FromSeconds(20));
            Assert.Equal(503, wsgi.Status);
            Assert.Contains("Salt Master is not available.", wsgi.Text, StringComparison.Ordinal);
            var run = await RunAsync(Ping, TimeSpan.FromSeconds(20));
            Assert.Equal(503, run.Status);
            var runner = await WsgiAsync($$"""[{"client": "runner", "fun": "jobs.list_jobs", {{Creds}}}]""", TimeSpan.FromSeconds(20));
            Assert.Equal(503, runner.Status);
        }
        finally
        {
            await fixture.StartMasterAsync();
        }

        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        Assert.False(fixture.Daemon.HasExited);
    }

    [Fact]
    public async Task Master_stopped_login_and_session_check_give_503_at_once()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        await fixture.StopMasterAsync();
        try
        {
            var sw = Stopwatch.StartNew();
            var login = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}"), TimeSpan.FromSeconds(20));
            var loginTime = sw.Elapsed;
            sw.Restart();
            var session = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/jobs", [("X-Auth-Token", new string('c', 64)), ("Accept", "application/json")]), TimeSpan.FromSeconds(20));
            var sessionTime = sw.Elapsed;
            Assert.True(login.Status == 503 && loginTime < TimeSpan.FromSeconds(5) && session.Status is 401 or 503 && sessionTime < TimeSpan.FromSeconds(5), $"login {login.Status} after {loginTime}; session check {session.Status} after {sessionTime}");
        }
        finally
        {
            await fixture.StartMasterAsync();
        }
    }

    [Fact]
    public async Task Master_restarted_under_load_ends_every_request_cleanly()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        using var stop = new CancellationTokenSource();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        var hangs = 0;
        var workers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var r = i % 2 == 0 ? await WsgiAsync(Ping, TimeSpan.FromSeconds(20)) : await RunAsync(Ping, TimeSpan.FromSeconds(20));
                    statuses.Add(r.Status);
                }
                catch (HangException)
                {
                    Interlocked.Increment(ref hangs);
                }
            }
        })).ToList();

        await Task.Delay(1500);
        await fixture.StopMasterAsync();
        await Task.Delay(2000);
        await fixture.StartMasterAsync();
        await Task.Delay(3000);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var counts = string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        Assert.Equal(0, hangs);
        Assert.All(statuses, s => Assert.True(s is 200 or 503 or 504, $"in-flight requests must end with 200, 503 or 504: {counts}"));
        // Requests that met the stopped master got 503; those that raced its stop may have been answered
        // by the restarted one (a REQ retry): both are fine, a hang or another status is not.
        Assert.Contains(200, statuses);
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Event_bus_socket_removed_then_master_restarted_recreates_it_and_jobs_finish_again()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var pub = Path.Combine(fixture.Daemon.SockDir, "master_event_pub.ipc");
        Assert.True(File.Exists(pub));
        File.Delete(pub);

        // The daemon's one subscription is already connected: jobs still finish.
        var r = await WsgiAsync(Ping, TimeSpan.FromSeconds(20));
        Assert.True(r.Status is 200 or 503 or 504, $"{r}");

        await fixture.StopMasterAsync();
        await fixture.StartMasterAsync();
        Assert.True(File.Exists(pub));
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Master_marker_socket_removed_gives_503_and_recreated_serves_again()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var workers = Path.Combine(fixture.Daemon.SockDir, "workers.ipc");
        Assert.True(File.Exists(workers));
        var backup = workers + ".moved";
        File.Move(workers, backup);
        try
        {
            var r = await WsgiAsync(Ping, TimeSpan.FromSeconds(20));
            Assert.Equal(503, r.Status);
            Assert.Contains("Salt Master is not available.", r.Text, StringComparison.Ordinal);
        }
        finally
        {
            File.Move(backup, workers);
        }

        await UntilGoodAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_minion_that_never_answers_is_false_after_the_timeouts()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var sw = Stopwatch.StartNew();
        var r = await WsgiAsync($$"""[{"client": "local", "tgt": "ms--4", "fun": "test.ping", {{Creds}}}]""", TimeSpan.FromSeconds(30));
        Assert.Equal(200, r.Status);
        Assert.Equal("{\"return\": [{\"ms--4\": false}]}", r.Text);
        var all = await RunAsync($$"""[{"client": "local", "tgt": "*", "fun": "test.ping", {{Creds}}}]""", TimeSpan.FromSeconds(30));
        Assert.Equal(200, all.Status);
        Assert.Contains("\"ms--4\": false", all.Text, StringComparison.Ordinal);
        Assert.Contains("\"ms--0\": true", all.Text, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(25), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task A_runner_that_outlives_its_timeout_gives_504()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var body = $$"""[{"client": "runner", "fun": "test.sleep", "s_time": 20, "timeout": 2, {{Creds}}}]""";
        var sw = Stopwatch.StartNew();
        var wsgi = await WsgiAsync(body, TimeSpan.FromSeconds(15));
        Assert.Equal(504, wsgi.Status);
        var run = await RunAsync(body, TimeSpan.FromSeconds(15));
        Assert.Equal(504, run.Status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        await UntilGoodAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Event_stream_survives_a_master_restart()
    {
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var session = await fixture.SessionAsync();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", fixture.Daemon.CherrypyPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /events HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {session}\r\n\r\n"));
        var seen = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[8192];
            while (!cts.IsCancellationRequested)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    break;
                }

                lock (seen)
                {
                    seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }
        });

        await fixture.StopMasterAsync();
        await Task.Delay(1000);
        await fixture.StartMasterAsync();
        await UntilGoodAsync(TimeSpan.FromSeconds(20));
        var marker = "hardening-" + Guid.NewGuid().ToString("N")[..8];
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            await RunAsync($$"""[{"client": "local", "tgt": "ms--0", "fun": "test.echo", "arg": ["{{marker}}"], {{Creds}}}]""");
            await Task.Delay(500);
            lock (seen)
            {
                if (seen.ToString().Contains(marker, StringComparison.Ordinal))
                {
                    break;
                }
            }
        }

        await cts.CancelAsync();
        try
        {
            await reader;
        }
        catch (OperationCanceledException)
        {
        }

        lock (seen)
        {
            var text = seen.ToString();
            Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
            Assert.Contains(marker, text, StringComparison.Ordinal);
        }
    }
}
