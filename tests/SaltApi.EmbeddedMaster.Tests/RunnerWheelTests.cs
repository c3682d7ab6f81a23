using SaltApi.Protocol.Events;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>runner (spec/01 §5.4) and wheel (§5.5) replies and events, compared with the captured ones.</summary>
public sealed class RunnerWheelTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private static string Keys(BusEvent e) => string.Join(",", e.Data.Keys);

    private static BusEvent Captured(string name) => EventFrame.Decode(new System.Buffers.ReadOnlySequence<byte>(SaltApi.Testing.TestData.VectorBytes(name)))!;

    [Fact]
    public async Task Runner_replies_tag_and_jid_then_fires_new_and_ret_like_salt()
    {
        using var bus = h.Reader();
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(await h.SendAsync(CapturedRequests.Load("req-runner-runner-eauth")));
        Assert.Equal(Vectors.Shape(Vectors.Decode("rep-runner-runner-eauth")), Vectors.Shape(reply));
        var jid = (string)reply["jid"]!;
        Assert.Equal($"salt/run/{jid}", reply["tag"]);
        var created = await bus.NextAsync(t => t.StartsWith($"salt/run/{jid}/", StringComparison.Ordinal));
        Assert.Equal($"salt/run/{jid}/new", created.Tag);
        var capturedNew = Captured("event-salt-run-new--runner-eauth");
        Assert.Equal(Keys(capturedNew), Keys(created));
        Assert.Equal(capturedNew.Data["fun_args"], created.Data["fun_args"]);
        var ret = await bus.NextAsync(t => t == $"salt/run/{jid}/ret");
        var capturedRet = Captured("event-salt-run-ret--runner-eauth");
        Assert.Equal(Keys(capturedRet), Keys(ret));
        Assert.Equal(capturedRet.Data["return"], ret.Data["return"]);
        Assert.Equal(true, ret.Data["success"]);
        Assert.Equal("saltdev", ret.Data["user"]);

        // As Salt's store_job: the runner job is in the job cache under the master's id.
        var list = CapturedRequests.Load("req-runner-runner-eauth");
        list["fun"] = "jobs.list_job";
        list["kwarg"] = Map(("jid", jid));
        var ljid = (string)((OrderedDictionary<string, object?>)(await h.SendAsync(list))!)["jid"]!;
        var info = (OrderedDictionary<string, object?>)(await bus.NextAsync(t => t == $"salt/run/{ljid}/ret")).Data["return"]!;
        Assert.Equal("runner.test.arg", info["Function"]);
        Assert.Equal(capturedNew.Data["fun_args"], info["Arguments"]);
        Assert.Equal("list", info["Target-type"]);
        var result = (OrderedDictionary<string, object?>)info["Result"]!;
        var only = (OrderedDictionary<string, object?>)Assert.Single(result).Value!;
        Assert.Equal(capturedRet.Data["return"], ((OrderedDictionary<string, object?>)only["return"]!)["return"]);
    }

    [Fact]
    public async Task Runner_with_a_wrong_password_is_salts_eauth_error()
    {
        Assert.Equal(Vectors.Decode("rep-runner-runner-wrong-password"), await h.SendAsync(CapturedRequests.Load("req-runner-runner-wrong-password")));
    }

    [Fact]
    public async Task Runner_with_a_bad_token_is_token_error()
    {
        var req = CapturedRequests.Load("req-runner-runner-token");
        req["token"] = new string('0', 64);
        var err = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["error"]!;
        Assert.Equal("TokenAuthenticationError", err["name"]);
        Assert.Equal("Authentication failure of type \"token\" occurred.", err["message"]);
    }

    [Fact]
    public async Task Runner_denied_by_acl_says_authentication_failure_for_user()
    {
        var req = CapturedRequests.Load("req-runner-runner-eauth");
        req["username"] = "limited";
        var err = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["error"]!;
        Assert.Equal("EauthAuthenticationError", err["name"]);
        Assert.Equal("Authentication failure of type \"eauth\" occurred for user limited.", err["message"]);
    }

    [Fact]
    public async Task Runner_syntax_and_user_auth_errors()
    {
        var req = CapturedRequests.Load("req-runner-runner-eauth");
        req["fun"] = "nodot";
        var err = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["error"]!;
        Assert.Equal("SaltInvocationError", err["name"]);
        Assert.Equal("A command invocation error occurred: Check syntax.", err["message"]);
        var user = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(Map(("fun", "test.arg"), ("cmd", "runner"))))!)["error"]!;
        Assert.Equal(Map(("name", "UserAuthenticationError"), ("message", "Authentication failure of type \"user\" occurred")), user);
    }

    [Fact]
    public async Task Runner_flat_kwarg_form_and_missing_function()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-runner-runner-eauth");
        req["fun"] = "test.sleep";
        req["kwarg"] = Map(("s_time", 0L));
        var jid = (string)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["jid"]!;
        var ret = await bus.NextAsync(t => t == $"salt/run/{jid}/ret");
        Assert.Equal(true, ret.Data["return"]);
        Assert.Equal(new List<object?> { Map(("s_time", 0L)) }, ret.Data["fun_args"]);

        req["fun"] = "jobs.nosuch";
        var jid2 = (string)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["jid"]!;
        var ret2 = await bus.NextAsync(t => t.StartsWith($"salt/run/{jid2}/", StringComparison.Ordinal));
        Assert.Equal($"salt/run/{jid2}/ret", ret2.Tag); // no /new for a missing function
        Assert.Equal(false, ret2.Data["success"]);
        Assert.StartsWith("Exception occurred in runner jobs.nosuch: ", (string)ret2.Data["return"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runner_invalid_kwarg_is_a_passed_invalid_arguments_return()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-runner-runner-eauth");
        req["fun"] = "jobs.list_job";
        req["kwarg"] = Map(("kwarg", Map(("nope", 1L))), ("arg", new List<object?> { "1" }));
        var jid = (string)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["jid"]!;
        var ret = await bus.NextAsync(t => t == $"salt/run/{jid}/ret");
        Assert.StartsWith("\nPassed invalid arguments: list_job() got an unexpected keyword argument 'nope'", (string)ret.Data["return"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wheel_key_list_all_replies_tag_and_data_with_inner_and_outer_events()
    {
        using var bus = h.Reader();
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(await h.SendAsync(CapturedRequests.Load("req-wheel-wheel-eauth")));
        var captured = (OrderedDictionary<string, object?>)Vectors.Decode("rep-wheel-wheel-eauth")!;
        Assert.Equal(Vectors.Shape(captured), Vectors.Shape(reply));
        var data = (OrderedDictionary<string, object?>)reply["data"]!;
        var jid = (string)data["jid"]!;
        Assert.Equal($"salt/wheel/{jid}", reply["tag"]);
        var ret = (OrderedDictionary<string, object?>)data["return"]!;
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" }, ret["minions"]);

        var tags = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            tags.Add((await bus.NextAsync(t => t.StartsWith("salt/wheel/", StringComparison.Ordinal))).Tag);
        }

        Assert.Equal($"salt/wheel/{jid}/new", tags[0]);
        Assert.EndsWith("/new", tags[1], StringComparison.Ordinal);
        Assert.EndsWith("/ret", tags[2], StringComparison.Ordinal);
        Assert.Equal($"salt/wheel/{jid}/ret", tags[3]);
    }

    [Fact]
    public async Task Wheel_key_finger_is_a_real_fingerprint_and_bad_kwarg_fails_like_salt()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-wheel-wheel-eauth");
        req["fun"] = "key.finger";
        req["match"] = "ms--0";
        var data = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["data"]!;
        var minions = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)data["return"]!)["minions"]!;
        Assert.Matches("^([0-9a-f]{2}:){31}[0-9a-f]{2}$", (string)minions["ms--0"]!);
        var inner = await bus.NextAsync(t => t.EndsWith("/ret", StringComparison.Ordinal) && !t.Contains((string)data["jid"]!, StringComparison.Ordinal) && t.StartsWith("salt/wheel/", StringComparison.Ordinal));
        Assert.Equal(new List<object?> { "ms--0", Map(("hash_type", null)) }, inner.Data["fun_args"]);
        Assert.Equal("UNKNOWN", inner.Data["user"]);

        req["fun"] = "key.list_all";
        req["tgt"] = "x";
        var bad = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["data"]!;
        Assert.Equal(false, bad["success"]);
        Assert.Contains("'tgt' is an invalid keyword argument for 'salt.loaded.int.wheel.key.list_all'", (string)bad["return"]!, StringComparison.Ordinal);
    }
}
