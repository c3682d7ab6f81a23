using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>Stopping the daemon: open streams end at once, so the drain does not wait out the stop bound.</summary>
public sealed class StopTests
{
    [Fact]
    public async Task Open_streams_end_when_the_module_stops()
    {
        var host = await TornadoHost.StartAsync();
        var token = await host.LoginAsync();
        using var sse = new HttpRequestMessage(HttpMethod.Get, "/events");
        sse.Headers.Add("X-Auth-Token", token);
        using var events = await host.Http.SendAsync(sse, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 400", await reader.ReadLineAsync());
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/all_events/{token}"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
        for (var i = 0; i < 200 && host.Client.Bus.Subscribers < 2; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(2, host.Client.Bus.Subscribers);
        var closed = ws.ReceiveAsync(new byte[256], CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await host.DisposeAsync();
        Assert.True(host.Run.IsCompletedSuccessfully, "the module did not return");

        // Well inside the 10 s stop bound: the streams were ended, not aborted when the bound ran out.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"stopping took {clock.Elapsed}");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal("", await reader.ReadToEndAsync(limit.Token));
        Assert.Equal(WebSocketMessageType.Close, (await closed.WaitAsync(limit.Token)).MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus);
    }
}
