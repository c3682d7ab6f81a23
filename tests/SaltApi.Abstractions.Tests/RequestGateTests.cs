using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

public class RequestGateTests
{
    [Fact]
    public async Task Full_pool_and_full_queue_refuse_at_once()
    {
        using var gate = new RequestGate(1, 0, TimeSpan.FromMinutes(1));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        Assert.False(await gate.EnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await gate.EnterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_queued_request_gets_the_slot_when_it_is_freed()
    {
        using var gate = new RequestGate(1, 1, TimeSpan.FromMinutes(1));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        var queued = gate.EnterAsync(CancellationToken.None);
        Assert.False(queued.IsCompleted);
        Assert.False(await gate.EnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await queued);
    }
}
