using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>The two WebSockets of rest_tornado against the real daemon: raw events and the formatted view.</summary>
public sealed class WebSocketEndToEndTests(TornadoDaemonFixture fixture) : IClassFixture<TornadoDaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = fixture.Tornado, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private static OrderedDictionary<string, object?> Map(object? v) => Assert.IsType<OrderedDictionary<string, object?>>(v);

    private async Task<string> LoginAsync()
    {
        using var resp = await http.PostAsync("login", new StringContent($"{{\"username\": \"saltdev\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}", Encoding.UTF8, "application/json"));
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        return (string)Map(((List<object?>)Map(SaltJson.Parse(Encoding.UTF8.GetBytes(body)))["return"]!)[0])["token"]!;
    }

    private async Task<ClientWebSocket> ReadyAsync(string path)
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Port}/{path}"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
        return ws;
    }

    private static async Task<string> ReceiveUntilAsync(WebSocket ws, Func<string, bool> want)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var buffer = new byte[1 << 20];
            var count = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(buffer.AsMemory(count), limit.Token);
                count += r.Count;
            }
            while (!r.EndOfMessage);

            var text = Encoding.UTF8.GetString(buffer, 0, count);
            if (want(text))
            {
                return text;
            }
        }
    }

    [Fact]
    public async Task All_events_carries_a_job_started_over_http()
    {
        var token = await LoginAsync();
        using var ws = await ReadyAsync($"all_events/{token}");

        // The stream starts once the handler has read "ready": jobs are started until one's return is seen.
        var started = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var done = new CancellationTokenSource();
        var starter = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                using var r = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{\"client\": \"local_async\", \"tgt\": \"ms--4\", \"fun\": \"test.ping\"}", Encoding.UTF8, "application/json") };
                r.Headers.Add("X-Auth-Token", token);
                using var resp = await http.SendAsync(r);
                started.Add((string)Map(((List<object?>)Map(SaltJson.Parse(Encoding.UTF8.GetBytes(await resp.Content.ReadAsStringAsync())))["return"]!)[0])["jid"]!);
                await Task.Delay(300);
            }
        });
        try
        {
            var ret = await ReceiveUntilAsync(ws, t => started.Any(jid => t.Contains($"\"tag\": \"salt/job/{jid}/ret/ms--4\"", StringComparison.Ordinal)));
            var ev = Map(SaltJson.Parse(Encoding.UTF8.GetBytes(ret)));
            Assert.Equal(["data", "tag"], ev.Keys);
            Assert.Equal("ms--4", Map(ev["data"])["id"]);
        }
        finally
        {
            await done.CancelAsync();
            await starter;
        }
    }

    [Fact]
    public async Task Formatted_events_show_every_minion_with_its_grains()
    {
        var token = await LoginAsync();
        using var ws = await ReadyAsync($"formatted_events/{token}");

        // The grains.items job the handler starts fills the minions view, one return at a time.
        var text = await ReceiveUntilAsync(ws, t => t.StartsWith("{\"minions\": ", StringComparison.Ordinal) && t.Contains("\"ms--0\"", StringComparison.Ordinal) && t.Split("\"grains\"").Length == 6);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        var minions = Map(Map(SaltJson.Parse(Encoding.UTF8.GetBytes(text)))["minions"]);
        Assert.Equal(["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"], minions.Keys.Order());
        Assert.All(minions, kv => Assert.Equal(kv.Key, Map(Map(kv.Value)["grains"])["id"]));
    }
}
