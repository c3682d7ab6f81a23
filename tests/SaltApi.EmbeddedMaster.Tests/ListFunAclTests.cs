using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// The master's own gate for a list-valued fun (a compound command): every function must be allowed
/// (Salt 3006 allows the list when any one is, or when one is saltutil.find_job).
/// </summary>
public sealed class ListFunAclTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private async Task<object?> PublishAsync(string user, List<object?> funs)
    {
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        ((OrderedDictionary<string, object?>)req["kwargs"]!)["username"] = user;
        req["tgt"] = "ms--0";
        req["fun"] = funs;
        req["arg"] = funs.Select(_ => (object?)new List<object?>()).ToList();
        return await h.SendAsync(req);
    }

    private static bool Refused(object? reply) =>
        reply is OrderedDictionary<string, object?> m && m.GetValueOrDefault("error") is OrderedDictionary<string, object?> e && e["name"] as string == "AuthorizationError";

    [Theory]
    [InlineData("test.ping", "cmd.run")]
    [InlineData("cmd.run", "test.ping")]
    [InlineData("saltutil.find_job", "cmd.run")]
    [InlineData("test.ping", "grains.items")]
    public async Task A_user_limited_to_test_cannot_publish_a_list_with_another_function(string first, string second)
    {
        Assert.True(Refused(await PublishAsync("limited", [first, second])));
    }

    [Fact]
    public async Task A_list_of_allowed_functions_is_published()
    {
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(await PublishAsync("limited", ["test.ping", "test.echo", "saltutil.find_job"]));
        Assert.False(Refused(reply));
        Assert.Contains("jid", ((OrderedDictionary<string, object?>)reply["load"]!).Keys);
        Assert.False(Refused(await PublishAsync("saltdev", ["test.ping", "cmd.run"])));
    }

    [Fact]
    public async Task An_empty_list_is_refused()
    {
        Assert.True(Refused(await PublishAsync("limited", [])));
    }
}
