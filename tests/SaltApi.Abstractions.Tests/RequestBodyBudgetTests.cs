using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>The contract's bounded body reader: whole bodies within a byte budget and a time bound.</summary>
public class RequestBodyBudgetTests
{
    private static HttpRequest Request(Stream body, long? length)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = body;
        http.Request.ContentLength = length;
        return http.Request;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_is_read_whole_and_its_bytes_are_given_back_on_dispose(bool knownLength)
    {
        var budget = new RequestBodyBudget(200_000);
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        using (var body = await budget.ReadAsync(Request(new MemoryStream(bytes), knownLength ? bytes.Length : null), TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(RequestBodyOutcome.Read, body.Outcome);
            Assert.Equal(200, body.StatusCode);
            Assert.Equal(bytes, body.Bytes);
            Assert.Equal(bytes.Length, budget.Used);
        }

        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task Past_the_budget_a_read_is_a_503_and_holds_nothing()
    {
        var budget = new RequestBodyBudget(1000);
        using var held = await budget.ReadAsync(Request(new MemoryStream(new byte[600]), 600), TimeSpan.FromSeconds(10));
        using var refused = await budget.ReadAsync(Request(new MemoryStream(new byte[600]), 600), TimeSpan.FromSeconds(10));
        Assert.Equal(RequestBodyOutcome.BudgetSpent, refused.Outcome);
        Assert.Equal(503, refused.StatusCode);
        using var chunked = await budget.ReadAsync(Request(new MemoryStream(new byte[20_000]), null), TimeSpan.FromSeconds(10));
        Assert.Equal(RequestBodyOutcome.BudgetSpent, chunked.Outcome);
        Assert.Equal(600, budget.Used);
    }

    [Fact]
    public async Task A_body_that_does_not_arrive_in_time_is_a_408()
    {
        var budget = RequestBodyBudget.For(1024, 1);
        using var body = await budget.ReadAsync(Request(new NeverStream(), 10), TimeSpan.FromMilliseconds(100));
        Assert.Equal(RequestBodyOutcome.TimedOut, body.Outcome);
        Assert.Equal(408, body.StatusCode);
    }

    private sealed class NeverStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
