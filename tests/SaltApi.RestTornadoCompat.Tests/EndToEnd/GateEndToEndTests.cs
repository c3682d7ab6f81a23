using System.Net;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>rest_tornado's request gate takes rest_cherrypy's options: thread_pool running, queue_size waiting, then 503.</summary>
public sealed class GateEndToEndTests
{
    [Fact]
    public async Task Past_thread_pool_and_queue_size_a_request_is_a_503()
    {
        var port = FreePort.Next();
        await using var daemon = await Daemon.StartAsync(
            $"rest_tornado: {{address: 127.0.0.1, port: {port}, disable_ssl: True, thread_pool: 1, queue_size: 1}}",
            waitForPorts: [port]);
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(90) };
        string token;
        using (var login = await http.PostAsync("login", Json($"{{\"username\": \"saltdev\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}")))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            // rest_tornado's /login answers the token in its body only: {"return": [{"token": ...}]}.
            var body = SaltJson.Parse(await login.Content.ReadAsByteArrayAsync());
            token = (string)((OrderedDictionary<string, object?>)((List<object?>)((OrderedDictionary<string, object?>)body!)["return"]!)[0]!)["token"]!;
        }

        // One runs (5 s), one waits for its slot; the other two find the queue full at once.
        using var start = new SemaphoreSlim(0);
        var calls = Enumerable.Range(0, 4).Select(async _ =>
        {
            await start.WaitAsync();
            using var r = new HttpRequestMessage(HttpMethod.Post, "") { Content = Json("""[{"client": "local", "tgt": "ms--0", "fun": "test.sleep", "arg": [5]}]""") };
            r.Headers.Add("X-Auth-Token", token);
            r.Headers.Add("Accept", "application/json");
            using var resp = await http.SendAsync(r);
            return (resp.StatusCode, Body: await resp.Content.ReadAsStringAsync());
        }).ToList();
        start.Release(4);
        var answers = await Task.WhenAll(calls);
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.OK), a => Assert.Contains("\"ms--0\": true", a.Body, StringComparison.Ordinal));
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.ServiceUnavailable));
    }

    [Fact]
    public void The_gate_options_are_bound_with_their_defaults_and_checked()
    {
        var defaults = Plugins.RestTornadoCompat.Config.TornadoOptions.Bind(new Dictionary<string, object?> { ["port"] = 8002L });
        Assert.Equal((128, 1024), (defaults.Listener.ThreadPool, defaults.Listener.QueueSize));
        var set = Plugins.RestTornadoCompat.Config.TornadoOptions.Bind(new Dictionary<string, object?> { ["port"] = 8002L, ["thread_pool"] = "4", ["queue_size"] = 0L });
        Assert.Equal((4, 0), (set.Listener.ThreadPool, set.Listener.QueueSize));
        var e = Assert.Throws<Abstractions.Modules.NetapiConfigException>(() => Plugins.RestTornadoCompat.Config.TornadoOptions.Bind(
            new Dictionary<string, object?> { ["port"] = 8002L, ["thread_pool"] = 0L, ["queue_size"] = "many" }));
        Assert.Equal(["rest_tornado.thread_pool", "rest_tornado.queue_size"], e.Problems.Select(p => p.Key));
        Assert.Contains("not 'many'", e.Problems[1].Message, StringComparison.Ordinal);
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
