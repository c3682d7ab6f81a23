using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Embedded;

/// <summary>Every client's result shape against the embedded master over real sockets, on both request transports.</summary>
public abstract class ClientsTests(MasterFixture m)
{
    private static (string, object?)[] Low(params (string, object?)[] kv) => [.. kv, .. Eauth()];

    [Fact]
    public async Task Local_returns_every_minion_in_a_map()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--*"), ("fun", "test.ping")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"], ret.Keys.Order());
        Assert.All(ret.Values, v => Assert.Equal(true, v));
    }

    [Fact]
    public async Task Local_args_and_kwargs_reach_the_minion()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--0"), ("fun", "test.arg"), ("arg", new List<object?> { "a", 1L }), ("kwarg", Map(("k", "v")))));

        var ret = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--0"]!;
        Assert.Equal(new List<object?> { "a", 1L }, ret["args"]);
        Assert.Equal("v", ((OrderedDictionary<string, object?>)ret["kwargs"]!)["k"]);
    }

    [Fact]
    public async Task Local_scalar_arg_is_one_argument()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--0"), ("fun", "test.echo"), ("arg", "hello")));

        Assert.Equal("hello", ((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--0"]);
    }

    [Fact]
    public async Task Local_full_return_has_ret_retcode_jid()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--1"), ("fun", "test.ping"), ("full_return", true)));

        var one = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--1"]!;
        Assert.Equal(true, one["ret"]);
        Assert.Equal(0L, one["retcode"]);
        Assert.True(SaltApi.Protocol.Jobs.Jid.IsJid((string)one["jid"]!));
    }

    [Fact]
    public async Task Local_minion_that_never_answers_is_false()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", new List<object?> { "ms--0", "quiet1" }), ("tgt_type", "list"), ("fun", "test.ping")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(true, ret["ms--0"]);
        Assert.Equal(false, ret["quiet1"]);
    }

    [Fact]
    public async Task Local_list_name_without_a_key_gets_Salts_no_response_text()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--0,nokey"), ("tgt_type", "list"), ("fun", "test.ping")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(true, ret["ms--0"]);
        Assert.StartsWith("Minion did not return. [No response]\nThe minions may not have all finished running", Assert.IsType<string>(ret["nokey"]));
    }

    [Fact]
    public async Task Local_and_local_async_matching_nothing_are_empty_maps()
    {
        foreach (var client in new[] { "local", "local_async" })
        {
            var result = await m.Run(Low(("client", client), ("tgt", "nosuchminion"), ("fun", "test.ping")));
            Assert.Empty(Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result)));
        }
    }

    [Fact]
    public async Task Local_async_returns_jid_and_minions()
    {
        var result = await m.Run(Low(("client", "local_async"), ("tgt", "ms--[01]"), ("fun", "test.ping")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["jid", "minions"], ret.Keys);
        Assert.True(SaltApi.Protocol.Jobs.Jid.IsJid((string)ret["jid"]!));
        Assert.Equal(["ms--0", "ms--1"], ((List<object?>)ret["minions"]!).Cast<string>().Order());
    }

    [Fact]
    public async Task Wrong_password_is_an_authentication_error()
    {
        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run(("client", "local"), ("tgt", "*"), ("fun", "test.ping"), ("eauth", "file"), ("username", "saltdev"), ("password", "wrong")));

        Assert.Equal("Authentication error occurred.", e.Message);
        Assert.Equal("AuthenticationError", e.SaltName);
    }

    [Fact]
    public async Task Bad_token_is_an_authentication_error()
    {
        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run(("client", "local_async"), ("tgt", "*"), ("fun", "test.ping"), ("token", new string('a', 64))));

        Assert.Equal("Authentication error occurred.", e.Message);
    }

    [Fact]
    public async Task Acl_denial_is_an_authorization_error()
    {
        var e = await Assert.ThrowsAsync<SaltAuthorizationException>(() => m.Run([("client", "local"), ("tgt", "*"), ("fun", "grains.items"), .. Eauth("limited")]));

        Assert.Equal("Authorization error occurred.", e.Message);
    }

    [Fact]
    public async Task Runner_moves_k_v_strings_and_unknown_keys_into_kwargs()
    {
        var result = await m.Run(Low(("client", "runner"), ("fun", "test.arg"), ("arg", new List<object?> { 1L, "a=b" }), ("kwarg", Map(("x", 1L))), ("extra", "e")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(new List<object?> { 1L }, ret["args"]);
        var kw = (OrderedDictionary<string, object?>)ret["kwargs"]!;
        Assert.Equal("b", kw["a"]);
        Assert.Equal(1L, kw["x"]);
        Assert.Equal("e", kw["extra"]);
    }

    [Fact]
    public async Task Runner_full_return_is_the_whole_ret_event()
    {
        var result = await m.Run(Low(("client", "runner"), ("fun", "test.arg"), ("full_return", true)));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["data", "tag"], ret.Keys);
        Assert.Matches("^salt/run/[0-9]{20}/ret$", (string)ret["tag"]!);
        var data = (OrderedDictionary<string, object?>)ret["data"]!;
        Assert.Equal(true, data["success"]);
        Assert.Equal("runner.test.arg", data["fun"]);
    }

    [Fact]
    public async Task Runner_that_outlives_its_timeout_is_a_504()
    {
        var e = await Assert.ThrowsAsync<SaltTimeoutException>(() => m.Run(Low(("client", "runner"), ("fun", "test.sleep"), ("s_time", 5L), ("timeout", 1L))));

        Assert.Matches("^RunnerClient job '[0-9]{20}' timed out$", e.Message);
    }

    [Fact]
    public async Task Runner_with_a_bad_password_keeps_the_masters_error()
    {
        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run(("client", "runner"), ("fun", "test.arg"), ("eauth", "file"), ("username", "saltdev"), ("password", "nope")));

        Assert.Equal("Authentication failure of type \"eauth\" occurred for user saltdev.", e.Message);
        Assert.Equal("EauthAuthenticationError", e.SaltName);
    }

    [Fact]
    public async Task Runner_async_returns_tag_and_jid()
    {
        var result = await m.Run(Low(("client", "runner_async"), ("fun", "test.arg"), ("timeout", 3L)));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["tag", "jid"], ret.Keys);
        Assert.Equal("salt/run/" + ret["jid"], ret["tag"]);
    }

    [Fact]
    public async Task Wheel_returns_tag_and_data()
    {
        var result = await m.Run(Low(("client", "wheel"), ("fun", "key.list_all")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["tag", "data"], ret.Keys);
        var data = (OrderedDictionary<string, object?>)ret["data"]!;
        Assert.Equal("wheel.key.list_all", data["fun"]);
        Assert.Equal(true, data["success"]);
        Assert.Equal("saltdev", data["user"]);
    }

    [Fact]
    public async Task Wheel_async_answers_at_once_and_its_ret_event_follows()
    {
        using var sub = m.Layer.Events.Subscribe();

        var result = await m.Run(Low(("client", "wheel_async"), ("fun", "key.list_all")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["tag", "jid"], ret.Keys);
        var tag = (string)ret["tag"]!;
        Assert.Equal("salt/wheel/" + ret["jid"], tag);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in sub.Reader.ReadAllAsync(cts.Token))
        {
            if (e.Tag == tag + "/ret")
            {
                Assert.Equal("UNKNOWN", e.Data["user"]);
                return;
            }
        }
    }

    [Fact]
    public async Task Local_batch_yields_one_item_per_minion()
    {
        var result = await m.Run(Low(("client", "local_batch"), ("tgt", "ms--*"), ("fun", "test.ping"), ("batch", "40%")));

        Assert.Equal(5, result.Count);
        var ids = result.Select(r => Assert.Single((OrderedDictionary<string, object?>)r!)).ToList();
        Assert.Equal(["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"], ids.Select(kv => kv.Key).Order());
        Assert.All(ids, kv => Assert.Equal(true, kv.Value));
    }

    [Fact]
    public async Task Local_batch_skips_minions_that_did_not_answer_the_ping()
    {
        var result = await m.Run(Low(("client", "local_batch"), ("tgt", "ms--0,ms--1,quiet1"), ("tgt_type", "list"), ("fun", "test.ping"), ("batch", 1L)));

        Assert.Equal(2, result.Count);
    }

    [Fact]
    public async Task Local_batch_with_batch_wait_still_runs_every_minion()
    {
        var result = await m.Run(Low(("client", "local_batch"), ("tgt", "ms--0,ms--1"), ("tgt_type", "list"), ("fun", "test.ping"), ("batch", "1"), ("batch_wait", 1L)));

        Assert.Equal(["ms--0", "ms--1"], result.Select(r => Assert.Single((OrderedDictionary<string, object?>)r!).Key).Order());
    }

    [Fact]
    public async Task Local_batch_munges_retcode_into_map_returns()
    {
        var result = await m.Run(Low(("client", "local_batch"), ("tgt", "ms--0"), ("fun", "test.arg"), ("arg", new List<object?> { "x" }), ("batch", "100%")));

        var ret = (OrderedDictionary<string, object?>)Assert.Single((OrderedDictionary<string, object?>)Assert.Single(result)!).Value!;
        Assert.Equal(0L, ret["retcode"]);
    }

    [Fact]
    public async Task Local_batch_with_an_invalid_batch_runs_nothing()
    {
        var result = await m.Run(Low(("client", "local_batch"), ("tgt", "ms--0"), ("fun", "test.ping"), ("batch", "lots")));

        Assert.Empty(result);
    }

    [Fact]
    public async Task Local_subset_runs_on_subset_minions()
    {
        var result = await m.Run(Low(("client", "local_subset"), ("tgt", "ms--*"), ("fun", "test.ping"), ("subset", 2L)));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(2, ret.Count);
        Assert.All(ret, kv => Assert.StartsWith("ms--", kv.Key));
    }

    [Fact]
    public async Task Tokens_mk_get_and_use()
    {
        var token = await m.Layer.Client.MakeTokenAsync("file", "saltdev", Password, CancellationToken.None);
        Assert.NotNull(token);
        Assert.Equal("saltdev", token.Name);
        Assert.Equal("file", token.Eauth);

        var again = await m.Layer.Client.GetTokenAsync(token.Token, CancellationToken.None);
        Assert.Equal(token.Token, again?.Token);
        Assert.Null(await m.Layer.Client.GetTokenAsync(new string('0', 64), CancellationToken.None));
        Assert.Null(await m.Layer.Client.MakeTokenAsync("file", "saltdev", "wrong", CancellationToken.None));

        var result = await m.Layer.Client.RunAsync(Map(("client", "local"), ("tgt", "ms--2"), ("fun", "test.ping"), ("token", token.Token)), CancellationToken.None);
        Assert.Equal(true, ((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--2"]);
    }

    [Fact]
    public async Task Fired_events_reach_subscribers()
    {
        using var sub = m.Layer.Events.Subscribe();

        Assert.True(await m.Layer.Client.FireEventAsync("salt/netapi/hook/test", Map(("body", "x")), CancellationToken.None));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in sub.Reader.ReadAllAsync(cts.Token))
        {
            if (e.Tag == "salt/netapi/hook/test")
            {
                Assert.Equal("x", e.Data["body"]);
                Assert.True(e.Data.ContainsKey("_stamp"));
                return;
            }
        }
    }

    [Theory]
    [InlineData("wheel_async")]
    [InlineData("ssh")]
    public async Task Clients_that_answer_before_running_still_refuse_bad_credentials(string client)
    {
        // wheel_async answers {tag, jid} in Salt before the master checked anything (CVE-2021-25281's path).
        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run(("client", client), ("tgt", "*"), ("fun", "key.list_all"), ("eauth", "file"), ("username", "saltdev"), ("password", "wrong")));
        Assert.Contains("Authentication", e.Message, StringComparison.Ordinal);
        var t = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run(("client", client), ("tgt", "*"), ("fun", "key.list_all"), ("token", new string('b', 64))));
        Assert.Contains("Authentication", t.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ssh_without_salt_ssh_is_a_500_naming_the_program()
    {
        // The fixture's config names no salt_ssh program, and no salt-ssh is installed where the tests run.
        var e = await Assert.ThrowsAsync<SaltClientException>(() => m.Run(Low(("client", "ssh"), ("tgt", "*"), ("fun", "test.ping"))));
        Assert.Contains("salt-ssh could not be started (salt-ssh)", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>Over ZeroMQ (the default transport). Not in parallel with the TCP run: two masters at once on a
/// loaded machine would crowd the fixture's 1 s publish timeout.</summary>
[Collection(nameof(ClientsTests))]
public sealed class ClientsZeromqTests(MasterFixture m) : ClientsTests(m), IClassFixture<MasterFixture>;

/// <summary>Over Salt's TCP transport.</summary>
[Collection(nameof(ClientsTests))]
public sealed class ClientsTcpTests(TcpMasterFixture m) : ClientsTests(m), IClassFixture<TcpMasterFixture>;
