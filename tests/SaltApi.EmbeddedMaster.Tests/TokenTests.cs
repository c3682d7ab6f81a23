using SaltApi.Protocol.Msgpack;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>mk_token / get_token (spec/01 §5.1–5.2, spec/03 §9).</summary>
public sealed class TokenTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private OrderedDictionary<string, object?> Login(string user = "saltdev", string password = Password) =>
        Assert.IsType<OrderedDictionary<string, object?>>(h.Send(Map(("username", user), ("password", password), ("eauth", "file"), ("cmd", "mk_token"))));

    [Fact]
    public void Mk_token_answers_the_token_map_in_salts_key_order()
    {
        var captured = (OrderedDictionary<string, object?>)Vectors.Decode("rep-mk_token-mk_token-login")!;
        var tok = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(CapturedRequests.Load("req-mk_token-mk_token-login")));
        // The file module reports no groups (pam does): the rest is the captured shape.
        captured.Remove("groups");
        Assert.Equal(Vectors.Shape(captured), Vectors.Shape(tok));
        Assert.Equal("saltdev", tok["name"]);
        Assert.Equal("file", tok["eauth"]);
        Assert.Matches("^[0-9a-f]{64}$", (string)tok["token"]!);
        Assert.Equal(43200.0, (double)tok["expire"]! - (double)tok["start"]!, 2);
    }

    [Fact]
    public void Mk_token_with_a_wrong_password_is_the_empty_string()
    {
        Assert.Equal(Vectors.Decode("rep-mk_token-mk_token-login-wrong-password"), h.Send(CapturedRequests.Load("req-mk_token-mk_token-login-wrong-password")));
        Assert.Equal("", h.Send(Map(("username", "saltdev"), ("password", "nope"), ("eauth", "file"), ("cmd", "mk_token"))));
    }

    [Fact]
    public void Mk_token_with_an_unconfigured_eauth_or_none_is_the_empty_string()
    {
        Assert.Equal("", h.Send(Map(("username", "saltdev"), ("password", Password), ("eauth", "ldap"), ("cmd", "mk_token"))));
        Assert.Equal("", h.Send(Map(("username", "saltdev"), ("password", Password), ("cmd", "mk_token"))));
    }

    [Fact]
    public void Token_is_a_0600_msgpack_file_and_get_token_returns_it()
    {
        var tok = Login();
        var path = Path.Combine(h.CacheDir, "tokens", (string)tok["token"]!);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(tok, SaltMsgpack.Deserialize(File.ReadAllBytes(path)));
        Assert.Equal(tok, h.Send(Map(("cmd", "get_token"), ("token", tok["token"]))));
    }

    [Fact]
    public void Get_token_unknown_is_empty_map_and_without_token_is_false()
    {
        Assert.Equal(new OrderedDictionary<string, object?>(), h.Send(Map(("cmd", "get_token"), ("token", new string('0', 64)))));
        Assert.Equal(new OrderedDictionary<string, object?>(), h.Send(Map(("cmd", "get_token"), ("token", "../../etc/passwd"))));
        Assert.Equal(false, h.Send(Map(("cmd", "get_token"))));
    }

    [Fact]
    public void Captured_get_token_request_gets_a_map()
    {
        // The captured token belongs to another master: unknown here.
        Assert.Equal(new OrderedDictionary<string, object?>(), h.Send(CapturedRequests.Load("req-get_token-get_token-events")));
    }

    [Fact]
    public async Task Tokens_survive_a_restart_of_the_master()
    {
        var tok = Login();
        var dir = h.Dir;
        await h.Master.DisposeAsync();
        await using var again = await SaltMaster.StartAsync(MasterHarness.Config(dir), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        using var req = new NetMQ.Sockets.RequestSocket();
        req.Connect($"tcp://127.0.0.1:{again.RetPort}");
        NetMQ.OutgoingSocketExtensions.SendFrame(req, SaltApi.Protocol.Channel.ClearEnvelope.Encode(Map(("cmd", "get_token"), ("token", tok["token"]))));
        Assert.True(NetMQ.ReceivingSocketExtensions.TryReceiveFrameBytes(req, TimeSpan.FromSeconds(20), out var reply));
        Assert.Equal(tok, SaltMsgpack.Deserialize(reply));
    }

    [Fact]
    public async Task Expired_token_is_empty_and_deleted()
    {
        await using var expiring = await StartAsync(c => c["token_expire"] = -1L);
        var tok = Assert.IsType<OrderedDictionary<string, object?>>(expiring.Send(Map(("username", "saltdev"), ("password", Password), ("eauth", "file"), ("cmd", "mk_token"))));
        var path = Path.Combine(expiring.CacheDir, "tokens", (string)tok["token"]!);
        Assert.True(File.Exists(path));
        Assert.Equal(new OrderedDictionary<string, object?>(), expiring.Send(Map(("cmd", "get_token"), ("token", tok["token"]))));
        Assert.False(File.Exists(path));
        var pub = CapturedRequests.Load("req-publish-publish-token");
        ((OrderedDictionary<string, object?>)pub["kwargs"]!)["token"] = tok["token"];
        Assert.Equal(Vectors.Decode("rep-publish-publish-bad-token"), expiring.Send(pub));
    }

    [Fact]
    public void Token_of_an_eauth_no_longer_configured_fails_authentication()
    {
        var tok = Login();
        var path = Path.Combine(h.CacheDir, "tokens", (string)tok["token"]!);
        var data = (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(File.ReadAllBytes(path))!;
        data["eauth"] = "ldap";
        File.WriteAllBytes(path, SaltMsgpack.Serialize(data, MsgpackDialect.Request));
        var pub = CapturedRequests.Load("req-publish-publish-token");
        ((OrderedDictionary<string, object?>)pub["kwargs"]!)["token"] = tok["token"];
        Assert.Equal(Vectors.Decode("rep-publish-publish-bad-token"), h.Send(pub));
        // get_token itself does not check the eauth.
        Assert.Equal("ldap", ((OrderedDictionary<string, object?>)h.Send(Map(("cmd", "get_token"), ("token", tok["token"])))!)["eauth"]);
    }

    [Fact]
    public void Failed_authentication_is_delayed_by_at_least_three_quarters_of_the_configured_delay()
    {
        // auth_failure_delay is 0.05 s in the test config: the padding is at least 0.0375 s.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("", h.Send(Map(("username", "saltdev"), ("password", "bad"), ("eauth", "file"), ("cmd", "mk_token"))));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(37));
    }
}
