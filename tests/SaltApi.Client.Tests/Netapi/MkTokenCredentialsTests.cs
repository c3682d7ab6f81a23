using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Client;
using SaltApi.Client.Auth;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>
/// mk_token with the whole credentials map, as salt.auth.Resolver.mk_token sends /login's credentials,
/// and /login perms from a token's own ACL for the eauth backends that compute it.
/// </summary>
public sealed class MkTokenCredentialsTests : IDisposable
{
    private readonly TempDir dir = new();

    public MkTokenCredentialsTests() => File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");

    public void Dispose() => dir.Dispose();

    private SaltClientLayer Layer(int port) => SaltClientLayer.Create(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
    }, NullLoggerFactory.Instance);

    private static RouterPeer Answering(string replyVector) =>
        new((p, r) =>
        {
            p.Reply(r, SaltMsgpack.Deserialize(TestData.VectorBytes(replyVector)));
            return false;
        });

    [Fact]
    public async Task Plain_credentials_map_is_the_captured_bytes()
    {
        using var peer = Answering("rep-mk_token-mk_token-login");
        await using var layer = Layer(peer.Port);

        var token = await layer.Client.MakeTokenAsync(new OrderedDictionary<string, object?> { ["username"] = "saltdev", ["password"] = "saltdev", ["eauth"] = "pam" }, CancellationToken.None);

        Assert.NotNull(token);
        var sent = SaltMsgpack.Serialize(Assert.Single(peer.Received).Envelope, MsgpackDialect.Request);
        Assert.Equal(Convert.ToHexString(TestData.VectorBytes("req-mk_token-mk_token-login")), Convert.ToHexString(sent));
    }

    [Fact]
    public async Task Every_field_goes_to_the_master_in_the_callers_order_but_key_and_auth_list()
    {
        using var peer = Answering("rep-mk_token-mk_token-login");
        await using var layer = Layer(peer.Port);

        await layer.Client.MakeTokenAsync(new OrderedDictionary<string, object?>
        {
            ["eauth"] = "rest",
            ["username"] = "saltdev",
            ["password"] = "saltdev",
            ["token_expire"] = "60",
            ["otp"] = "123456",
            ["key"] = "rootkey",
            ["auth_list"] = new List<object?> { ".*" },
            ["cmd"] = "publish",
        }, CancellationToken.None);
        await layer.Client.MakeTokenAsync(new OrderedDictionary<string, object?> { ["eauth"] = "pam", ["username"] = "u", ["password"] = "p", ["token_expire"] = "1.5e2" }, CancellationToken.None);
        await layer.Client.MakeTokenAsync(new OrderedDictionary<string, object?> { ["eauth"] = "pam", ["username"] = "u", ["password"] = "p", ["token_expire"] = "soon" }, CancellationToken.None);

        var loads = peer.Received.Select(r => r.Load).ToList();
        // As Python's load["cmd"] = "mk_token": an existing key keeps its place.
        Assert.Equal(["eauth", "username", "password", "token_expire", "otp", "cmd"], loads[0].Keys);
        Assert.Equal("mk_token", loads[0]["cmd"]);
        Assert.Equal(60L, loads[0]["token_expire"]);
        Assert.Equal("123456", loads[0]["otp"]);
        Assert.Equal(150.0, loads[1]["token_expire"]);
        Assert.Equal("soon", loads[2]["token_expire"]);
    }

    [Fact]
    public void The_token_keeps_its_auth_list()
    {
        var token = TokenClient.ToToken(new OrderedDictionary<string, object?>
        {
            ["start"] = 1.0, ["expire"] = 2.0, ["name"] = "bob", ["eauth"] = "rest", ["token"] = "ab",
            ["auth_list"] = new List<object?> { "test.*", "@runner" },
        });
        Assert.Equal(["test.*", "@runner"], token!.AuthList!);
    }

    [Fact]
    public void Login_perms_of_rest_and_django_model_come_from_the_tokens_auth_list()
    {
        var externalAuth = new Dictionary<string, object?>
        {
            ["rest"] = new Dictionary<string, object?> { ["^url"] = "https://auth.example/", ["bob"] = new List<object?> { "never.this" } },
            ["django"] = new Dictionary<string, object?> { ["^model"] = "app.SaltAcl" },
            ["pam"] = new Dictionary<string, object?> { ["bob"] = new List<object?> { "from.config" } },
        };
        List<object?> acl = ["test.*", "@runner"];

        Assert.Equal(acl, Permissions.Of(new SaltToken("t", "bob", "rest", 0, 1, null) { AuthList = acl }, externalAuth));
        Assert.Equal(acl, Permissions.Of(new SaltToken("t", "bob", "django", 0, 1, null) { AuthList = acl }, externalAuth));
        Assert.Null(Permissions.Of(new SaltToken("t", "bob", "django", 0, 1, null), externalAuth));
        // Without an auth_list in the token, rest falls back to the config, as Salt.
        Assert.Equal(["never.this"], Permissions.Of(new SaltToken("t", "bob", "rest", 0, 1, null), externalAuth)!);
        // Other backends ignore a stored ACL.
        Assert.Equal(["from.config"], Permissions.Of(new SaltToken("t", "bob", "pam", 0, 1, null) { AuthList = acl }, externalAuth)!);
    }
}
