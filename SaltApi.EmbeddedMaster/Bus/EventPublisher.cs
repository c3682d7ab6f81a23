using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SaltApi.Protocol.Events;

namespace SaltApi.EmbeddedMaster.Bus;

/// <summary>
/// The master event bus as Salt's EventPublisher runs it (spec/02): a unix stream socket
/// <c>master_event_pub.ipc</c> where every connected reader gets every frame, and
/// <c>master_event_pull.ipc</c> whose frames are republished verbatim. Each reader has a bounded
/// queue; a reader that falls too far behind is disconnected instead of slowing the master.
/// Deliberate difference: Salt buffers without limit for a slow reader (ipc_write_buffer 0).
/// </summary>
internal sealed class EventPublisher : IAsyncDisposable
{
    private readonly ILogger log;
    private readonly int readerQueue;
    private readonly int maxReaders;
    private readonly ConcurrentDictionary<long, Reader> readers = new();
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> loops = [];
    private Socket? pubListener;
    private Socket? pullListener;
    private long nextReaderId;
    private int pullConnections;

    public EventPublisher(ILogger log, int readerQueue, int maxReaders)
    {
        this.log = log;
        this.readerQueue = readerQueue;
        this.maxReaders = maxReaders;
    }

    /// <summary>The number of connected readers.</summary>
    public int ReaderCount => readers.Count;

    /// <summary>Binds both sockets; modes as Salt sets them (pub 0666 only with external_auth/publisher_acl).</summary>
    public void Start(string pubPath, string pullPath, bool pubWorldWritable)
    {
        pubListener = Listen(pubPath, pubWorldWritable ? Values.UnixFiles.World : Values.UnixFiles.Owner);
        pullListener = Listen(pullPath, Values.UnixFiles.Owner);
        // A dedicated thread accepts readers, so a reader that connected is registered at once, even when
        // the thread pool is busy: events fired after that are never lost for it.
        var acceptThread = new Thread(() => AcceptPub(pubListener)) { IsBackground = true, Name = "salt-master event pub accept" };
        acceptThread.Start();
        loops.Add(Task.Run(() => AcceptPullAsync(pullListener)));
    }

