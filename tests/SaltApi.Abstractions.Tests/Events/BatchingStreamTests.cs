using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Events;

namespace SaltApi.Abstractions.Tests.Events;

/// <summary>
/// Event WebSockets (rest_cherrypy's <c>/ws</c>, rest_tornado's <c>/all_events</c>): the events queued for a stream go
/// to the connection in one write (one socket send), each still its own WebSocket message with the same bytes.
/// </summary>
public sealed class BatchingStreamTests
{
    /// <summary>Records each write it is given.</summary>
    private sealed class Recorder : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.ToArray());
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task Writes_in_a_batch_reach_the_connection_as_one_write_and_others_at_once()
    {
        var inner = new Recorder();
        var stream = new BatchingStream(inner);

        await stream.WriteAsync("ping"u8.ToArray());
        Assert.Single(inner.Writes);

        stream.BeginBatch();
        await stream.WriteAsync("a"u8.ToArray());
        await stream.WriteAsync("bb"u8.ToArray());
        await stream.WriteAsync("ccc"u8.ToArray());
        Assert.Single(inner.Writes);
        await stream.EndBatchAsync(CancellationToken.None);

        Assert.Equal(2, inner.Writes.Count);
        Assert.Equal("abbccc", Encoding.ASCII.GetString(inner.Writes[1]));
        Assert.Equal("pingabbccc", Encoding.ASCII.GetString(inner.ToArray()));

        await stream.WriteAsync("pong"u8.ToArray());
        Assert.Equal(3, inner.Writes.Count);
    }

    [Fact]
    public async Task A_batch_that_outgrows_its_first_buffer_keeps_every_byte_in_order_in_one_write()
    {
        var inner = new Recorder();
        var stream = new BatchingStream(inner);
        var expected = new StringBuilder();
        stream.BeginBatch();
        // 3,000 small messages: ~29 KB, past the first buffer (InitialBatch) and three doublings.
        for (var i = 0; i < 3000; i++)
        {
            var message = $"m{i:D5}|";
            expected.Append(message);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(message));
        }

        Assert.True(expected.Length > 4 * BatchingStream.InitialBatch);
        Assert.Empty(inner.Writes);
        await stream.EndBatchAsync(CancellationToken.None);

        Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(Assert.Single(inner.Writes)));
    }

    [Fact]
    public async Task A_batch_never_holds_more_than_its_bound()
    {
        var inner = new Recorder();
        var stream = new BatchingStream(inner);
        var chunk = new byte[BatchingStream.MaxBatch / 4 + 1];
        stream.BeginBatch();
        for (var i = 0; i < 8; i++)
        {
            chunk.AsSpan().Fill((byte)('a' + i));
            await stream.WriteAsync(chunk);
        }

        await stream.EndBatchAsync(CancellationToken.None);
        Assert.All(inner.Writes, w => Assert.True(w.Length <= BatchingStream.MaxBatch));
        Assert.InRange(inner.Writes.Count, 3, 4);
        Assert.Equal(8 * chunk.Length, inner.ToArray().Length);
        Assert.Equal((byte)'h', inner.ToArray()[^1]);
    }

    [Fact]
    public async Task Messages_sent_in_a_batch_arrive_as_the_same_separate_WebSocket_messages_after_one_send()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        var recorder = new CountingStream(accepted.GetStream());
        var connection = new BatchingStream(recorder);
        using var server = WebSocket.CreateFromStream(connection, new WebSocketCreationOptions { IsServer = true });
        using var reader = WebSocket.CreateFromStream(client.GetStream(), new WebSocketCreationOptions { IsServer = false });

        var texts = Enumerable.Range(0, 5).Select(i => $"data: {{\"data\": {{\"n\": {i}}}, \"tag\": \"t/{i}\"}}\n\n").ToArray();
        connection.BeginBatch();
        foreach (var t in texts)
        {
            await server.SendAsync(Encoding.UTF8.GetBytes(t), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        Assert.Equal(0, recorder.Writes);
        await connection.EndBatchAsync(CancellationToken.None);
        Assert.Equal(1, recorder.Writes);

        var buffer = new byte[4096];
        foreach (var t in texts)
        {
            var r = await reader.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Assert.True(r.EndOfMessage);
            Assert.Equal(WebSocketMessageType.Text, r.MessageType);
            Assert.Equal(t, Encoding.UTF8.GetString(buffer, 0, r.Count));
        }
    }

    [Fact]
    public async Task A_batch_ended_by_a_cancelled_stream_holds_back_nothing_after_it()
    {
        // A stream ending mid-batch ends it with its cancelled token: the close frame written next must still
        // go out, after what the batch held, and the stream writes at once from then on.
        var inner = new Recorder();
        var stream = new BatchingStream(inner);
        stream.BeginBatch();
        await stream.WriteAsync("event"u8.ToArray());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.EndBatchAsync(cancelled.Token));
        Assert.Empty(inner.Writes);

        await stream.WriteAsync("close"u8.ToArray());
        Assert.Equal("eventclose", Encoding.ASCII.GetString(inner.ToArray()));
        Assert.Equal(2, inner.Writes.Count);
        Assert.Equal(2, stream.Writes);
    }

    /// <summary>Counts the writes that reach the socket.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public int Writes;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Writes);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref Writes);
            inner.Write(buffer, offset, count);
        }

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
