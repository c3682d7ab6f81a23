using SaltApi.Host.Hosting;

namespace SaltApi.Host.Tests;

/// <summary>When the daemon gives memory back: once, on the first quiet period after a busy one.</summary>
public sealed class IdleTrimTests
{
    [Fact]
    public void Trims_once_when_a_busy_period_is_followed_by_a_quiet_one()
    {
        var d = new IdleTrim.Decider();
        Assert.False(d.Next(0));
        Assert.False(d.Next(0)); // quiet from the start: nothing to give back
        Assert.False(d.Next(50)); // busy
        Assert.False(d.Next(120)); // still busy
        Assert.True(d.Next(121)); // quiet: trim
        Assert.False(d.Next(122)); // the trim's own collection, still quiet: not again
        Assert.False(d.Next(122));
        Assert.False(d.Next(200)); // busy again
        Assert.True(d.Next(200)); // quiet again: trim again
    }

    [Fact]
    public void A_moderate_load_is_neither_busy_nor_quiet()
    {
        var d = new IdleTrim.Decider();
        Assert.False(d.Next(0));
        Assert.False(d.Next(IdleTrim.Decider.BusyCollections));
        Assert.False(d.Next(IdleTrim.Decider.BusyCollections + 5)); // slowing down, not yet quiet
        Assert.True(d.Next(IdleTrim.Decider.BusyCollections + 5));
    }
}
