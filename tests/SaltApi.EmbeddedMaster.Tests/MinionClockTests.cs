using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.EmbeddedMaster.Minions;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The simulated minions' clock: what fires, in which order, and what a stop does (never how fast).</summary>
public sealed class MinionClockTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private sealed class Item(string name) : IThreadPoolWorkItem
    {
        public string Name { get; } = name;

        public TaskCompletionSource Ran { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute() => Ran.TrySetResult();
    }

    // Records the hand-over order on the clock's own thread, so the order seen is the clock's, not the pool's.
    private sealed class Recorder
    {
        public BlockingCollection<string> Order { get; } = [];

        public void HandOver(IThreadPoolWorkItem w) => Order.Add(((Item)w).Name);

        public string Next() => Order.TryTake(out var n, Limit) ? n : throw new TimeoutException("nothing was handed over");
    }

    [Fact]
    public void Work_is_handed_over_in_due_order_not_scheduling_order()
    {
        using var cts = new CancellationTokenSource();
        var rec = new Recorder();
        using var clock = new MinionClock(100, cts.Token, rec.HandOver);
        Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(900), new Item("late")));
        Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(300), new Item("early")));
        Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(600), new Item("middle")));
        Assert.Equal(["early", "middle", "late"], new[] { rec.Next(), rec.Next(), rec.Next() });
        Assert.Equal(0, clock.Pending);
    }

    [Fact]
    public void Work_with_the_same_delay_keeps_its_scheduling_order()
    {
        using var cts = new CancellationTokenSource();
        var rec = new Recorder();
        using var clock = new MinionClock(1000, cts.Token, rec.HandOver);
        var names = Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var n in names)
        {
            Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(50), new Item(n)));
        }

        Assert.Equal(names, names.Select(_ => rec.Next()).ToList());
    }

    [Fact]
    public void Earlier_work_wakes_a_clock_that_waits_for_later_work()
    {
        using var cts = new CancellationTokenSource();
        var rec = new Recorder();
        using var clock = new MinionClock(100, cts.Token, rec.HandOver);
        Assert.True(clock.Schedule(Hour, new Item("hour")));
        Thread.Sleep(50); // the clock thread is now asleep until the hour is over
        Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(20), new Item("soon")));
        Assert.Equal("soon", rec.Next());
        Assert.Equal(1, clock.Pending);
    }

    [Fact]
    public async Task Due_work_runs_on_the_thread_pool_and_zero_delay_runs_at_once()
    {
        using var cts = new CancellationTokenSource();
        using var clock = new MinionClock(100, cts.Token);
        var later = new Item("later");
        var now = new Item("now");
        Assert.True(clock.Schedule(TimeSpan.FromMilliseconds(30), later));
        Assert.True(clock.Schedule(TimeSpan.Zero, now));
        await now.Ran.Task.WaitAsync(Limit);
        await later.Ran.Task.WaitAsync(Limit);
    }

    [Fact]
    public void A_full_clock_refuses_work_instead_of_growing()
    {
        using var cts = new CancellationTokenSource();
        var rec = new Recorder();
        using var clock = new MinionClock(2, cts.Token, rec.HandOver);
        Assert.True(clock.Schedule(Hour, new Item("a")));
        Assert.True(clock.Schedule(Hour, new Item("b")));
        Assert.False(clock.Schedule(Hour, new Item("c")));
        Assert.Equal(2, clock.Pending);
        // Work due at once never takes a place in the queue.
        Assert.True(clock.Schedule(TimeSpan.Zero, new Item("now")));
        Assert.Equal("now", rec.Next());
    }

    [Fact]
    public void Stopping_hands_every_waiting_item_over_at_once_and_later_work_runs_directly()
    {
        using var cts = new CancellationTokenSource();
        var rec = new Recorder();
        using var clock = new MinionClock(100, cts.Token, rec.HandOver);
        Assert.True(clock.Schedule(Hour, new Item("b")));
        Assert.True(clock.Schedule(TimeSpan.FromMinutes(30), new Item("a")));
        cts.Cancel();
        Assert.Equal(["a", "b"], new[] { rec.Next(), rec.Next() });
        Assert.Equal(0, clock.Pending);
        Assert.True(clock.Schedule(Hour, new Item("after")));
        Assert.Equal("after", rec.Next());
    }

    [Fact]
    public async Task When_the_clock_is_full_a_job_still_runs_on_every_minion()
    {
        var dir = Directory.CreateTempSubdirectory("saltem-clock-").FullName;
        using var cts = new CancellationTokenSource();
        var bus = new SaltApi.EmbeddedMaster.Bus.EventPublisher(NullLogger.Instance, 100, 10);
        var cache = new SaltApi.EmbeddedMaster.Jobs.JobCache(dir, "sha256", 24, 100, 1000, false, NullLogger.Instance);
        try
        {
            using var clock = new MinionClock(1, cts.Token);
            Assert.True(clock.Schedule(Hour, new Item("the only place")));
            var registry = new MinionRegistry(SaltApi.EmbeddedMaster.Config.EmbeddedOptions.From(Map(("minions", 3L))));
            var executor = new MinionExecutor(registry, bus, cache, new RunningJobs(), clock, 10, NullLogger.Instance);
            var jid = SaltApi.Protocol.Jobs.Jid.New();
            var pub = Map(("fun", "test.ping"), ("arg", new List<object?>()), ("tgt", "*"), ("jid", jid), ("ret", ""), ("tgt_type", "glob"), ("user", "saltdev"));
            var job = cache.Save(jid, pub, ["ms--0", "ms--1", "ms--2"]);
            executor.Publish(pub, ["ms--0", "ms--1", "ms--2"], cts.Token);
            for (var i = 0; i < 400 && job.ReturnCount < 3; i++)
            {
                await Task.Delay(50);
            }

            Assert.Equal(["ms--0", "ms--1", "ms--2"], job.Returns.Select(r => r.Id));
            Assert.Equal(1, clock.Pending);
        }
        finally
        {
            await cts.CancelAsync();
            cache.Complete();
            await bus.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_job_waiting_for_its_latency_ends_without_returns_when_the_master_stops()
    {
        var h = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["latency_ms"] = 3_600_000L);
        try
        {
            var reply = (OrderedDictionary<string, object?>)(await h.SendAsync(CapturedRequests.Load("req-publish-publish-eauth")))!;
            var jid = (string)((OrderedDictionary<string, object?>)reply["load"]!)["jid"]!;
            var ctx = h.Master.Context!;
            Assert.Contains(ctx.Running.Snapshot(), s => s.Jid == jid);
            await h.Master.DisposeAsync();
            for (var i = 0; i < 400 && ctx.Running.Snapshot().Any(s => s.Jid == jid); i++)
            {
                await Task.Delay(50);
            }

            Assert.DoesNotContain(ctx.Running.Snapshot(), s => s.Jid == jid);
            Assert.Equal(0, ctx.Jobs.Get(jid)!.ReturnCount);
        }
        finally
        {
            await h.DisposeAsync();
        }
    }
}
