using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// The master leaves nodegroups to its clients, as a real 3006 master: a publish with
/// <c>tgt_type: nodegroup</c> or an unexpanded <c>N@</c> reaches no minion. Runners still expand them.
/// </summary>
public sealed class NodegroupPublishTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private async Task<OrderedDictionary<string, object?>> PublishAsync(object tgt, string tgtType)
    {
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        req["tgt"] = tgt;
        req["tgt_type"] = tgtType;
        return Assert.IsType<OrderedDictionary<string, object?>>(Assert.IsType<OrderedDictionary<string, object?>>(await h.SendAsync(req))["load"]);
    }

    [Theory]
    [InlineData("first2", "nodegroup")]
    [InlineData("listgroup", "nodegroup")]
    [InlineData("N@first2", "compound")]
    [InlineData("ms--4 or N@listgroup", "compound")]
    [InlineData("(N@first2 or ms--4)", "compound")]
    public async Task Nodegroups_in_a_publish_reach_no_minion(string tgt, string tgtType)
    {
        var load = await PublishAsync(tgt, tgtType);
        Assert.Null(load["jid"]);
        Assert.Equal(new List<object?>(), load["minions"]);
        Assert.Equal($"Master could not resolve minions for target {tgt}", load["error"]);
    }

    [Fact]
    public async Task The_clients_expansion_reaches_the_groups_minions()
    {
        var load = await PublishAsync("L@ms--0,ms--1 or L@ms--3,ms--4", "compound");
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--3", "ms--4" }, load["minions"]);
    }
}
