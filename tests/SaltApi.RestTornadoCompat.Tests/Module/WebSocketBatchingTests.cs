using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestTornadoCompat;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Plugins.RestTornadoCompat.Handlers;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>
/// <c>/all_events</c> and <c>/formatted_events</c> send the events of one hand-off in one write to the connection:
/// still one WebSocket message per event, in order, and pings, pongs and the close go through mid-stream. The
/// module's own pipeline on a loopback Kestrel, with a layer under it that counts the writes reaching the socket.
/// </summary>
public sealed class WebSocketBatchingTests : IAsyncLifetime, IDisposable
{
    private readonly HandOffBus bus = new();
    private readonly ScriptedClient client = new();
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentQueue<CountingStream> connections = new();
    private readonly byte[] message = new byte[64 * 1024];
    private WebApplication web = null!;
    private Saltnado saltnado = null!;
    private Uri baseUri = null!;
    private string token = null!;

    public async Task InitializeAsync()
    {
        var section = new Dictionary<string, object?> { ["port"] = 0L, ["address"] = "127.0.0.1", ["disable_ssl"] = true, ["websockets"] = true };
        var context = new NetapiModuleContext(section, new Dictionary<string, object?>(), client, bus, new ListLogger(), stop.Token);
        web = NetapiWebHost.CreateBuilder(context, new ListenerOptions("127.0.0.1", 0)).Build();

        // Under everything the module adds: every write of an upgraded connection is a write to its socket.
        web.Use((ctx, next) =>
        {
            if (ctx.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                ctx.Features.Set<IHttpUpgradeFeature>(new CountingUpgrade(upgrade, connections));
            }

            return next(ctx);
        });
        // As the kit's module host serves WebSockets.
        BatchingUpgradeFeature.Use(web);
        web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        saltnado = RestTornadoModule.Use(web, TornadoOptions.Bind(section), context);
        await web.StartAsync();
        baseUri = new Uri(web.Urls.Single().Replace("http://", "ws://", StringComparison.Ordinal));

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        token = new string('b', 64);
        client.Tokens[token] = new SaltToken(token, "saltdev", "file", now, now + 3600, null);
    }

    public async Task DisposeAsync()
    {
        await stop.CancelAsync();
        await web.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        saltnado.Dispose();
        await web.DisposeAsync();
    }

    public void Dispose() => stop.Dispose();

    private static SaltEvent Event(int n) => new($"salt/job/2026120200000000{n:D4}/ret/ms--{n}", ScriptedClient.M(("id", $"ms--{n}"), ("n", (long)n), ("return", new string('x', n % 100))));

