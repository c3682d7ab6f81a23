using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Json;

namespace SaltApi.Abstractions.Tests;

/// <summary>JSON answers are written from a builder kept per thread, straight into the response's buffers.</summary>
public sealed class JsonResponseAllocationTests
{
    // A return of ~2,000 characters, with a pair of surrogates and escapes.
    private static OrderedDictionary<string, object?> Value()
    {
        var minions = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < 60; i++)
        {
            minions[$"minion-{i:D3}.example.org"] = i % 2 == 0;
        }

        minions["emoji"] = "ok \U0001F600 \"quoted\"\n";
        return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["return"] = new List<object?> { minions } };
    }

    private static async Task<(byte[] Body, long? Length)> WriteAsync(object? value, bool withBody = true)
    {
        var ctx = new DefaultHttpContext();
        using var body = new MemoryStream();
        ctx.Response.Body = body;
        SaltJson.WriteTo(ctx.Response, value, withBody);
        await ctx.Response.BodyWriter.FlushAsync();
        return (body.ToArray(), ctx.Response.ContentLength);
    }

    [Fact]
    public async Task The_bytes_and_length_are_those_of_Serialize()
    {
        var expected = Encoding.UTF8.GetBytes(SaltJson.Serialize(Value()));
        // First on a fresh thread's builder (it grows: several chunks), then on the kept one (one chunk).
        for (var i = 0; i < 3; i++)
        {
            var (bytes, length) = await WriteAsync(Value());
            Assert.Equal(expected, bytes);
            Assert.Equal(expected.Length, length);
        }

        var (none, headLength) = await WriteAsync(Value(), withBody: false);
        Assert.Empty(none);
        Assert.Equal(expected.Length, headLength);
    }

    [Fact]
    public async Task A_surrogate_pair_across_the_builders_chunks_is_kept_whole()
    {
        // Text long enough to grow the builder, with pairs at every offset: one of them straddles two chunks.
        var text = string.Concat(Enumerable.Repeat("a\U0001F600", 3000));
        for (var pad = 0; pad < 4; pad++)
        {
            var value = new List<object?> { new string('x', pad), text };
            await Task.Run(async () =>
            {
                var (bytes, length) = await WriteAsync(value);
                Assert.Equal(Encoding.UTF8.GetBytes(SaltJson.Serialize(value)), bytes);
                Assert.Equal(bytes.Length, length);
            });
        }
    }

    [Fact]
    public void A_value_too_deep_sets_nothing()
    {
        object? deep = null;
        for (var i = 0; i < 600; i++)
        {
            deep = new List<object?> { deep };
        }

        var ctx = new DefaultHttpContext();
        Assert.Throws<InvalidOperationException>(() => SaltJson.WriteTo(ctx.Response, deep));
        Assert.Null(ctx.Response.ContentLength);
        Assert.False(ctx.Response.HasStarted);
    }

    [Fact]
    public void Serialize_allocates_its_result_and_little_more()
    {
        var value = Value();
        var size = SaltJson.Serialize(value).Length * 2L;
        var before = GC.GetAllocatedBytesForCurrentThread();
        SaltJson.Serialize(value);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The result string and the enumerators; a new builder per call grew chunks of as many bytes again.
        Assert.InRange(allocated, size, size + size / 4);
    }

    [Fact]
    public void Writing_a_response_allocates_no_copy_of_the_text()
    {
        var value = Value();
        var size = SaltJson.Serialize(value).Length * 2L;
        var ctx = new DefaultHttpContext();
        var sink = new NullWriter();
        ctx.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>(sink);
        SaltJson.WriteTo(ctx.Response, value);
        var before = GC.GetAllocatedBytesForCurrentThread();
        SaltJson.WriteTo(ctx.Response, value);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Only the enumerators of the value tree: no string, no byte array.
        Assert.InRange(allocated, 0, size / 4);
        Assert.True(sink.Written > 0);
    }

    /// <summary>A response body that counts the bytes and keeps none (one buffer, reused).</summary>
    private sealed class NullWriter : System.IO.Pipelines.PipeWriter, Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature
    {
        private readonly byte[] buffer = new byte[64 * 1024];

        public long Written { get; private set; }

        public Stream Stream => Stream.Null;

        public System.IO.Pipelines.PipeWriter Writer => this;

        public override void Advance(int bytes) => Written += bytes;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<System.IO.Pipelines.FlushResult> FlushAsync(CancellationToken cancellationToken = default) => default;

        public override Memory<byte> GetMemory(int sizeHint = 0) => buffer;

        public override Span<byte> GetSpan(int sizeHint = 0) => buffer;

        public Task CompleteAsync() => Task.CompletedTask;

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
