using SaltApi.Abstractions.Client;

namespace SaltApi.Abstractions.Tests;

public sealed class NetapiCallTests
{
    [Fact]
    public async Task The_record_flows_into_awaited_calls_and_keeps_at_most_MaxJids_in_order()
    {
        var call = NetapiCall.Begin();
        await Task.WhenAll(Enumerable.Range(0, NetapiCall.MaxJids + 8).Select(async i =>
        {
            await Task.Yield();
            NetapiCall.Current!.JobStarted($"2026120700000000{i:0000}");
        }));
        Assert.Same(call, NetapiCall.Current);
        Assert.Equal(NetapiCall.MaxJids, call.Jids.Count);
        Assert.Equal(call.Jids.Count, call.Jids.Distinct().Count());
    }

    [Fact]
    public void The_client_is_the_one_every_chunk_ran_or_mixed()
    {
        var call = NetapiCall.Begin();
        Assert.Null(call.Client);
        call.Ran("local");
        call.Ran("local");
        Assert.Equal("local", call.Client);
        call.Ran("runner");
        Assert.Equal("mixed", call.Client);
    }

    [Fact]
    public async Task A_flow_that_does_not_inherit_the_request_s_context_has_no_record()
    {
        NetapiCall.Begin();
        Task<NetapiCall?> other;
        using (ExecutionContext.SuppressFlow())
        {
            other = Task.Run(() => NetapiCall.Current);
        }

        Assert.Null(await other);
    }
}
