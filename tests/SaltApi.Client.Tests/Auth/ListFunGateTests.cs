using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Auth;
using SaltApi.Client.Config;
using SaltApi.Client.Tests.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Config;
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

    private SaltClientLayer Layer(int port, object? extraUsers = null, OrderedDictionary<string, object?>? externalAuth = null, string? undecided = null, ILoggerFactory? log = null)
    {
        var opts = new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)port,
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_enable_clients"] = new List<object?> { "local", "local_async", "local_batch", "local_subset" },
            ["detect_mode"] = true,
            ["external_auth"] = externalAuth ?? Map(("file", extraUsers ?? Map(
                ("^filename", "/nonexistent"),
                ("limited", new List<object?> { "test.*" }),
                ("webonly", new List<object?> { Map(("ms--1", new List<object?> { "test.*", "grains.*" })) }),
                ("saltdev", new List<object?> { ".*" })))),
        };
        if (undecided is not null)
        {
            opts["saltapi_client"] = new Dictionary<string, object?> { ["list_fun_undecided"] = undecided };
        }

        return SaltClientLayer.Create(opts, log ?? NullLoggerFactory.Instance);
    }

    /// <summary>A master that accepts everything: any token is the given user's, any publish is published.</summary>
    private static RouterPeer Accepting(string user, params (string Key, object? Value)[] tokenExtra) => Accepting(user, "file", tokenExtra);

    private static RouterPeer Accepting(string user, string eauth, params (string Key, object? Value)[] tokenExtra) =>
        new((p, r) =>
        {
            var load = r.Load;
            object? reply = load.GetValueOrDefault("cmd") switch
            {
                "get_token" => WithExtra(Map(("start", 1.0), ("expire", 4e9), ("name", user), ("eauth", eauth), ("token", load["token"])), tokenExtra),
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

    private static OrderedDictionary<string, object?> Low(object? fun, object? tgt = null, object? arg = null, params (string Key, object? Value)[] more)
    {
        var low = Map(("client", "local_async"), ("tgt", tgt ?? "*"), ("fun", fun));
        if (arg is not null)
        {
            low["arg"] = arg;
        }

        foreach (var (k, v) in more)
        {
            low[k] = v;
        }

        return low;
    }

    private static List<object?> L(params object?[] items) => [.. items];

    [Fact]
    public async Task A_target_entry_allows_for_a_target_surely_inside_it_and_is_left_to_the_master_for_another()
    {
        // Decided: ms--1 is inside the entry's ms--1.
        using var peer = Accepting("webonly");
        await using var layer = Layer(peer.Port);
        await layer.Client.RunAsync(Low(Funs("test.ping", "grains.items"), "ms--1", null, ("token", Token)), CancellationToken.None);
        Assert.True(Published(peer));

        // Undecided: which minions * or ms--* reach only the master knows (it refuses those it finds outside).
        foreach (var tgt in new[] { "*", "ms--*" })
        {
            using var peer2 = Accepting("webonly");
            await using var layer2 = Layer(peer2.Port);
            await layer2.Client.RunAsync(Low(Funs("test.ping", "grains.items"), tgt, null, ("token", Token)), CancellationToken.None);
            Assert.True(Published(peer2), tgt);
        }

        // Decided refused: no entry's function regexes match cmd.run, whatever the target.
        using var peer3 = Accepting("webonly");
        await using var layer3 = Layer(peer3.Port);
        foreach (var tgt in new[] { "*", "ms--0", "ms--1" })
        {
            await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer3.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), tgt, null, ("token", Token)), CancellationToken.None));
        }

        Assert.False(Published(peer3));
    }

    [Fact]
    public async Task Undecided_lists_are_refused_with_list_fun_undecided_refuse()
    {
        using var peer = Accepting("webonly");
        await using var layer = Layer(peer.Port, undecided: "refuse");
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(Low(Funs("test.ping", "grains.items"), "*", null, ("token", Token)), CancellationToken.None));
        Assert.False(Published(peer));
        await layer.Client.RunAsync(Low(Funs("test.ping", "grains.items"), "ms--1", null, ("token", Token)), CancellationToken.None); // decided: still published
        Assert.True(Published(peer));
    }

    [Fact]
    public void List_fun_undecided_takes_master_or_refuse()
    {
        Assert.Equal("master", ClientOptions.From(new Dictionary<string, object?>()).ListFunUndecided);
        Assert.Equal("refuse", ClientOptions.From(new Dictionary<string, object?> { [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["list_fun_undecided"] = "refuse" } }).ListFunUndecided);
        foreach (var bad in new object?[] { "maybe", true, "" })
        {
            Assert.Equal("saltapi_client.list_fun_undecided", Assert.Throws<ConfigException>(() => ClientOptions.From(new Dictionary<string, object?>
            {
                [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["list_fun_undecided"] = bad },
            })).Key);
        }
    }

    [Fact]
    public async Task An_eauth_with_its_own_acl_is_left_to_the_master_and_warned_about_once()
    {
        var auth = Map(("rest", Map(("limited", L("test.*")))), ("file", Map(("limited", L("test.*")))));
        var log = new WarningLog();
        using var peer = Accepting("limited");
        await using var layer = Layer(peer.Port, externalAuth: auth, log: log);
        for (var i = 0; i < 2; i++)
        {
            await layer.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("eauth", "rest"), ("username", "limited"), ("password", "x")), CancellationToken.None);
        }

        Assert.True(Published(peer));
        var warning = Assert.Single(log.Warnings, w => w.Contains("list-valued fun", StringComparison.Ordinal));
        Assert.Contains("rest", warning, StringComparison.Ordinal);
        Assert.Contains("saltapi_client.list_fun_undecided", warning, StringComparison.Ordinal);

        // A token made by rest: a token load names no eauth, so no acl module applies; external_auth decides.
        using var peer2 = Accepting("limited", "rest");
        await using var layer2 = Layer(peer2.Port, externalAuth: auth);
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer2.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("token", Token)), CancellationToken.None));
        Assert.False(Published(peer2));

        // With list_fun_undecided: refuse, the rest credentials are refused.
        using var peer3 = Accepting("limited");
        await using var layer3 = Layer(peer3.Port, externalAuth: auth, undecided: "refuse");
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer3.Client.RunAsync(Low(Funs("test.ping", "test.echo"), "*", null, ("eauth", "rest"), ("username", "limited"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer3));
    }

    [Fact]
    public async Task Ldap_is_decided_as_a_plain_eauth_but_for_its_groups_and_ldap_entries()
    {
        var auth = Map(("ldap", Map(
            ("admin", L(".*")),
            ("limited", L("test.*")),
            ("ops%", L("cmd.*")),
            ("webops", L("test.*", Map(("ldap(ou=web,dc=example,dc=com)", L("pkg.*"))))))));

        // An ldap user allowed everything: a documented compound command runs.
        using var peer = Accepting("admin");
        await using var layer = Layer(peer.Port, externalAuth: auth);
        await layer.Client.RunAsync(Low(Funs("test.ping", "cmd.run", "pkg.install"), "*", L(L(), L("id"), L("vim")), ("eauth", "ldap"), ("username", "admin"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer));

        // limited: cmd.run only through the ops% group, which LDAP knows: the master decides; pkg.install: no entry at all.
        using var peer2 = Accepting("limited");
        await using var layer2 = Layer(peer2.Port, externalAuth: auth);
        await layer2.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("eauth", "ldap"), ("username", "limited"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer2));
        using var peer3 = Accepting("limited");
        await using var layer3 = Layer(peer3.Port, externalAuth: auth);
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer3.Client.RunAsync(Low(Funs("test.ping", "pkg.install"), "*", null, ("eauth", "ldap"), ("username", "limited"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer3));

        // An ldap( entry names minions process_acl looks up: left to the master for its functions; state.apply no entry
        // (nor a group) allows: refused.
        using var peer4 = Accepting("webops");
        await using var layer4 = Layer(peer4.Port, externalAuth: auth);
        await layer4.Client.RunAsync(Low(Funs("test.ping", "pkg.install"), "web1", null, ("eauth", "ldap"), ("username", "webops"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer4));
        using var peer5 = Accepting("webops");
        await using var layer5 = Layer(peer5.Port, externalAuth: auth);
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer5.Client.RunAsync(Low(Funs("test.ping", "state.apply"), "web1", null, ("eauth", "ldap"), ("username", "webops"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer5));
    }

    [Fact]
    public async Task Pam_credentials_take_the_user_s_os_groups()
    {
        // root's groups on this host include root: root% is decided.
        var auth = Map(("pam", Map(("root", L("test.*")), ("root%", L("cmd.*")), ("nosuchuser-4d1f", L("test.*")))));
        using var peer = Accepting("root");
        await using var layer = Layer(peer.Port, externalAuth: auth);
        await layer.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("eauth", "pam"), ("username", "root"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer));
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(Low(Funs("test.ping", "pkg.install"), "*", null, ("eauth", "pam"), ("username", "root"), ("password", "x")), CancellationToken.None));

        // A user this host does not know: the groups are the master's (cmd.* may come from root%).
        using var peer2 = Accepting("nosuchuser-4d1f");
        await using var layer2 = Layer(peer2.Port, externalAuth: auth, undecided: "refuse");
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer2.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("eauth", "pam"), ("username", "nosuchuser-4d1f"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer2));
        await layer2.Client.RunAsync(Low(Funs("test.ping", "test.echo"), "*", null, ("eauth", "pam"), ("username", "nosuchuser-4d1f"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer2));
    }

    [Fact]
    public void Os_groups_are_the_name_service_s()
    {
        Assert.Contains("root", OsGroups.Of("root")!);
        Assert.Null(OsGroups.Of("nosuchuser-4d1f"));
    }

    [Fact]
    public async Task Argument_conditions_are_evaluated_as_fun_check_and_args_check()
    {
        var users = Map(("argsy", L("test.*", Map(("*", L(Map(("cmd.run", Map(("args", L("echo .*")), ("kwargs", Map(("cwd", "/tmp.*"))))))))))));
        async Task<bool> RunAsync(object? arg, object? kwarg = null)
        {
            using var peer = Accepting("argsy");
            await using var layer = Layer(peer.Port, users);
            var low = Low(Funs("test.ping", "cmd.run"), "*", arg, ("token", Token));
            if (kwarg is not null)
            {
                low["kwarg"] = kwarg;
            }

            try
            {
                await layer.Client.RunAsync(low, CancellationToken.None);
            }
            catch (SaltAuthorizationException)
            {
                Assert.False(Published(peer));
                return false;
            }

            Assert.True(Published(peer));
            return true;
        }

        Assert.True(await RunAsync(L(L(), L("echo hi", Map(("__kwarg__", true), ("cwd", "/tmp/x"))))));
        Assert.False(await RunAsync(L(L(), L("rm -rf /", Map(("__kwarg__", true), ("cwd", "/tmp/x"))))));
        Assert.False(await RunAsync(L(L(), L("echo hi", Map(("__kwarg__", true), ("cwd", "/etc"))))));
        Assert.False(await RunAsync(L(L(), L("echo hi"))));   // the kwargs condition needs cwd
        Assert.False(await RunAsync(L(L(), L("echo hi")), Map(("cwd", "/tmp")))); // a compound's kwarg trails the whole list, not cmd.run's
        Assert.True(await RunAsync(L(L())));   // no argument list for cmd.run: undecided, the master's own affair
    }
    [Fact]
    public async Task Groups_of_a_token_or_of_an_eauth_without_groups_are_known()
    {
        var users = Map(("limited", L("test.*")), ("ops%", L("cmd.*")));

        // file has no groups function: no group entry applies to its credentials.
        using var peer = Accepting("limited");
        await using var layer = Layer(peer.Port, users);
        await Assert.ThrowsAsync<SaltAuthorizationException>(() => layer.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("eauth", "file"), ("username", "limited"), ("password", "x")), CancellationToken.None));
        Assert.False(Published(peer));
        await layer.Client.RunAsync(Low(Funs("test.ping", "test.echo"), "*", null, ("eauth", "file"), ("username", "limited"), ("password", "x")), CancellationToken.None);
        Assert.True(Published(peer));

        // The token's groups (the master's get_token): a member of ops% may run cmd.* in the list.
        using var peer2 = Accepting("limited", ("groups", new List<object?> { "ops" }));
        await using var layer2 = Layer(peer2.Port, users);
        await layer2.Client.RunAsync(Low(Funs("test.ping", "cmd.run"), "*", null, ("token", Token)), CancellationToken.None);
        Assert.True(Published(peer2));
    }
}
