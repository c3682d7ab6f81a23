using System.Diagnostics;
using System.Net;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests.Ops;

/// <summary>
/// <c>saltapi_ops</c>'s <c>/livez</c> and <c>/readyz</c>: without auth, a word each; ready while the master
/// answers; and two daemons behind a real HAProxy with active checks, one of which loses its master.
/// </summary>
public sealed class HealthTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Health_is_served_without_metrics_and_without_auth_and_says_only_a_word()
    {
        await using var ops = await OpsDaemon.StartAsync(metrics: false);
        using var http = OpsDaemon.NewClient();
        using (var r = await http.GetAsync(new Uri(ops.Ops, "livez")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("ok\n", await r.Content.ReadAsStringAsync());
        }

        using (var r = await http.GetAsync(new Uri(ops.Ops, "readyz")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("ready\n", await r.Content.ReadAsStringAsync());
            Assert.False(r.Headers.Contains("Server"));
        }

        using (var r = await http.GetAsync(new Uri(ops.Ops, "metrics")))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await http.PostAsync(new Uri(ops.Ops, "readyz"), new StringContent("")))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_wrong_saltapi_ops_section_stops_the_daemon_at_start_naming_the_key()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Daemon.StartAsync("saltapi_ops:\n  port: 70000\n"));
        Assert.Contains("key 'saltapi_ops.port': must be 0 to 65535", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<InvalidOperationException>(() => Daemon.StartAsync("saltapi_ops:\n  host: 127.0.0.1\n"));
        Assert.Contains("key 'saltapi_ops.port': required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_saltapi_ops_key_is_ignored_as_Salt_ignores_keys_and_said_at_start()
    {
        var port = FreePort.Next();
        await using var d = await Daemon.StartAsync($"saltapi_ops:\n  host: 127.0.0.1\n  port: {port}\n  metric: true\n");
        await d.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        Assert.Contains("saltapi_ops.metric: unknown option (host, port, metrics): ignored", d.Output, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var r = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/livez"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [HaproxyFact]
    public async Task A_daemon_that_loses_its_master_is_taken_out_by_haproxy_within_the_check_interval_and_no_request_fails()
    {
        // Two masters, each with its own API daemon; the balancer checks each daemon's /readyz every 500 ms.
        await using var masterA = await ScaleOut.StartMasterAsync();
        await using var masterB = await ScaleOut.StartMasterAsync();
        var (opsA, opsB) = (FreePort.Next(), FreePort.Next());
        await using var apiA = await ScaleOut.StartApiAsync(masterA, Ops(opsA));
        await using var apiB = await ScaleOut.StartApiAsync(masterB, Ops(opsB));
        await apiA.WaitForPortAsync(opsA, TimeSpan.FromSeconds(60));
        await apiB.WaitForPortAsync(opsB, TimeSpan.FromSeconds(60));
        await using var haproxy = await Haproxy.StartAsync((port, stats) => $"""
            global
              maxconn 1000
            defaults
              mode http
              timeout connect 2s
              timeout client 60s
              timeout server 60s
              timeout check 3s
              option http-buffer-request
              retries 3
              option redispatch 1
              retry-on conn-failure empty-response 503
            frontend api
              bind 127.0.0.1:{port}
              default_backend saltapi
            backend saltapi
              balance roundrobin
              option httpchk GET /readyz
              http-check expect status 200
              default-server inter 500ms fall 2 rise 2
              server a 127.0.0.1:{apiA.WsgiPort} check port {opsA}
              server b 127.0.0.1:{apiB.WsgiPort} check port {opsB}
            frontend stats
              bind 127.0.0.1:{stats}
              stats enable
              stats uri /stats
            """);
        using var http = OpsDaemon.NewClient();
        await WaitForAsync(async () => (await haproxy.ServerAsync(http, "saltapi", "a"))["status"] == "UP" && (await haproxy.ServerAsync(http, "saltapi", "b"))["status"] == "UP", "both servers UP");

        // Clients call through the balancer the whole time: four loops of sync calls.
        var front = new Uri($"http://127.0.0.1:{haproxy.Port}/");
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = await OpsDaemon.PostAsync(http, front, new[] { new { client = "local", tgt = "ms--0", fun = "test.ping", eauth = "file", username = "saltdev", password = Daemon.Password } });
                Interlocked.Increment(ref sent);
                if (r.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                }
            }
        })).ToList();

        await WaitForAsync(async () => long.Parse((await haproxy.ServerAsync(http, "saltapi", "a"))["stot"], System.Globalization.CultureInfo.InvariantCulture) >= 10, "requests reach daemon A");

        // Daemon A loses its master.
        await masterA.DisposeAsync();
        var lost = Stopwatch.StartNew();
        await WaitForAsync(async () => (await haproxy.ServerAsync(http, "saltapi", "a"))["status"].StartsWith("DOWN", StringComparison.Ordinal), "daemon A marked DOWN");
        var takenOut = lost.Elapsed;
        using (var r = await http.GetAsync(new Uri($"http://127.0.0.1:{opsA}/readyz")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal("not ready\n", await r.Content.ReadAsStringAsync());
        }

        using (var r = await http.GetAsync(new Uri($"http://127.0.0.1:{opsA}/livez")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode); // alive, not ready
        }

        // From then on nothing goes to A: its session count stands still while B serves on.
        var toA = (await haproxy.ServerAsync(http, "saltapi", "a"))["stot"];
        var atDown = Volatile.Read(ref sent);
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref sent) >= atDown + 40), "40 more requests served");
        Assert.Equal(toA, (await haproxy.ServerAsync(http, "saltapi", "a"))["stot"]);
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        output.WriteLine($"daemon A taken out {takenOut.TotalSeconds:F2} s after its master stopped; {sent} requests, {failures.Count} failed");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}");
        // inter 500ms × fall 2, plus a check's own time: well within a few intervals even on a loaded machine.
        Assert.True(takenOut < TimeSpan.FromSeconds(10), $"taken out after {takenOut.TotalSeconds:F1} s");
    }

    private static string Ops(int port) => $"""
        saltapi_ops:
          host: 127.0.0.1
          port: {port}
        """;

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting for: {what}");
            await Task.Delay(100);
        }
    }
}
