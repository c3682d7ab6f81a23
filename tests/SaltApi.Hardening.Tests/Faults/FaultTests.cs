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

    private string Tail()
    {
        // One reading of the output: it grows while the daemon runs.
        var output = fixture.Daemon.Output;
        return output[^Math.Min(output.Length, 4000)..];
    }

    private Task<RawResponse> RunAsync(string body, TimeSpan? limit = null) =>
        RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/run", body, "application/json", ("Accept", "application/json")), limit ?? TimeSpan.FromSeconds(30));

    // A request that meets a stopped master ends within this (the client gives a request with no connection 1.5 s; Salt
    // waits out 3 tries): generous for a loaded machine, far below a hang.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>The next request succeeds, on rest_wsgi and on rest_cherrypy's /run: one try each, no retry.</summary>
    private async Task NextIsGoodAsync()
    {
        var wsgi = await WsgiAsync(Ping, TimeSpan.FromSeconds(20));
        Assert.True(wsgi.Status == 200 && wsgi.Text == "{\"return\": [{\"ms--0\": true}]}", $"rest_wsgi: {wsgi}\n{Tail()}");
        var run = await RunAsync(Ping, TimeSpan.FromSeconds(20));
        Assert.True(run.Status == 200 && run.Text.Contains("\"ms--0\": true", StringComparison.Ordinal), $"/run: {run}\n{Tail()}");
    }

    /// <summary>A 503 "Salt Master is not available." within <see cref="Bound"/>.</summary>
    private static async Task Assert503Async(Func<Task<RawResponse>> send, string what)
    {
        var sw = Stopwatch.StartNew();
        var r = await send();
        Assert.True(r.Status == 503 && r.Text.Contains("Salt Master is not available.", StringComparison.Ordinal) && sw.Elapsed < Bound, $"{what}: {r} after {sw.Elapsed}");
    }

    [Fact]
    public async Task Master_stopped_gives_503_and_the_next_request_succeeds_once_it_is_back()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
        await fixture.StopMasterAsync();
        try
        {
            // As a real master's stop: its files stay in sock_dir, nothing listens. The request channel (local_async),
            // the event bus (local, runner) and rest_cherrypy's /run each answer 503 within the bound.
            await Assert503Async(() => WsgiAsync(Ping, TimeSpan.FromSeconds(70)), "local");
            await Assert503Async(() => WsgiAsync($$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""", TimeSpan.FromSeconds(70)), "local_async");
            await Assert503Async(() => RunAsync(Ping, TimeSpan.FromSeconds(70)), "/run local");
            await Assert503Async(() => WsgiAsync($$"""[{"client": "runner", "fun": "jobs.list_jobs", {{Creds}}}]""", TimeSpan.FromSeconds(200)), "runner");
        }
        finally
        {
            await fixture.StartMasterAsync();
        }

        await NextIsGoodAsync();
        Assert.False(fixture.Daemon.HasExited);
    }

    [Fact]
    public async Task Master_stopped_login_and_session_check_give_503_at_once()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
        await fixture.StopMasterAsync();
        try
        {
            var sw = Stopwatch.StartNew();
            var login = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}"), TimeSpan.FromSeconds(200));
            var loginTime = sw.Elapsed;
            sw.Restart();
            var session = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/jobs", [("X-Auth-Token", new string('c', 64)), ("Accept", "application/json")]), TimeSpan.FromSeconds(200));
            var sessionTime = sw.Elapsed;
            // A 401 would log every session out during an outage: the master cannot be asked, so 503.
            Assert.True(login.Status == 503 && loginTime < Bound && session.Status == 503 && sessionTime < Bound, $"login {login.Status} after {loginTime}; session check {session.Status} after {sessionTime}");
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
        await NextIsGoodAsync();
        using var stop = new CancellationTokenSource();
        var ended = new System.Collections.Concurrent.ConcurrentBag<(int Status, TimeSpan Took, string What)>();
        var hangs = 0;
        string[] bodies =
        [
            Ping,
            $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""",
            $$"""[{"client": "runner", "fun": "jobs.list_jobs", {{Creds}}}]""",
        ];
        var workers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var body = bodies[i % bodies.Length];
                var sw = Stopwatch.StartNew();
                try
                {
                    var r = i % 2 == 0 ? await WsgiAsync(body, TimeSpan.FromSeconds(20)) : await RunAsync(body, TimeSpan.FromSeconds(20));
                    ended.Add((r.Status, sw.Elapsed, body[..40]));
                }
                catch (HangException)
                {
                    Interlocked.Increment(ref hangs);
                }
            }
        })).ToList();

        // Load, the master stopped (its files stay, as a real master's), down for longer than the bound (Salt's tries
        // would have outlasted it), back, load again.
        await Task.Delay(1500);
        await fixture.StopMasterAsync();
        await Task.Delay(Bound + TimeSpan.FromSeconds(1));
        await fixture.StartMasterAsync();
        await Task.Delay(3000);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var counts = string.Join(", ", ended.GroupBy(e => e.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        var slow = string.Join("\n", ended.Where(e => e.Took >= Bound).Select(e => $"{e.Status} after {e.Took}: {e.What}"));
        Assert.Equal(0, hangs);
        // Every request ends with a result or a 503 (never a 504: no request waits out a timeout), within the bound.
        Assert.All(ended, e => Assert.True(e.Status is 200 or 503, $"requests must end with 200 or 503: {counts}"));
        Assert.True(slow.Length == 0, $"requests that took {Bound} or more ({counts}):\n{slow}");
        Assert.Contains(ended, e => e.Status == 200);
        Assert.Contains(ended, e => e.Status == 503);
        await NextIsGoodAsync();
    }

    [Fact]
    public async Task Event_bus_socket_removed_then_master_restarted_recreates_it_and_jobs_finish_again()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
        var pub = Path.Combine(fixture.Daemon.SockDir, "master_event_pub.ipc");
        Assert.True(File.Exists(pub));
        File.Delete(pub);

        // The daemon's one subscription is already connected: jobs still finish.
        var r = await WsgiAsync(Ping, TimeSpan.FromSeconds(20));
        Assert.True(r.Status == 200 && r.Text == "{\"return\": [{\"ms--0\": true}]}", $"{r}");

        await fixture.StopMasterAsync();
        // Down: a request is a 503 (and the daemon has seen its connection go; one written as it closed is a 503 too).
        await Assert503Async(() => WsgiAsync(Ping, TimeSpan.FromSeconds(70)), "local");
        await fixture.StartMasterAsync();
        Assert.True(File.Exists(pub));
        await NextIsGoodAsync();
    }

    [Fact]
    public async Task Master_marker_socket_removed_gives_503_and_recreated_serves_again()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
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

        await NextIsGoodAsync();
    }

    [Fact]
    public async Task A_minion_that_never_answers_is_false_after_the_timeouts()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
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
        await NextIsGoodAsync();
        var body = $$"""[{"client": "runner", "fun": "test.sleep", "s_time": 20, "timeout": 2, {{Creds}}}]""";
        var sw = Stopwatch.StartNew();
        var wsgi = await WsgiAsync(body, TimeSpan.FromSeconds(15));
        Assert.Equal(504, wsgi.Status);
        var run = await RunAsync(body, TimeSpan.FromSeconds(15));
        Assert.Equal(504, run.Status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        await NextIsGoodAsync();
    }

    [Fact]
    public async Task Event_stream_survives_a_master_restart()
    {
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
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
        await Assert503Async(() => WsgiAsync(Ping, TimeSpan.FromSeconds(70)), "local");
        await fixture.StartMasterAsync();
        await NextIsGoodAsync();
        var marker = "hardening-" + Guid.NewGuid().ToString("N")[..8];
        // One job, run once: its events reach the stream opened before the restart (waited for, not sent again).
        var echo = await RunAsync($$"""[{"client": "local", "tgt": "ms--0", "fun": "test.echo", "arg": ["{{marker}}"], {{Creds}}}]""");
        Assert.Equal(200, echo.Status);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            lock (seen)
            {
                if (seen.ToString().Contains(marker, StringComparison.Ordinal))
                {
                    break;
                }
            }

            await Task.Delay(50);
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
