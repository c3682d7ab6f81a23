using System.Buffers;
using System.Text;
using SaltApi.Plugins.RestCherrypyCompat.Events;

namespace SaltApi.RestCherrypyCompat.Tests.Events;

/// <summary>How a batch of /events text reaches the response: UTF-8 from the builder's chunks, no batch string.</summary>
public sealed class SseWriteTests
{
    /// <summary>Collects what is written, reusing one buffer for every span it hands out.</summary>
    private sealed class ReusingWriter : IBufferWriter<byte>
    {
        private readonly byte[] buffer = new byte[16 * 1024];

        public MemoryStream Written { get; } = new(capacity: 4 * 1024 * 1024);

        public void Advance(int count) => Written.Write(buffer, 0, count);

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer;

        public Span<byte> GetSpan(int sizeHint = 0) => buffer;
    }

    private static StringBuilder Batch(string unit, int chars)
    {
        var sb = new StringBuilder();
        while (sb.Length < chars)
        {
            sb.Append(unit);
        }

        return sb;
    }

    [Fact]
    public void A_batch_is_written_as_utf8_with_surrogate_pairs_split_between_chunks_kept_whole()
    {
        // An odd-length prefix puts pairs across the builder's chunk boundaries (chunks of up to 8,000 chars).
        var sb = new StringBuilder("x");
        for (var i = 0; i < 20_000; i++)
        {
            sb.Append("é😀");
        }

        var expected = Encoding.UTF8.GetBytes(sb.ToString());
        var w = new ReusingWriter();
        Sse.Write(w, sb, new UTF8Encoding(false).GetEncoder());
        Assert.Equal(expected, w.Written.ToArray());
    }

    [Fact]
    public void A_256k_character_batch_is_written_without_allocating_it_again()
    {
        var sb = Batch("tag: salt/job/20261201000000000000/ret/ms--0\ndata: {\"tag\": \"x\", \"data\": {\"return\": true}}\n\n", 256 * 1024);
        var utf8 = new UTF8Encoding(false).GetEncoder();
        var w = new ReusingWriter();
        Sse.Write(w, Batch("warm", 100), utf8); // the first call's one-time costs
        var before = GC.GetAllocatedBytesForCurrentThread();
        Sse.Write(w, sb, utf8);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // As one string (sb.ToString(), as before) the batch alone was 512 KB, on the large object heap.
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated to write a {256 * 1024}-character batch");
        Assert.True(w.Written.Length > 256 * 1024);

        // The next batch's builder: emptying this one would allocate its whole capacity again (512 KB).
        before = GC.GetAllocatedBytesForCurrentThread();
        var next = Sse.Reuse(sb);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 * 1024);
        Assert.Equal(0, next.Length);
        var small = new StringBuilder(4096).Append("tag: a\n");
        Assert.Same(small, Sse.Reuse(small));
        Assert.Equal(0, small.Length);
    }
}
