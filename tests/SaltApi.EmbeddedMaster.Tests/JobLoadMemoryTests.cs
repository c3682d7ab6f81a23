using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SaltApi.EmbeddedMaster.Jobs;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The job cache holds up to max_jobs jobs: what each job's saved load costs it while it is kept.</summary>
[Collection(nameof(HeapMeasured))]
public sealed class JobLoadMemoryTests
{
    // A publish load as the master saves it (credentials scrubbed); every string fresh, as a request's decoder makes them.
    private static OrderedDictionary<string, object?> Load(string jid) => new(StringComparer.Ordinal)
    {
        [new string("tgt_type")] = new string("glob"),
        [new string("jid")] = new string(jid),
        [new string("cmd")] = new string("publish"),
        [new string("tgt")] = new string("ms--0"),
        [new string("kwargs")] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            [new string("delimiter")] = new string(":"),
            [new string("show_timeout")] = true,
            [new string("show_jid")] = false,
        },
        [new string("ret")] = new string(""),
        [new string("user")] = new string("saltdev"),
        [new string("arg")] = new List<object?>(),
        [new string("fun")] = new string("test.ping"),
        [new string("eauth")] = new string("file"),
    };

    [Fact]
    public void A_saved_load_reads_back_as_it_was_saved_and_each_read_is_a_fresh_copy()
    {
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, 100, 1000, false, NullLogger.Instance, new FakeTimeProvider(JobCacheMemoryTests.Noon));
        var jid = JobCacheMemoryTests.Jids(JobCacheMemoryTests.Noon, 1)[0];
        var load = Load(jid);
        load["arg"] = new List<object?> { 1L, 2.5, "é", new byte[] { 0xff }, null };
        var job = cache.Save(jid, load, ["ms--0"]);

        var got = job.Load;
        Assert.Equal(load.Keys, got.Keys);
        Assert.Equal(new List<object?> { 1L, 2.5, "é", new byte[] { 0xff }, null }, got["arg"]);
        Assert.Equal(true, Assert.IsType<OrderedDictionary<string, object?>>(got["kwargs"])["show_timeout"]);
        Assert.Equal(["ms--0"], job.Minions);

        // Neither the caller's map nor a reader's copy changes what the cache keeps.
        load["fun"] = "changed";
        got["tgt"] = "changed";
        Assert.Equal("test.ping", job.Load["fun"]);
        Assert.Equal("ms--0", job.Load["tgt"]);
    }

    [Fact]
    public void A_kept_job_with_its_load_costs_under_700_bytes_of_heap()
    {
        // 2,000 jobs kept in the cache; the heap measured after full collections. As a value tree a load took ~1,850 bytes, packed ~440.
        const int Jobs = 2000;
        var jids = JobCacheMemoryTests.Jids(JobCacheMemoryTests.Noon, Jobs);
        var minions = new List<string> { "ms--0" };
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, Jobs * 2, 10_000_000, false, NullLogger.Instance, new FakeTimeProvider(JobCacheMemoryTests.Noon.AddMinutes(5)));
        var before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var jid in jids)
        {
            cache.Save(jid, Load(jid), minions);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        // Every job measured is kept: a cache that dropped them would measure nothing.
        Assert.All(jids, jid => Assert.NotNull(cache.Get(jid)));
        var perJob = (after - before) / (double)Jobs;
        Assert.True(perJob < 700, $"{perJob:0} bytes of heap per kept job");
        GC.KeepAlive(cache);
    }
}
