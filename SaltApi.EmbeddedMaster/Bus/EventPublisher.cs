using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
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
internal sealed partial class EventPublisher(ILogger log, int readerQueue, int maxReaders) : IAsyncDisposable
{
    // The primary constructor parameters are in scope only in this part: the pull part uses the fields.
    private readonly ILogger log = log;
    private readonly int readerQueue = readerQueue;
    private readonly int maxReaders = maxReaders;
    private readonly ConcurrentDictionary<long, Reader> readers = new();
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> loops = [];
    private Socket? pubListener;
    private Socket? pullListener;
    private long nextReaderId;
    private int pullConnections;

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
        File.Delete(path); // a stale socket file from a previous run

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

    /// <summary>Salt's fire_event, which mutates the data: <c>_stamp</c> is set (kept in place when it exists), then the event fired.</summary>
    public void FireStamped(string tag, OrderedDictionary<string, object?> data)
    {
        data["_stamp"] = EventFrame.Stamp(DateTime.UtcNow);
        Fire(tag, data);
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
            if (!reader.TryEnqueue(new Entry(bytes, frames), readerQueue))
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
            reader.Close();
            try
            {
                reader.Socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
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
            var reader = new Reader(conn);
            readers[id] = reader;
            if (stop.IsCancellationRequested)
            {
                Drop(id, reader); // stopped meanwhile: DisposeAsync may have dropped the others already
            }

            // The reader's writes on a thread of its own, as the pull loops: a write that waits for the thread
            // pool's queue waits behind whatever else is queued there (with 1,000 /events streams, a thousand
            // stream writers after every hand-off), and every reader would get each event that much later.
            new Thread(() => WriteLoop(id, reader)) { IsBackground = true, Name = "salt-master event pub write" }.Start();
            _ = Task.Run(() => WatchClosedAsync(id, reader));
        }
    }

    // Drains the reader's queue, gathering what is pending into one write (returns are batched). Blocking: a
    // reader that stops reading blocks only its own thread, and is dropped (its socket shut, which ends the
    // send) once reader_queue events wait for it.
    private void WriteLoop(long id, Reader reader)
    {
        var batch = new ArrayBufferWriter<byte>(64 * 1024);
        var taken = new List<Entry>();
        try
        {
            while (reader.Take(taken, 1024 * 1024))
            {
                ReadOnlySpan<byte> mem;
                if (taken.Count == 1)
                {
                    mem = taken[0].Bytes;
                }
                else
                {
                    batch.ResetWrittenCount();
                    foreach (var entry in taken)
                    {
                        batch.Write(entry.Bytes);
                    }

                    mem = batch.WrittenSpan;
                }

                taken.Clear();
                while (!mem.IsEmpty)
                {
                    mem = mem[reader.Socket.Send(mem, SocketFlags.None)..];
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Drop(id, reader);
            reader.Socket.Dispose();
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

    /// <summary>
    /// A reader's socket and queue. The queue's lock is held only to add or take entries, never during a send;
    /// it is bounded by frames (<c>reader_queue</c>), not entries.
    /// </summary>
    private sealed class Reader(Socket socket)
    {
        private readonly Queue<Entry> queue = new();
        private int pending;
        private bool closed;
        private bool waiting;

        public Socket Socket { get; } = socket;

        /// <summary>Queues an entry; false (and nothing queued) when closed or when it would pass the bound.</summary>
        public bool TryEnqueue(Entry entry, int limit)
        {
            lock (queue)
            {
                if (closed || pending + entry.Frames > limit)
                {
                    return false;
                }

                queue.Enqueue(entry);
                pending += entry.Frames;
                if (waiting)
                {
                    Monitor.Pulse(queue);
                }

                return true;
            }
        }

        /// <summary>
        /// Waits for entries and moves what is queued (up to about <paramref name="maxBytes"/>) into
        /// <paramref name="taken"/>, cleared first; the bytes are copied by the caller, out of the lock. False once closed.
        /// </summary>
        public bool Take(List<Entry> taken, int maxBytes)
        {
            taken.Clear();
            var bytes = 0;
            lock (queue)
            {
                while (queue.Count == 0 && !closed)
                {
                    waiting = true;
                    Monitor.Wait(queue);
                    waiting = false;
                }

                if (closed)
                {
                    return false;
                }

                while (bytes < maxBytes && queue.TryDequeue(out var entry))
                {
                    pending -= entry.Frames;
                    bytes += entry.Bytes.Length;
                    taken.Add(entry);
                }

                return true;
            }
        }

        public void Close()
        {
            lock (queue)
            {
                closed = true;
                queue.Clear();
                Monitor.PulseAll(queue);
            }
        }
    }
}
