using System.Buffers;
using System.Net.Sockets;
using SaltApi.Protocol.Events;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>Runs alone: it holds every thread of the process's thread pool for a moment.</summary>
[CollectionDefinition(nameof(PoolStarved), DisableParallelization = true)]
public sealed class PoolStarved;

/// <summary>
/// The bus moves events on threads of its own (the pull loops and each reader's writes): an event reaches a
/// reader while the thread pool's queue is full (with 1,000 <c>/events</c> streams it holds a thousand stream
/// writers after every hand-off, and an event waiting there behind them reached the readers that much later).
/// </summary>
[Collection(nameof(PoolStarved))]
public sealed class BusPoolStarvedTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private Socket Connect(string name)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(Path.Combine(h.SockDir, name)));
        return s;
    }

    [Fact]
    public void An_event_reaches_a_reader_while_every_thread_pool_thread_is_busy()
    {
        var bus = h.Master.Context!.Bus;
        var before = bus.ReaderCount;
        using var reader = Connect("master_event_pub.ipc");
        reader.ReceiveTimeout = 20_000; // blocking receives on this thread, which the pool does not run
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (bus.ReaderCount <= before && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        var pending = new List<byte>();
        using var pull = Connect("master_event_pull.ipc");
        pull.Send(EventFrame.Encode("pool/before", Map(("n", 1L))));
        Assert.Equal("pool/before", NextTag(reader, pending, "pool/"));

        // Every worker busy, and the pool kept from adding any: what waits in its queue waits until the end.
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        var cap = Math.Max(minWorkers, Environment.ProcessorCount);
        var release = new ManualResetEventSlim(); // not disposed: blockers still queued wait on it after the end
        var probeRan = 0;
        Assert.True(ThreadPool.SetMaxThreads(cap, maxIo));
        try
        {
            for (var i = 0; i < cap; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(), null);
            }

            // Queued behind the blockers: it runs only once the pool has a thread free.
            ThreadPool.UnsafeQueueUserWorkItem(_ => Interlocked.Exchange(ref probeRan, 1), null);
            pull.Send(EventFrame.Encode("pool/during", Map(("n", 2L))));
            Assert.Equal("pool/during", NextTag(reader, pending, "pool/"));
            Assert.Equal(0, Volatile.Read(ref probeRan)); // the pool was still held when the event came
        }
        finally
        {
            release.Set();
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
        }
    }

    // The tag of the next frame whose tag starts with the prefix, read with blocking receives.
    private static string NextTag(Socket reader, List<byte> pending, string prefix)
    {
        var buf = new byte[64 * 1024];
        while (true)
        {
            var seq = new ReadOnlySequence<byte>(pending.ToArray());
            while (EventFrame.TryRead(ref seq, out var evt))
            {
                if (evt is not null && evt.Tag.StartsWith(prefix, StringComparison.Ordinal))
                {
                    var rest = seq.ToArray();
                    pending.Clear();
                    pending.AddRange(rest);
                    return evt.Tag;
                }
            }

            var left = seq.ToArray();
            pending.Clear();
            pending.AddRange(left);
            var n = reader.Receive(buf); // throws (timed out) after ReceiveTimeout
            Assert.True(n > 0, "the master closed the reader");
            pending.AddRange(buf.AsSpan(0, n));
        }
    }
}
