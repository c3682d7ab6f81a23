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

    [Fact]
    public async Task A_declared_length_holds_no_budget_until_its_bytes_arrive()
    {
        // Suspected (and so it was): a body of up to 64 KiB reserved its Content-Length before any byte came,
        // so idle connections that only declared 64 KiB emptied the budget and every POST got a 503.
        var budget = new RequestBodyBudget(100 * 1024);
        var pipe = new System.IO.Pipelines.Pipe();
        var idle = budget.ReadAsync(Request(pipe.Reader.AsStream(), 64 * 1024), TimeSpan.FromSeconds(30));
        Assert.False(idle.IsCompleted);
        Assert.Equal(0, budget.Used);

        // Another request of 64 KiB is read whole meanwhile.
        using (var other = await budget.ReadAsync(Request(new MemoryStream(new byte[64 * 1024]), 64 * 1024), TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(RequestBodyOutcome.Read, other.Outcome);
        }

        // What arrives is reserved as it arrives.
        await pipe.Writer.WriteAsync(new byte[1000]);
        await WaitUntilAsync(() => budget.Used == 1000);
        await pipe.Writer.WriteAsync(new byte[(64 * 1024) - 1000]);
        await pipe.Writer.CompleteAsync();
        using var body = await idle;
        Assert.Equal(RequestBodyOutcome.Read, body.Outcome);
        Assert.Equal(64 * 1024, body.Bytes.Length);
        Assert.Equal(64 * 1024, budget.Used);
    }

    [Fact]
    public async Task A_large_body_that_may_wait_waits_for_budget_and_one_that_may_not_is_a_503()
    {
        var budget = new RequestBodyBudget(150 * 1024);
        var held = await budget.ReadAsync(Request(new MemoryStream(new byte[100 * 1024]), 100 * 1024), 1 << 20, waitForBudget: false);
        Assert.Equal(RequestBodyOutcome.Read, held.Outcome);

        using (var refused = await budget.ReadAsync(Request(new MemoryStream(new byte[100 * 1024]), 100 * 1024), 1 << 20, waitForBudget: false))
        {
            Assert.Equal(RequestBodyOutcome.BudgetSpent, refused.Outcome);
        }

        foreach (var known in new[] { true, false })
        {
            var waiting = budget.ReadAsync(Request(new MemoryStream(new byte[100 * 1024]), known ? 100 * 1024 : null), 1 << 20, waitForBudget: true);
            Assert.False(waiting.IsCompleted);
            Assert.True(budget.Used <= budget.Limit);
            held.Dispose();
            held = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(RequestBodyOutcome.Read, held.Outcome);
            Assert.Equal(100 * 1024, held.Bytes.Length);
        }

        held.Dispose();
        Assert.Equal(0, budget.Used);

        // More than the whole budget can never be held: refused at once, never waited for.
        using var huge = await budget.ReadAsync(Request(new MemoryStream(new byte[200 * 1024]), 200 * 1024), 1 << 20, waitForBudget: true);
        Assert.Equal(RequestBodyOutcome.BudgetSpent, huge.Outcome);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_past_the_requests_own_limit_is_a_413_and_holds_nothing(bool knownLength)
    {
        var budget = new RequestBodyBudget(1 << 20);
        using var body = await budget.ReadAsync(Request(new MemoryStream(new byte[70_000]), knownLength ? 70_000 : null), 65_536, waitForBudget: true);
        Assert.Equal(RequestBodyOutcome.TooLarge, body.Outcome);
        Assert.Equal(413, body.StatusCode);
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public void The_body_deadline_is_30_s_and_grows_with_the_size_at_512_KiB_per_second()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), RequestBodyBudget.Deadline(1 << 20));
        Assert.Equal(TimeSpan.FromSeconds(200), RequestBodyBudget.Deadline(100L << 20));
        Assert.Equal(1 << 20, RequestBodyBudget.AnonymousLimit(100L << 20));
        Assert.Equal(1000, RequestBodyBudget.AnonymousLimit(1000));

        // Budget: every request a 1 MiB body, never less than one body of the largest size.
        Assert.Equal(130L << 20, RequestBodyBudget.For(100L << 20, 130, largeBodiesWait: true).Limit);
        Assert.Equal(100L << 20, RequestBodyBudget.For(100L << 20, 10, largeBodiesWait: true).Limit);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met within 30 s");
            await Task.Delay(10);
        }
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
