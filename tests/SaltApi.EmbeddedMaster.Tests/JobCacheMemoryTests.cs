using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SaltApi.EmbeddedMaster.Jobs;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>Runs alone: the heap is measured process-wide.</summary>
[CollectionDefinition(nameof(HeapMeasured), DisableParallelization = true)]
public sealed class HeapMeasured;

/// <summary>The job cache holds up to max_jobs jobs: what each minion return costs it while it is kept.</summary>
[Collection(nameof(HeapMeasured))]
public sealed class JobCacheMemoryTests
{
    private static OrderedDictionary<string, object?> Return(string jid, int minion) => new(StringComparer.Ordinal)
    {
        ["cmd"] = "_return",
        ["id"] = "ms--" + minion,
        ["success"] = true,
        ["return"] = true,
        ["retcode"] = 0L,
        ["jid"] = jid,
        ["fun"] = "test.ping",
        ["fun_args"] = new List<object?>(),
    };

    // The cache counts keep_jobs on this clock: the jids below are kept whatever today's date is.
    internal static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Jids of consecutive microseconds from <paramref name="from"/>, as <c>Jid.New</c> makes them.</summary>
    internal static List<string> Jids(DateTimeOffset from, int count) =>
        Enumerable.Range(0, count).Select(i => from.UtcDateTime.AddTicks(i * 10L).ToString("yyyyMMddHHmmssffffff", System.Globalization.CultureInfo.InvariantCulture)).ToList();

    [Fact]
    public void Returns_read_back_as_they_were_added_in_arrival_order()
    {
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, 100, 1000, false, NullLogger.Instance, new FakeTimeProvider(Noon));
        var jid = Jids(Noon, 1)[0];
        var job = cache.Save(jid, new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["fun"] = "test.ping" }, ["ms--1", "ms--0"]);
        var r1 = Return(jid, 1);
        r1["return"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["bytes"] = new byte[] { 0xff, 0 }, ["n"] = -3L, ["x"] = 1.5, ["s"] = "é", ["none"] = null };
        job.AddReturn("ms--1", r1);
        job.AddReturn("ms--0", Return(jid, 0));

        var got = job.Returns;
        Assert.Equal(["ms--1", "ms--0"], got.Select(r => r.Id));
        Assert.Equal(r1.Keys, got[0].Ret.Keys);
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(got[0].Ret["return"]);
        Assert.Equal(new byte[] { 0xff, 0 }, ret["bytes"]);
        Assert.Equal(-3L, ret["n"]);
        Assert.Equal(1.5, ret["x"]);
        Assert.Equal("é", ret["s"]);
        Assert.Null(ret["none"]);
        Assert.Equal(new List<object?>(), got[1].Ret["fun_args"]);
        Assert.True(job.HasReturn("ms--0"));
        Assert.Equal(2, job.ReturnCount);
    }

    [Fact]
    public void A_kept_test_ping_return_costs_under_400_bytes_of_heap()
    {
        // 2,000 jobs × 5 minions kept in the cache; the heap measured after full collections.
        const int Jobs = 2000;
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, Jobs * 2, 10_000_000, false, NullLogger.Instance, new FakeTimeProvider(Noon.AddMinutes(5)));
        var jids = Jids(Noon, Jobs);
        var minions = new[] { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" };
        foreach (var jid in jids)
        {
            cache.Save(jid, new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["fun"] = "test.ping" }, minions);
        }

        // Every job measured is kept: a cache that dropped them would measure nothing.
        var jobs = jids.Select(jid => cache.Get(jid)).ToList();
        Assert.All(jobs, Assert.NotNull);

        var before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var (jid, job) in jids.Zip(jobs))
        {
            for (var m = 0; m < minions.Length; m++)
            {
                job!.AddReturn(minions[m], Return(jid, m));
            }
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(Jobs * minions.Length, jids.Sum(jid => cache.Get(jid)?.ReturnCount ?? 0));
        var perReturn = (after - before) / (double)(Jobs * minions.Length);
        Assert.True(perReturn < 400, $"{perReturn:0} bytes of heap per kept return");
        GC.KeepAlive(cache);
    }
}