    private async Task<ClientWebSocket> ConnectReadyAsync(string path, Action<ClientWebSocketOptions>? options = null)
    {
        var ws = new ClientWebSocket();
        options?.Invoke(ws.Options);
        await ws.ConnectAsync(new Uri(baseUri, path), CancellationToken.None);
        await ws.SendAsync("websocket client ready"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        return ws;
    }

    // One whole message (64 KiB at most).
    private async Task<string> ReceiveAsync(WebSocket ws)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var count = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            Assert.True(count < message.Length, "message too big");
            r = await ws.ReceiveAsync(message.AsMemory(count), limit.Token);
            count += r.Count;
        }
        while (!r.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, r.MessageType);
        return Encoding.UTF8.GetString(message, 0, count);
    }

    [Fact]
    public async Task All_events_sends_a_hand_off_as_one_message_per_event_in_one_write()
    {
        // 50 events waiting when the stream subscribes: one hand-off.
        var events = Enumerable.Range(0, 50).Select(Event).ToArray();
        bus.Held = events;
        using var ws = await ConnectReadyAsync($"/all_events/{token}");

        foreach (var e in events)
        {
            Assert.Equal(Encoding.UTF8.GetString(e.Utf8Json().Span), await ReceiveAsync(ws));
        }

        var connection = Assert.Single(connections);
        Assert.Equal(1, connection.Writes);

        // The stream goes on: the next hand-off is a write of its own, and the close comes at once.
        bus.Publish([Event(50), Event(51)]);
        Assert.Contains("ms--50", await ReceiveAsync(ws), StringComparison.Ordinal);
        Assert.Contains("ms--51", await ReceiveAsync(ws), StringComparison.Ordinal);
        Assert.InRange(connection.Writes, 2, 3);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", bound.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact]
    public async Task Formatted_events_sends_a_hand_off_in_one_write()
    {
        // Each new job is one message of the live view (SaltInfo.process), in the order of the events.
        var jids = Enumerable.Range(0, 20).Select(n => $"2026120200000000{n:D4}").ToArray();
        bus.Held = jids.Select(jid => new SaltEvent($"salt/job/{jid}/new", ScriptedClient.M(("jid", jid), ("minions", new List<object?> { "ms--0" }), ("fun", "test.ping"), ("tgt", "*"), ("tgt_type", "glob"), ("_stamp", "2026-12-02T00:00:00.000000")))).ToArray();
        using var ws = await ConnectReadyAsync($"/formatted_events/{token}");

        for (var i = 0; i < jids.Length; i++)
        {
            var message = await ReceiveAsync(ws);
            Assert.StartsWith("{\"jobs\": {", message, StringComparison.Ordinal);
            Assert.Contains($"\"{jids[i]}\": {{\"jid\": \"{jids[i]}\"", message, StringComparison.Ordinal);
            Assert.DoesNotContain(i + 1 < jids.Length ? jids[i + 1] : "none", message, StringComparison.Ordinal);
        }

        Assert.Equal(1, Assert.Single(connections).Writes);
    }

    [Fact]
    public async Task Pings_are_answered_and_the_close_goes_through_while_events_stream()
    {
        // The client pings every 50 ms and gives up on the connection if a pong takes over 2 s, while hand-offs
        // of 5 events come every 10 ms; then it closes in the middle of the stream.
        using var ws = await ConnectReadyAsync($"/all_events/{token}", o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(50);
            o.KeepAliveTimeout = TimeSpan.FromSeconds(2);
        });
        for (var i = 0; i < 200 && bus.Subscribers == 0; i++)
        {
            await Task.Delay(10);
        }

        using var publishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            for (var n = 0; !publishing.IsCancellationRequested; n += 5)
            {
                bus.Publish(Enumerable.Range(n, 5).Select(Event).ToArray());
                await Task.Delay(10, CancellationToken.None);
            }
        });
        try
        {
            var started = DateTime.UtcNow;
            var received = 0;
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(3))
            {
                Assert.Contains($"\"n\": {received},", await ReceiveAsync(ws), StringComparison.Ordinal);
                received++;
            }

            Assert.Equal(WebSocketState.Open, ws.State);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", bound.Token);
            Assert.Equal(WebSocketState.Closed, ws.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
        }
        finally
        {
            await publishing.CancelAsync();
            await publisher;
        }

        var connection = Assert.Single(connections);
        Assert.True(connection.Writes > 1, $"{connection.Writes} writes");
    }

    /// <summary>
    /// A bus whose subscribers start with <see cref="Held"/> queued (one hand-off waiting when the stream
    /// subscribes); <see cref="Publish"/> hands events to every subscriber together.
    /// </summary>
    private sealed class HandOffBus : IEventStream
    {
        private readonly ConcurrentDictionary<Sub, bool> subs = new();

        public IReadOnlyList<SaltEvent> Held { get; set; } = [];

        public int Subscribers => subs.Count;

        public IEventSubscription Subscribe()
        {
            var s = new Sub(this);
            foreach (var e in Held)
            {
                Assert.True(s.Channel.Writer.TryWrite(e));
            }

            subs[s] = true;
            return s;
        }

        public void Publish(IReadOnlyList<SaltEvent> events)
        {
            foreach (var s in subs.Keys)
            {
                foreach (var e in events)
                {
                    if (!s.Channel.Writer.TryWrite(e))
                    {
                        s.Channel.Writer.TryComplete(new EventStreamOverflowException());
                    }
                }
            }
        }

        private sealed class Sub(HandOffBus bus) : IEventSubscription
        {
            public Channel<SaltEvent> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<SaltEvent>(10_000);

            public ChannelReader<SaltEvent> Reader => Channel.Reader;

            public void Dispose() => bus.subs.TryRemove(this, out _);
        }
    }

    /// <summary>The server's upgrade, its connection handed out through a <see cref="CountingStream"/>.</summary>
    private sealed class CountingUpgrade(IHttpUpgradeFeature inner, ConcurrentQueue<CountingStream> connections) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync()
        {
            var counting = new CountingStream(await inner.UpgradeAsync());
            connections.Enqueue(counting);
            return counting;
        }
    }

    /// <summary>Counts the writes that reach the socket (Kestrel flushes each write of an upgraded connection).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private int writes;

        public int Writes => Volatile.Read(ref writes);

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref writes);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref writes);
            inner.Write(buffer, offset, count);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
