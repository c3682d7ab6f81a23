using SaltApi.Protocol.Events;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>publish (spec/01 §5.3) and its events (spec/02 §5), compared with the captured ones.</summary>
public sealed class PublishTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private static OrderedDictionary<string, object?> Load(object? reply) =>
        Assert.IsType<OrderedDictionary<string, object?>>(Assert.IsType<OrderedDictionary<string, object?>>(reply)["load"]);

    private static string Data(BusEvent e) => string.Join(",", e.Data.Keys);

    private static BusEvent CapturedEvent(string name) => EventFrame.Decode(new System.Buffers.ReadOnlySequence<byte>(SaltApi.Testing.TestData.VectorBytes(name)))!;

    [Fact]
    public async Task Eauth_publish_replies_like_salt_and_fires_jid_new_and_one_ret_per_minion_in_order()
    {
        using var bus = h.Reader();
        var reply = await h.SendAsync(CapturedRequests.Load("req-publish-publish-eauth"));
        Assert.Equal(Vectors.Shape(Vectors.Decode("rep-publish-publish-eauth")), Vectors.Shape(reply));
        var load = Load(reply);
        var jid = (string)load["jid"]!;
        Assert.Matches("^[0-9]{20}$", jid);
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" }, load["minions"]);

        var first = await bus.NextAsync(t => t.Contains(jid, StringComparison.Ordinal));
        Assert.Equal(jid, first.Tag);
        Assert.Equal("minions,_stamp", Data(first));
        var created = await bus.NextAsync(t => t.Contains(jid, StringComparison.Ordinal));
        Assert.Equal($"salt/job/{jid}/new", created.Tag);
        Assert.Equal(Data(CapturedEvent("event-salt-job-new--publish-eauth")), Data(created));
        Assert.Equal("saltdev", created.Data["user"]);
        var seen = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var ret = await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
            Assert.Equal(Data(CapturedEvent("event-salt-job-ret--publish-eauth")), Data(ret));
            Assert.Equal(true, ret.Data["return"]);
            Assert.Equal(0L, ret.Data["retcode"]);
            seen.Add((string)ret.Data["id"]!);
        }

        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public async Task Test_arg_returns_args_kwargs_and_pub_data_like_the_captured_event()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-arg-kwarg");
        var jid = (string)Load(await h.SendAsync(req))["jid"]!;
        var ret = await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
        var captured = CapturedEvent("event-salt-job-ret--publish-arg-kwarg");
        Assert.Equal(Data(captured), Data(ret));
        var got = (OrderedDictionary<string, object?>)ret.Data["return"]!;
        var want = (OrderedDictionary<string, object?>)captured.Data["return"]!;
        Assert.Equal(want["args"], got["args"]);
        var gotKw = (OrderedDictionary<string, object?>)got["kwargs"]!;
        var wantKw = (OrderedDictionary<string, object?>)want["kwargs"]!;
        Assert.Equal(wantKw.Keys, gotKw.Keys);
        Assert.Equal(wantKw["__pub_arg"], gotKw["__pub_arg"]);
        Assert.Equal(jid, gotKw["__pub_jid"]);
        Assert.Equal("ms--0", gotKw["__pub_tgt"]);
        Assert.Equal("saltdev", gotKw["__pub_user"]);
        Assert.Equal(captured.Data["fun_args"], ret.Data["fun_args"]);
    }

    [Fact]
    public async Task List_target_reports_names_without_a_key_as_missing()
    {
        var req = CapturedRequests.Load("req-publish-publish-list-tgt");
        req["tgt"] = new List<object?> { "ms--0", "ms--1", "ghost" };
        var load = Load(await h.SendAsync(req));
        Assert.Equal(new List<object?> { "ms--0", "ms--1" }, load["minions"]);
        Assert.Equal(new List<object?> { "ghost" }, load["missing"]);
    }

    [Fact]
    public async Task No_minion_matched_is_salts_error_load_and_no_event()
    {
        var reply = await h.SendAsync(CapturedRequests.Load("req-publish-publish-no-minion"));
        Assert.Equal(Vectors.Decode("rep-publish-publish-no-minion"), reply);
    }

    [Fact]
    public async Task Wrong_password_is_authentication_error_and_fires_salt_job_error_with_the_load()
    {
        using var bus = h.Reader();
        var reply = await h.SendAsync(CapturedRequests.Load("req-publish-publish-wrong-password"));
        Assert.Equal(Vectors.Decode("rep-publish-publish-wrong-password"), reply);
        var err = await bus.NextAsync(t => t == "salt/job/error");
        Assert.Equal(Data(CapturedEvent("event-salt-job-error--publish-wrong-password")), Data(err));
    }

    [Fact]
    public async Task Bad_token_is_authentication_error()
    {
        using var bus = h.Reader();
        Assert.Equal(Vectors.Decode("rep-publish-publish-bad-token"), await h.SendAsync(CapturedRequests.Load("req-publish-publish-bad-token")));
        var err = await bus.NextAsync(t => t == "salt/job/error");
        Assert.Equal(Data(CapturedEvent("event-salt-job-error--publish-bad-token")), Data(err));
    }

    [Fact]
    public async Task Acl_denial_for_a_restricted_user_is_authorization_error()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-acl-denied");
        ((OrderedDictionary<string, object?>)req["kwargs"]!)["password"] = Password;
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), await h.SendAsync(req));
        var err = await bus.NextAsync(t => t == "salt/job/error");
        Assert.Equal(Data(CapturedEvent("event-salt-job-error--publish-acl-denied")), Data(err));
    }

    [Fact]
    public async Task Restricted_user_may_run_what_the_acl_allows_and_find_job_always()
    {
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        var kw = (OrderedDictionary<string, object?>)req["kwargs"]!;
        kw["username"] = "limited";
        Assert.Contains("jid", Load(await h.SendAsync(req)).Keys);
        req["fun"] = "saltutil.find_job";
        req["arg"] = new List<object?> { "20260101000000000000" };
        Assert.Contains("jid", Load(await h.SendAsync(req)).Keys);
    }

    [Fact]
    public async Task Token_publish_uses_the_tokens_user()
    {
        using var bus = h.Reader();
        var tok = (OrderedDictionary<string, object?>)(await h.SendAsync(Map(("username", "saltdev"), ("password", Password), ("eauth", "file"), ("cmd", "mk_token"))))!;
        var req = CapturedRequests.Load("req-publish-publish-token");
        ((OrderedDictionary<string, object?>)req["kwargs"]!)["token"] = tok["token"];
        var jid = (string)Load(await h.SendAsync(req))["jid"]!;
        var created = await bus.NextAsync(t => t == $"salt/job/{jid}/new");
        Assert.Equal("saltdev", created.Data["user"]);
    }

    [Fact]
    public async Task Unknown_function_returns_the_minions_not_available_text()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        req["tgt"] = "ms--0";
        req["fun"] = "test.nosuchfunction";
        var jid = (string)Load(await h.SendAsync(req))["jid"]!;
        var ret = await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
        Assert.Equal("'test.nosuchfunction' is not available.", ret.Data["return"]);
        Assert.Equal(false, ret.Data["success"]);
    }

    [Fact]
    public async Task Silent_minions_are_targeted_but_never_answer()
    {
        await using var m = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["silent"] = new List<object?> { "ms--4" });
        using var bus = m.Reader();
        var jid = (string)Load(await m.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))["jid"]!;
        var ids = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((string)(await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal))).Data["id"]!);
        }

        Assert.DoesNotContain("ms--4", ids);
        // The job is over: a fresh ping ends after the other four, nothing from ms--4 arrived in between.
        var jid2 = (string)Load(await m.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))["jid"]!;
        var next = await bus.NextAsync(t => t.Contains("/ret/", StringComparison.Ordinal));
        Assert.Contains(jid2, next.Tag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_lookup_jid_returns_the_cached_returns()
    {
        // write_job_cache is off by default; on, the load is also written where Salt's local_cache puts it.
        await using var disk = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["write_job_cache"] = true);
        using var bus = disk.Reader();
        var jid = (string)Load(await disk.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))["jid"]!;
        for (var i = 0; i < 5; i++)
        {
            await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
        }

        var runner = CapturedRequests.Load("req-runner-runner-eauth");
        runner["fun"] = "jobs.lookup_jid";
        runner["kwarg"] = Map(("kwarg", Map()), ("arg", new List<object?> { jid }));
        var rjid = (string)((OrderedDictionary<string, object?>)(await disk.SendAsync(runner))!)["jid"]!;
        var ret = await bus.NextAsync(t => t == $"salt/run/{rjid}/ret");
        var returns = Assert.IsType<OrderedDictionary<string, object?>>(ret.Data["return"]);
        Assert.Equal(5, returns.Count);
        Assert.All(returns.Values, v => Assert.Equal(true, v));
        // The job cache files are written in the background, off the publish path.
        var load = Path.Combine(disk.Master.Context!.Jobs.JobDir(jid), ".load.p");
        for (var i = 0; i < 100 && !File.Exists(load); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(load));
    }

    [Fact]
    public async Task By_default_the_job_cache_stays_in_memory()
    {
        using var bus = h.Reader();
        var jid = (string)Load(await h.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))["jid"]!;
        for (var i = 0; i < 5; i++)
        {
            await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
        }

        Assert.Equal(5, h.Master.Context!.Jobs.Get(jid)!.ReturnCount);
        Assert.False(Directory.Exists(Path.Combine(h.CacheDir, "jobs")));
    }
}
