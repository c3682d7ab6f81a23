using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>
/// What the client puts on the request channel, byte for byte against the loads the real salt-api
/// sent (tests/data/vectors), and how it reads the replies the real master sent. The master side is a
/// bare ROUTER that answers with the captured reply.
/// </summary>
public sealed class WireLoadTests : IDisposable
{
    private readonly TempDir dir = new();

    public WireLoadTests()
    {
        // NetapiClient's "master running" check and LocalClient's publisher check look for these files.
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private SaltClientLayer Layer(int port, params string[] clients) => SaltClientLayer.Create(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
        ["netapi_enable_clients"] = clients.Cast<object?>().ToList(),
        ["detect_mode"] = true,
    }, NullLoggerFactory.Instance);

    private static RouterPeer Answering(string replyVector) =>
        new((p, r) =>
        {
            p.Reply(r, SaltMsgpack.Deserialize(TestData.VectorBytes(replyVector)));
            return false;
        });

    private static byte[] Sent(RouterPeer peer) => SaltMsgpack.Serialize(Assert.Single(peer.Received).Envelope, MsgpackDialect.Request);

    private static OrderedDictionary<string, object?> Low(params (string Key, object? Value)[] kv)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in kv)
        {
            d[k] = v;
        }

        return d;
    }

    [Fact]
    public async Task Runner_load_is_the_bytes_salt_api_sends()
    {
        using var peer = Answering("rep-runner-runner_async-eauth");
        await using var layer = Layer(peer.Port, "runner_async");

        var result = await layer.Client.RunAsync(Low(
            ("client", "runner_async"), ("fun", "test.arg"), ("arg", new List<object?> { "a" }), ("kwarg", Low(("b", 2L))),
            ("username", "saltdev"), ("password", "saltdev"), ("eauth", "pam")), CancellationToken.None);

        // The capture was a sync runner call; only the client name differs.
        var expected = (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(TestData.VectorBytes("req-runner-runner-eauth"))!;
        ((OrderedDictionary<string, object?>)expected["load"]!)["client"] = "runner_async";
        Assert.Equal(Convert.ToHexString(SaltMsgpack.Serialize(expected, MsgpackDialect.Request)), Convert.ToHexString(Sent(peer)));
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["tag", "jid"], ret.Keys);
        Assert.StartsWith("salt/run/", (string)ret["tag"]!);
    }

    [Fact]
    public async Task Wheel_load_is_the_bytes_salt_api_sends_and_the_reply_is_returned_as_is()
    {
        using var peer = Answering("rep-wheel-wheel-token");
        await using var layer = Layer(peer.Port, "wheel");
        var token = (string)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(TestData.VectorBytes("req-wheel-wheel-token"))!)["load"]!)["token"]!;

        var result = await layer.Client.RunAsync(Low(("token", token), ("client", "wheel"), ("match", "ms-0"), ("fun", "key.finger")), CancellationToken.None);

        Assert.Equal(Convert.ToHexString(TestData.VectorBytes("req-wheel-wheel-token")), Convert.ToHexString(Sent(peer)));
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["tag", "data"], ret.Keys);
    }

    [Fact]
    public async Task Publish_load_matches_salt_api_except_the_root_key_which_is_sent_empty()
    {
        using var peer = Answering("rep-publish-publish-arg-kwarg");
        await using var layer = Layer(peer.Port, "local_async");

        var result = await layer.Client.RunAsync(Low(
            ("tgt", "ms-0"), ("fun", "test.arg"),
            ("arg", new List<object?> { "a", 1L, true, null, 2.5, Low(("x", new List<object?> { 1L, 2L })) }),
            ("kwarg", Low(("k1", "v1"), ("k2", -7L))),
            ("eauth", "pam"), ("username", "saltdev"), ("password", "saltdev"), ("client", "local_async"),
            ("auth_list", new List<object?> { ".*" })), CancellationToken.None);

        var expected = (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(TestData.VectorBytes("req-publish-publish-arg-kwarg"))!;
        var load = (OrderedDictionary<string, object?>)expected["load"]!;
        load["key"] = "";
        ((OrderedDictionary<string, object?>)load["kwargs"]!)["client"] = "local_async";
        Assert.Equal(Convert.ToHexString(SaltMsgpack.Serialize(expected, MsgpackDialect.Request)), Convert.ToHexString(Sent(peer)));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["jid", "minions"], ret.Keys);
        Assert.Equal(new List<object?> { "ms-0" }, ret["minions"]);
    }

    [Fact]
    public async Task Publish_passes_ret_jid_and_unknown_keys_through_as_Salt_does()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port, "local_async");

        // A fresh jid: one that names a time before the daemon watched the bus may be in use unseen (refused).
        var jid = DateTime.UtcNow.ToString("yyyyMMddHHmmssffffff", System.Globalization.CultureInfo.InvariantCulture) + "_1";
        await layer.Client.RunAsync(Low(
            ("client", "local_async"), ("tgt", "ms-*"), ("expr_form", "list"), ("fun", "test.ping"), ("ret", "mysql,redis"),
            ("jid", jid), ("metadata", Low(("a", 1L))), ("timeout", 3L), ("full_return", true), ("token", "t")), CancellationToken.None);

        var load = Assert.Single(peer.Received).Load;
        Assert.Equal(["cmd", "tgt", "fun", "arg", "key", "tgt_type", "ret", "jid", "kwargs", "user"], load.Keys);
        // expr_form is not understood any more: the target stays a glob and the key rides along as a kwarg.
        Assert.Equal("glob", load["tgt_type"]);
        Assert.Equal("mysql,redis", load["ret"]);
        Assert.Equal(jid, load["jid"]);
        Assert.Equal("", load["key"]);
        var kwargs = (OrderedDictionary<string, object?>)load["kwargs"]!;
        // timeout is a run_job parameter (consumed); full_return is not one, so it stays a kwarg.
        Assert.Equal(["client", "expr_form", "metadata", "full_return", "token"], kwargs.Keys);
    }

    [Fact]
    public async Task Publish_that_matches_nothing_is_an_empty_map()
    {
        using var peer = Answering("rep-publish-publish-no-minion");
        using var bus = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var layer = Layer(peer.Port, "local_async", "local");

        foreach (var client in new[] { "local_async", "local" })
        {
            var result = await layer.Client.RunAsync(Low(("client", client), ("tgt", "nosuchminion"), ("fun", "test.ping"), ("token", "ab")), CancellationToken.None);
            Assert.Empty(Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result)));
        }
    }

    [Theory]
    [InlineData("rep-publish-publish-wrong-password", typeof(SaltAuthenticationException), "Authentication error occurred.", "AuthenticationError")]
    [InlineData("rep-publish-publish-bad-token", typeof(SaltAuthenticationException), "Authentication error occurred.", "AuthenticationError")]
    [InlineData("rep-publish-publish-acl-denied", typeof(SaltAuthorizationException), "Authorization error occurred.", "AuthorizationError")]
    public async Task Publish_errors_become_typed_exceptions(string vector, Type type, string message, string name)
    {
        using var peer = Answering(vector);
        await using var layer = Layer(peer.Port, "local_async");

        var e = await Assert.ThrowsAnyAsync<SaltApiException>(() => layer.Client.RunAsync(Low(("client", "local_async"), ("tgt", "*"), ("fun", "test.ping"), ("token", "ab")), CancellationToken.None));

        Assert.IsType(type, e);
        Assert.Equal(message, e.Message);
        Assert.Equal(name, e.SaltName);
    }

    [Fact]
    public async Task Runner_auth_error_keeps_the_masters_message_and_name()
    {
        using var peer = Answering("rep-runner-runner-wrong-password");
        await using var layer = Layer(peer.Port, "runner_async");

        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => layer.Client.RunAsync(Low(("client", "runner_async"), ("fun", "test.arg"), ("eauth", "pam"), ("username", "saltdev"), ("password", "x")), CancellationToken.None));

        Assert.Equal("Authentication failure of type \"eauth\" occurred for user saltdev.", e.Message);
        Assert.Equal("EauthAuthenticationError", e.SaltName);
    }

    [Fact]
    public async Task Mk_token_load_and_reply()
    {
        using var peer = Answering("rep-mk_token-mk_token-login");
        await using var layer = Layer(peer.Port);

        var token = await layer.Client.MakeTokenAsync("pam", "saltdev", "saltdev", CancellationToken.None);

        Assert.Equal(Convert.ToHexString(TestData.VectorBytes("req-mk_token-mk_token-login")), Convert.ToHexString(Sent(peer)));
        Assert.NotNull(token);
        Assert.Equal("saltdev", token.Name);
        Assert.Equal("pam", token.Eauth);
        Assert.Equal(64, token.Token.Length);
        Assert.Equal(["saltdev"], token.Groups!);
        Assert.Equal(43200, token.Expire - token.Start, 3);
    }

    [Fact]
    public async Task Mk_token_refused_is_null()
    {
        using var peer = Answering("rep-mk_token-mk_token-login-wrong-password");
        await using var layer = Layer(peer.Port);

        Assert.Null(await layer.Client.MakeTokenAsync("pam", "saltdev", "bad", CancellationToken.None));
    }

    [Fact]
    public async Task Get_token_load_and_reply()
    {
        using var peer = Answering("rep-get_token-get_token-events");
        await using var layer = Layer(peer.Port);
        var sent = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(TestData.VectorBytes("req-get_token-get_token-events"))!)["load"]!;

        var token = await layer.Client.GetTokenAsync((string)sent["token"]!, CancellationToken.None);

        Assert.Equal(Convert.ToHexString(TestData.VectorBytes("req-get_token-get_token-events")), Convert.ToHexString(Sent(peer)));
        Assert.Equal(sent["token"], token?.Token);
    }

    [Fact]
    public async Task A_master_that_never_answers_is_unavailable_with_Salts_message()
    {
        using var peer = new RouterPeer((_, _) => false);
        await using var layer = Layer(peer.Port, "runner_async", "local_async");

        var runner = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => layer.Client.RunAsync(Low(("client", "runner_async"), ("fun", "test.arg"), ("token", "ab")), CancellationToken.None));
        Assert.Equal("Message timed out", runner.Message);
        // Sent once: a call that reached the master is never sent again (it would run twice).
        Assert.Single(peer.Received);

        var local = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => layer.Client.RunAsync(Low(("client", "local_async"), ("tgt", "*"), ("fun", "test.ping"), ("timeout", 1L), ("token", "ab")), CancellationToken.None));
        Assert.StartsWith("Salt request timed out. The master is not responding.", local.Message);
    }

    [Fact]
    public void Envelope_of_a_vector_round_trips()
    {
        var bytes = TestData.VectorBytes("req-get_token-get_token-events");
        var load = ((OrderedDictionary<string, object?>)ClearEnvelope.DecodeReply(bytes)!)["load"];
        Assert.Equal(bytes, ClearEnvelope.Encode((OrderedDictionary<string, object?>)load!));
    }
}