    private static Socket Listen(string path, UnixFileMode mode)
    {
        if (File.Exists(path))
        {
            File.Delete(path); // a stale socket file from a previous run
        }

        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(new UnixDomainSocketEndPoint(path));
            Values.UnixFiles.SetMode(path, mode);
            s.Listen(512);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Fires one event (data is encoded as is; add <c>_stamp</c> yourself where its position matters).</summary>
    public void Fire(string tag, IEnumerable<KeyValuePair<string, object?>> data)
    {
        if (readers.IsEmpty)
        {
            return; // nobody listens: as Salt's publisher, the event is simply gone
        }

        Publish(EventFrame.Encode(tag, data));
    }

    /// <summary>Fires events in order as one queue entry per reader (so, mostly, one socket write).</summary>
    public void Fire(params ReadOnlySpan<(string Tag, OrderedDictionary<string, object?> Data)> events)
    {
        if (readers.IsEmpty)
        {
            return;
        }

        var frames = new byte[events.Length][];
        for (var i = 0; i < events.Length; i++)
        {
            var (tag, data) = events[i];
            frames[i] = EventFrame.Encode(tag, data);
        }

        Publish(frames);
    }

    /// <summary>Sends one whole frame to every reader.</summary>
    public void Publish(byte[] frame) => Publish(frame, 1);

    /// <summary>Sends whole frames, in order, to every reader in one queue entry (and so, mostly, one socket write).</summary>
    public void Publish(IReadOnlyList<byte[]> frames)
    {
        switch (frames.Count)
        {
            case 0:
                return;
            case 1:
                Publish(frames[0], 1);
                return;
        }

        if (readers.IsEmpty)
        {
            return;
        }

        var length = 0;
        foreach (var f in frames)
        {
            length += f.Length;
        }

        var joined = new byte[length];
        var at = 0;
        foreach (var f in frames)
        {
            f.CopyTo(joined, at);
            at += f.Length;
        }

        Publish(joined, frames.Count);
    }

    // The reader queues count frames, not entries, so reader_queue keeps its meaning for joined frames.
    private void Publish(byte[] bytes, int frames)
    {
        foreach (var (id, reader) in readers)
        {
            if (Interlocked.Add(ref reader.Pending, frames) > readerQueue || !reader.Queue.Writer.TryWrite(new Entry(bytes, frames)))
            {
                log.LogWarning("event bus reader {Reader} fell more than {Limit} events behind; disconnecting it", id, readerQueue);
                Drop(id, reader);
            }
        }
    }

    private void Drop(long id, Reader reader)
    {
        if (readers.TryRemove(id, out _))
        {
            reader.Queue.Writer.TryComplete();
            try
            {
                reader.Socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void AcceptPub(Socket listener)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket conn;
            try
            {
                conn = listener.Accept();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException or InvalidOperationException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (readers.Count >= maxReaders)
            {
                log.LogWarning("event bus: {Max} readers connected; refusing another", maxReaders);
                conn.Dispose();
                continue;
            }

            var id = Interlocked.Increment(ref nextReaderId);
            // Unbounded as a channel, bounded by Reader.Pending: publishers never take a lock the writer loop holds.
            var reader = new Reader(conn, System.Threading.Channels.Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true }));
            readers[id] = reader;
            _ = Task.Run(() => WriteLoopAsync(id, reader));
        }
    }

    // Drains the reader's queue, gathering what is pending into one write (returns are batched).
    private async Task WriteLoopAsync(long id, Reader reader)
    {
        var batch = new ArrayBufferWriter<byte>(64 * 1024);
        var watch = Task.Run(() => WatchClosedAsync(id, reader));
        try
        {
            while (await reader.Queue.Reader.WaitToReadAsync(stop.Token))
            {
                batch.ResetWrittenCount();
                while (batch.WrittenCount < 1024 * 1024 && reader.Queue.Reader.TryRead(out var entry))
                {
                    Interlocked.Add(ref reader.Pending, -entry.Frames);
                    batch.Write(entry.Bytes);
                }

                var mem = batch.WrittenMemory;
                while (!mem.IsEmpty)
                {
                    var n = await reader.Socket.SendAsync(mem, SocketFlags.None, stop.Token);
                    mem = mem[n..];
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or ChannelClosedException)
        {
        }
        finally
        {
            Drop(id, reader);
            reader.Socket.Dispose();
            await watch;
        }
    }

    // Readers never write; a zero-byte read means the reader went away.
    private async Task WatchClosedAsync(long id, Reader reader)
    {
        var buf = new byte[256];
        try
        {
            while (true)
            {
                var n = await reader.Socket.ReceiveAsync(buf, SocketFlags.None, stop.Token);
                if (n == 0)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        Drop(id, reader);
    }

    private async Task AcceptPullAsync(Socket listener)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket conn;
            try
            {
                conn = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref pullConnections) > maxReaders)
            {
                Interlocked.Decrement(ref pullConnections);
                conn.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await PullLoopAsync(conn);
                }
                finally
                {
                    Interlocked.Decrement(ref pullConnections);
                    conn.Dispose();
                }
            });
        }
    }

    // Reads frames off one firer's connection and republishes each one's bytes unchanged.
    private async Task PullLoopAsync(Socket conn)
    {
        await using var stream = new NetworkStream(conn, ownsSocket: false);
        var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var result = await pipe.ReadAsync(stop.Token);
                var buffer = result.Buffer;
                while (true)
                {
                    var before = buffer;
                    BusEvent? evt;
                    try
                    {
                        if (!EventFrame.TryRead(ref buffer, out evt))
                        {
                            break;
                        }
                    }
                    catch (Exception e) when (e is SaltApi.Protocol.Msgpack.SaltProtocolException or ArgumentException or InvalidOperationException or OverflowException)
                    {
                        log.LogWarning("event bus: dropping a firer that sent bytes that are not an event frame: {Error}", e.Message);
                        return;
                    }

                    var raw = before.Slice(0, before.Length - buffer.Length);
                    if (evt is null)
                    {
                        continue; // not an event (no body): Salt logs and drops it
                    }

                    // The old 4-byte length prefix is not what 3006 readers expect: re-frame those.
                    var first = raw.FirstSpan[0];
                    var isMap = first is >= 0x80 and <= 0x8f or 0xde or 0xdf;
                    Publish(isMap ? raw.ToArray() : raw.Slice(4).ToArray());
                }

                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            await pipe.CompleteAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        pubListener?.Dispose();
        pullListener?.Dispose();
        foreach (var (id, reader) in readers)
        {
            Drop(id, reader);
        }

        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }


    }

    private readonly record struct Entry(byte[] Bytes, int Frames);

    private sealed class Reader(Socket socket, Channel<Entry> queue)
    {
        public Socket Socket { get; } = socket;

        public Channel<Entry> Queue { get; } = queue;

        /// <summary>Frames queued and not yet taken by the writer loop.</summary>
        public int Pending;
    }
}
