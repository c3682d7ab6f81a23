using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Auth;

/// <summary>
/// The client's gate for a list-valued fun, against a master that would accept every publish (a bare
/// ROUTER answering with the captured publish reply, and get_token with a token of the limited user):
/// whatever the master would say, a list with a function the user may not run is never published.
/// </summary>
public sealed class ListFunGateTests : IDisposable
{
    private const string Token = "4c1a9c0e5b1f7a2d8e3f6a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d";

    private readonly TempDir dir = new();

    public ListFunGateTests()
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] kv)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in kv)
        {
            d[k] = v;
        }

        return d;
    }

    private SaltClientLayer Layer(int port, object? extraUsers = null) => SaltClientLayer.Create(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
        ["netapi_enable_clients"] = new List<object?> { "local", "local_async", "local_batch", "local_subset" },
        ["detect_mode"] = true,
        ["external_auth"] = Map(("file", extraUsers ?? Map(
            ("^filename", "/nonexistent"),
            ("limited", new List<object?> { "test.*" }),
            ("webonly", new List<object?> { Map(("ms--1", new List<object?> { "test.*", "grains.*" })) }),
            ("saltdev", new List<object?> { ".*" })))),
    }, NullLoggerFactory.Instance);

    /// <summary>A master that accepts everything: any token is the given user's, any publish is published.</summary>
    private static RouterPeer Accepting(string user, params (string Key, object? Value)[] tokenExtra) =>
        new((p, r) =>
        {
            var load = r.Load;
            object? reply = load.GetValueOrDefault("cmd") switch
            {
                "get_token" => WithExtra(Map(("start", 1.0), ("expire", 4e9), ("name", user), ("eauth", "file"), ("token", load["token"])), tokenExtra),
                "publish" => SaltMsgpack.Deserialize(TestData.VectorBytes("rep-publish-publish-eauth")),
                _ => "",
            };
            p.Reply(r, reply);
            return false;
        });

    private static OrderedDictionary<string, object?> WithExtra(OrderedDictionary<string, object?> m, (string Key, object? Value)[] extra)
    {
        foreach (var (k, v) in extra)
        {
            m[k] = v;
        }

        return m;
    }

    private static bool Published(RouterPeer peer) => peer.Received.Any(r => r.Load.GetValueOrDefault("cmd") is "publish");

    private static List<object?> Funs(params string[] funs) => [.. funs];

    [Theory]
    [InlineData("local_async", "test.ping", "cmd.run")]
    [InlineData("local_async", "cmd.run", "test.ping")]
    [InlineData("local_async", "saltutil.find_job", "cmd.run")]
    [InlineData("local", "test.ping", "cmd.run")]
    [InlineData("local_batch", "test.ping", "cmd.run")]
    [InlineData("local_subset", "test.ping", "cmd.run")]
    public async Task A_token_user_limited_to_test_cannot_publish_a_list_with_another_function(string client, string first, string second)
    {
        using var peer = Accepting("limited");
        await using var layer = Layer(peer.Port);
        var low = Map(("client", client), ("tgt", "ms--0"), ("fun", Funs(first, second)), ("arg", new List<object?> { new List<object?>(), new List<object?> { "id" } }), ("token", Token));
        var e = await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(low, CancellationToken.None));
        Assert.Equal("Authorization error occurred.", e.Message);
        Assert.False(Published(peer));
    }

    [Fact]
    public async Task An_eauth_user_limited_to_test_cannot_publish_a_list_with_another_function()
    {
        using var peer = Accepting("limited");
        await using var layer = Layer(peer.Port);
        var low = Map(("client", "local_async"), ("tgt", "*"), ("fun", Funs("test.ping", "cmd.run")), ("arg", new List<object?> { new List<object?>(), new List<object?> { "id" } }),
            ("eauth", "file"), ("username", "limited"), ("password", "saltdev"));
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(low, CancellationToken.None));
        Assert.False(Published(peer));
    }

    [Fact]
    public async Task A_list_of_allowed_functions_is_published_and_a_single_function_is_left_to_the_master()
    {
        using var peer = Accepting("limited");
        await using var layer = Layer(peer.Port);
        var list = Map(("client", "local_async"), ("tgt", "ms--0"), ("fun", Funs("test.ping", "test.echo", "saltutil.find_job")), ("arg", new List<object?> { new List<object?>(), new List<object?> { "x" }, new List<object?>() }), ("token", Token));
        await layer.Client.RunAsync(list, CancellationToken.None);
        Assert.True(Published(peer));

        using var peer2 = Accepting("limited");
        await using var layer2 = Layer(peer2.Port);
        await layer2.Client.RunAsync(Map(("client", "local_async"), ("tgt", "ms--0"), ("fun", "cmd.run"), ("token", Token)), CancellationToken.None);
        Assert.True(Published(peer2)); // this master accepts it: the single function is the master's decision
    }

    [Fact]
    public async Task A_target_entry_counts_only_for_a_target_surely_inside_it()
    {
        using var peer = Accepting("webonly");
        await using var layer = Layer(peer.Port);
        await layer.Client.RunAsync(Map(("client", "local_async"), ("tgt", "ms--1"), ("fun", Funs("test.ping", "grains.items")), ("token", Token)), CancellationToken.None);
        Assert.True(Published(peer));

        using var peer2 = Accepting("webonly");
        await using var layer2 = Layer(peer2.Port);
        foreach (var tgt in new[] { "*", "ms--0", "ms--*" })
        {
            await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer2.Client.RunAsync(Map(("client", "local_async"), ("tgt", tgt), ("fun", Funs("test.ping", "grains.items")), ("token", Token)), CancellationToken.None));
        }

        Assert.False(Published(peer2));
    }

    [Fact]
    public async Task Unknown_groups_or_an_eauth_with_its_own_acl_cannot_be_decided_and_are_refused()
    {
        // A group entry and eauth credentials: the eauth module's groups are known only to the master.
        using var peer = Accepting("limited");
        var users = Map(("limited", new List<object?> { "test.*" }), ("ops%", new List<object?> { "cmd.*" }));
        await using var layer = Layer(peer.Port, users);
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(Map(("client", "local_async"), ("tgt", "*"), ("fun", Funs("test.ping", "test.echo")),
            ("eauth", "file"), ("username", "limited"), ("password", "x")), CancellationToken.None));
        // An eauth module with its own acl (rest, ldap ...): refused.
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(Map(("client", "local_async"), ("tgt", "*"), ("fun", Funs("test.ping", "test.echo")),
            ("eauth", "ldap"), ("username", "limited"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer));

        // The token's groups are known: a member of ops% may run cmd.* in the list.
        using var peer2 = Accepting("limited", ("groups", new List<object?> { "ops" }));
        await using var layer2 = Layer(peer2.Port, users);
        await layer2.Client.RunAsync(Map(("client", "local_async"), ("tgt", "*"), ("fun", Funs("test.ping", "cmd.run")), ("token", Token)), CancellationToken.None);
        Assert.True(Published(peer2));
    }
}
