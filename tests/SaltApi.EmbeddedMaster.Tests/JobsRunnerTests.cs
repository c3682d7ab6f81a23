using SaltApi.Protocol.Events;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The job cache and the jobs/manage runners, and the minion functions a local call relies on.</summary>
public sealed class JobsRunnerTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync(c =>
    {
        var em = (OrderedDictionary<string, object?>)c["embedded_master"]!;
        em["max_jobs"] = 4L;
        em["write_job_cache"] = true;
        em["silent"] = new List<object?> { "ms--4" };
    });

    public async Task DisposeAsync() => await h.DisposeAsync();

    private async Task<string> PublishAsync(BusReader bus, string fun, List<object?>? arg = null, object? tgt = null, string tgtType = "glob", int expect = 4)
    {
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        req["fun"] = fun;
        req["arg"] = arg ?? [];
        req["tgt"] = tgt ?? "*";
        req["tgt_type"] = tgtType;
        var load = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["load"]!;
        var jid = (string)load["jid"]!;
        for (var i = 0; i < expect; i++)
        {
            await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
        }

        return jid;
    }

    private async Task<object?> RunnerAsync(BusReader bus, string fun, OrderedDictionary<string, object?> kwarg)
    {
        var req = CapturedRequests.Load("req-runner-runner-eauth");
        req["fun"] = fun;
        req["kwarg"] = kwarg;
        var jid = (string)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["jid"]!;
        var ret = await bus.NextAsync(t => t == $"salt/run/{jid}/ret");
        Assert.True(ret.Data["success"] is true, Convert.ToString(ret.Data["return"], System.Globalization.CultureInfo.InvariantCulture));
        return ret.Data["return"];
    }

    [Fact]
    public async Task List_job_has_info_minions_and_result_like_salt()
    {
        using var bus = h.Reader();
        var jid = await PublishAsync(bus, "test.ping");
        var job = Assert.IsType<OrderedDictionary<string, object?>>(await RunnerAsync(bus, "jobs.list_job", Map(("jid", jid))));
        Assert.Equal(["jid", "Function", "Arguments", "Target", "Target-type", "User", "Minions", "StartTime", "Result"], job.Keys);
        Assert.Equal("test.ping", job["Function"]);
        Assert.Equal("saltdev", job["User"]);
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" }, job["Minions"]);
        Assert.Matches(@"^\d{4}, [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6}$", (string)job["StartTime"]!);
        var result = (OrderedDictionary<string, object?>)job["Result"]!;
        Assert.Equal(4, result.Count);
        Assert.Equal(Map(("return", true), ("retcode", 0L), ("success", true)), result["ms--0"]);
        var missing = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.lookup_jid", Map(("jid", jid), ("missing", true))))!;
        Assert.Equal("Minion did not return", missing["ms--4"]);
    }

    [Fact]
    public async Task List_jobs_filters_and_the_cache_is_bounded_by_max_jobs()
    {
        using var bus = h.Reader();
        var jids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            jids.Add(await PublishAsync(bus, i == 4 ? "test.version" : "test.ping"));
        }

        var all = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.list_jobs", Map()))!;
        Assert.Equal(jids.Skip(1), all.Keys);
        // The evicted job's directory is removed in the background.
        var evicted = h.Master.Context!.Jobs.JobDir(jids[0]);
        for (var i = 0; i < 200 && Directory.Exists(evicted); i++)
        {
            await Task.Delay(25);
        }

        Assert.False(Directory.Exists(evicted));
        var entry = (OrderedDictionary<string, object?>)all[jids[4]]!;
        Assert.Equal(["Function", "Arguments", "Target", "Target-type", "User", "StartTime"], entry.Keys);
        var version = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.list_jobs", Map(("search_function", "test.v*"))))!;
        Assert.Equal([jids[4]], version.Keys);
        var none = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.list_jobs", Map(("search_target", "nothing*"))))!;
        Assert.Empty(none);
        var future = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.list_jobs", Map(("start_time", "2100-01-01T00:00:00"))))!;
        Assert.Empty(future);
    }

    [Fact]
    public async Task The_cache_is_also_bounded_by_the_number_of_returns()
    {
        await using var small = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["max_cached_returns"] = 7L);
        using var bus = small.Reader();
        var jids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var jid = (string)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await small.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))!)["load"]!)["jid"]!;
            for (var n = 0; n < 5; n++)
            {
                await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal));
            }

            jids.Add(jid);
        }

        // 5 returns per job and at most 7 kept: the first job is gone, the newest kept.
        Assert.Null(small.Master.Context!.Jobs.Get(jids[0]));
        Assert.NotNull(small.Master.Context!.Jobs.Get(jids[2]));
    }

    [Fact]
    public async Task Find_job_and_jobs_active_see_a_running_sleep()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        req["tgt"] = "ms--0";
        req["fun"] = "test.sleep";
        req["arg"] = new List<object?> { "30" };
        // No head start: the master enters the job in the minions' running jobs before it answers the publish.
        var sleepJid = (string)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["load"]!)["jid"]!;
        var find = await PublishAsync(bus, "saltutil.find_job", [sleepJid], new List<object?> { "ms--0", "ms--1" }, "list", 2);
        var returns = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.lookup_jid", Map(("jid", find))))!;
        var running = Assert.IsType<OrderedDictionary<string, object?>>(returns["ms--0"]);
        Assert.Equal("test.sleep", running["fun"]);
        Assert.Equal(sleepJid, running["jid"]);
        Assert.IsType<long>(running["pid"]);
        Assert.Equal(Map(), returns["ms--1"]);
        var active = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.active", Map()))!;
        Assert.Contains(sleepJid, active.Keys);

        // saltutil.kill_job ends it: the sleeping minion never returns.
        await PublishAsync(bus, "saltutil.kill_job", [sleepJid], "ms--0", "glob", 1);
        var after = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "jobs.active", Map()))!;
        Assert.DoesNotContain(sleepJid, after.Keys);
    }

    [Fact]
    public async Task Manage_status_up_down_present()
    {
        using var bus = h.Reader();
        var status = (OrderedDictionary<string, object?>)(await RunnerAsync(bus, "manage.status", Map()))!;
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3" }, status["up"]);
        Assert.Equal(new List<object?> { "ms--4" }, status["down"]);
        Assert.Equal(new List<object?> { "ms--4" }, await RunnerAsync(bus, "manage.down", Map()));
        Assert.Equal(new List<object?> { "ms--0" }, await RunnerAsync(bus, "manage.up", Map(("tgt", "ms--0"))));
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3" }, await RunnerAsync(bus, "manage.present", Map()));
    }

    [Fact]
    public async Task Minion_functions_return_salts_values()
    {
        using var bus = h.Reader();
        async Task<object?> One(string fun, params object?[] args)
        {
            var jid = await PublishAsync(bus, fun, args.ToList(), "ms--1", "glob", 0);
            var ret = await bus.NextAsync(t => t == $"salt/job/{jid}/ret/ms--1");
            return ret.Data["return"];
        }

        Assert.Equal("3006.0", await One("test.version"));
        var near = (OrderedDictionary<string, object?>)(await One("test.pin"))!;
        Assert.Equal(["test.ping", "test.pin"], near.Keys);
        Assert.Equal("'test.pin' is not available.", near["test.pin"]);
        Assert.Equal("héllo ☃", await One("test.echo", "héllo ☃"));
        Assert.Equal(Map(("a", "1")), Strip((OrderedDictionary<string, object?>)(await One("test.kwarg", "a=1"))!));
        Assert.Equal(new List<object?> { 55L }, ((List<object?>)(await One("test.fib", 10L))!).Take(1).ToList());
        Assert.Equal("ms--1", await One("grains.get", "id"));
        Assert.Equal(Map(), await One("pillar.items"));
        Assert.Equal("fallback", await One("pillar.get", "nosuch", "fallback"));
        Assert.Equal(Map(("os", "Debian"), ("nosuch", "")), await One("grains.item", "os", "nosuch"));
        Assert.Contains("test.ping", (List<object?>)(await One("sys.list_functions", "test"))!);
        Assert.StartsWith("The minion function caused an exception: ", (string)(await One("test.exception", "boom"))!, StringComparison.Ordinal);
        Assert.EndsWith("Exception: boom\n", (string)(await One("test.exception", "boom"))!, StringComparison.Ordinal);
        Assert.StartsWith("Passed invalid arguments to test.echo: echo() missing 1 required positional argument: 'text'", (string)(await One("test.echo"))!, StringComparison.Ordinal);
        Assert.Equal("ERROR executing 'test.echo': The following keyword arguments are not valid: bad=1", await One("test.echo", "x", "bad=1"));

        var jid = await PublishAsync(bus, "test.retcode", [3L], "ms--1", "glob", 0);
        var rc = await bus.NextAsync(t => t == $"salt/job/{jid}/ret/ms--1");
        Assert.Equal(3L, rc.Data["retcode"]);
        Assert.Equal(false, rc.Data["success"]);
    }

    private static OrderedDictionary<string, object?> Strip(OrderedDictionary<string, object?> m)
    {
        var r = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in m)
        {
            if (!k.StartsWith("__pub_", StringComparison.Ordinal))
            {
                r[k] = v;
            }
        }

        return r;
    }
}
