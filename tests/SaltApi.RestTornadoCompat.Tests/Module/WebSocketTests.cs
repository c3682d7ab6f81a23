using System.Net.WebSockets;
using System.Net;
using System.Text;
using SaltApi.Abstractions.Events;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary><c>/all_events/&lt;token&gt;</c> and <c>/formatted_events/&lt;token&gt;</c> with a scripted bus.</summary>
public sealed class WebSocketTests : IAsyncLifetime
{
    private TornadoHost host = null!;

    public async Task InitializeAsync() => host = await TornadoHost.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    private static OrderedDictionary<string, object?> M(params (string K, object? V)[] kv) => ScriptedClient.M(kv);

    private async Task<ClientWebSocket> ConnectReadyAsync(string path)
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}{path}"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
        for (var i = 0; i < 200 && host.Client.Bus.Subscribers == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, host.Client.Bus.Subscribers);
        return ws;
    }

    internal static async Task<string> ReceiveAsync(WebSocket ws)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[1 << 20];
        var count = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            r = await ws.ReceiveAsync(buffer.AsMemory(count), limit.Token);
            count += r.Count;
        }
        while (!r.EndOfMessage);

        return Encoding.UTF8.GetString(buffer, 0, count);
    }

    [Fact]
    public async Task All_events_sends_each_event_after_the_client_is_ready()
    {
        var token = await host.LoginAsync();
        using var ws = await ConnectReadyAsync($"/all_events/{token}");
        host.Client.Bus.Publish(new SaltEvent("salt/job/1/ret/ms--0", M(("id", "ms--0"), ("return", true))));
        Assert.Equal("{\"data\": {\"id\": \"ms--0\", \"return\": true}, \"tag\": \"salt/job/1/ret/ms--0\"}", await ReceiveAsync(ws));
    }

    [Fact]
    public async Task Formatted_events_keep_a_live_view_of_jobs_and_minions()
    {
        var token = await host.LoginAsync();
        using var ws = await ConnectReadyAsync($"/formatted_events/{token}");

        // As FormattedEventsHandler: every minion is asked for its grains first.
        for (var i = 0; i < 200 && host.Client.Lowstates.IsEmpty; i++)
        {
            await Task.Delay(10);
        }

        var grains = Assert.Single(host.Client.Lowstates);
        Assert.Equal(("grains.items", "*", token), (grains["fun"], grains["tgt"], grains["token"]));

        host.Client.Bus.Publish(new SaltEvent("salt/job/20261126171352452203/new", M(("jid", "20261126171352452203"), ("minions", new List<object?> { "ms--0" }), ("fun", "grains.items"), ("tgt", "*"), ("tgt_type", "glob"), ("_stamp", "2026-11-26T17:13:52.452203"))));
        Assert.Equal(
            "{\"jobs\": {\"20261126171352452203\": {\"jid\": \"20261126171352452203\", \"start_time\": \"2026-11-26T17:13:52.452203\", \"minions\": {\"ms--0\": {\"success\": false}}, \"fun\": \"grains.items\", \"tgt\": \"*\", \"tgt_type\": \"glob\", \"state\": \"running\"}}}\n\n",
            await ReceiveAsync(ws));

        host.Client.Bus.Publish(new SaltEvent("salt/job/20261126171352452203/ret/ms--0", M(("id", "ms--0"), ("fun", "grains.items"), ("return", M(("os", "Debian"))), ("retcode", 0L), ("success", true))));
        var jobs = await ReceiveAsync(ws);
        Assert.Contains("\"minions\": {\"ms--0\": {\"success\": true, \"return\": {\"os\": \"Debian\"}, \"retcode\": 0}}", jobs, StringComparison.Ordinal);
        Assert.Contains("\"state\": \"complete\"", jobs, StringComparison.Ordinal);
        Assert.Equal("{\"minions\": {\"ms--0\": {\"grains\": {\"os\": \"Debian\"}, \"id\": \"ms--0\"}}}\n\n", await ReceiveAsync(ws));

        // A presence event with a new minion asks it for its grains.
        host.Client.Bus.Publish(new SaltEvent("salt/presence/change", M(("new", new List<object?> { "ms--7" }))));
        Assert.Contains("\"ms--7\": {\"id\": \"ms--7\"}", await ReceiveAsync(ws), StringComparison.Ordinal);
        for (var i = 0; i < 200 && host.Client.Lowstates.Count < 2; i++)
        {
            await Task.Delay(10);
        }

        var asked = host.Client.Lowstates.Last();
        Assert.Equal(("ms--7", "list"), (asked["tgt"], asked["tgt_type"]));
    }

    [Fact]
    public async Task The_stream_ends_when_the_token_expires()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var token = new SaltApi.Abstractions.Client.SaltToken(new string('d', 64), "saltdev", "file", now, now + 3, null);
        host.Client.Tokens[token.Token] = token;
        using var ws = await ConnectReadyAsync($"/all_events/{token.Token}");
        host.Client.Bus.Publish(new SaltEvent("before/expiry", M()));
        Assert.Contains("before/expiry", await ReceiveAsync(ws), StringComparison.Ordinal);
        await Task.Delay(3200);
        host.Client.Bus.Publish(new SaltEvent("after/expiry", M()));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var r = await ws.ReceiveAsync(new byte[1024], limit.Token);
        Assert.Equal(WebSocketMessageType.Close, r.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact]
    public async Task Upgrade_errors_are_tornados()
    {
        var token = await host.LoginAsync();
        var (status, body, _) = await host.SendAsync(HttpMethod.Get, $"/all_events/{new string('a', 64)}");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>", body);
        (status, body, _) = await host.SendAsync(HttpMethod.Get, $"/all_events/{token}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Can \"Upgrade\" only to \"WebSocket\".", body);
        (status, _, _) = await host.SendAsync(HttpMethod.Get, $"/formatted_events/{token[..40]}");
        Assert.Equal(HttpStatusCode.NotFound, status);

        using var crossOrigin = new ClientWebSocket();
        crossOrigin.Options.SetRequestHeader("Origin", "http://evil.example");
        var e = await Assert.ThrowsAsync<WebSocketException>(() => crossOrigin.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/all_events/{token}"), CancellationToken.None));
        Assert.Contains("403", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_too_big_closes_the_socket()
    {
        var token = await host.LoginAsync();
        using var ws = await ConnectReadyAsync($"/all_events/{token}");
        await ws.SendAsync(new byte[64 * 1024], WebSocketMessageType.Text, true, CancellationToken.None);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var r = await ws.ReceiveAsync(new byte[1024], limit.Token);
        Assert.Equal(WebSocketMessageType.Close, r.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ws.CloseStatus);
    }

    [Fact]
    public async Task Without_websockets_the_paths_are_not_served()
    {
        await using var plain = await TornadoHost.StartAsync(("websockets", false));
        var token = await plain.LoginAsync();
        var (status, _, _) = await plain.SendAsync(HttpMethod.Get, $"/all_events/{token}");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public void Event_json_is_the_listeners_map()
    {
        Assert.Equal("{\"data\": {\"a\": 1}, \"tag\": \"t\"}", Encoding.UTF8.GetString(new SaltEvent("t", M(("a", 1L))).Utf8Json().Span));
    }
}
