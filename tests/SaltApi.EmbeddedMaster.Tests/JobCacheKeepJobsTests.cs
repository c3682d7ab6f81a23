using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SaltApi.EmbeddedMaster.Jobs;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary><c>keep_jobs</c> counted on the cache's clock, as Salt's clean_old_jobs counts it on the master's.</summary>
public sealed class JobCacheKeepJobsTests
{
    private static OrderedDictionary<string, object?> Load() => new(StringComparer.Ordinal) { ["fun"] = "test.ping" };

    [Fact]
    public void A_job_is_kept_for_keep_jobs_hours_and_dropped_at_the_first_save_after()
    {
        var clock = new FakeTimeProvider(JobCacheMemoryTests.Noon);
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, 100, 1000, false, NullLogger.Instance, clock);
        var jids = new List<string>();
        string SaveNow()
        {
            var jid = JobCacheMemoryTests.Jids(clock.GetUtcNow(), 1)[0];
            cache.Save(jid, Load(), ["ms--0"]);
            jids.Add(jid);
            return jid;
        }

        SaveNow();
        clock.Advance(TimeSpan.FromHours(23.9));
        SaveNow();
        Assert.NotNull(cache.Get(jids[0]));

        clock.Advance(TimeSpan.FromHours(0.2));
        SaveNow();
        Assert.Null(cache.Get(jids[0]));
        Assert.NotNull(cache.Get(jids[1]));
        Assert.NotNull(cache.Get(jids[2]));
    }

    [Fact]
    public void A_jid_that_names_no_time_ages_from_when_it_was_saved()
    {
        var clock = new FakeTimeProvider(JobCacheMemoryTests.Noon);
        var cache = new JobCache(Path.GetTempPath(), "sha256", 1, 100, 1000, false, NullLogger.Instance, clock);
        var job = cache.Save("my-custom-jid", Load(), ["ms--0"]);
        Assert.Equal(JobCacheMemoryTests.Noon.UtcDateTime, job.Started);

        clock.Advance(TimeSpan.FromMinutes(59));
        cache.Save(JobCacheMemoryTests.Jids(clock.GetUtcNow(), 1)[0], Load(), ["ms--0"]);
        Assert.NotNull(cache.Get("my-custom-jid"));

        clock.Advance(TimeSpan.FromMinutes(2));
        cache.Save(JobCacheMemoryTests.Jids(clock.GetUtcNow(), 1)[0], Load(), ["ms--0"]);
        Assert.Null(cache.Get("my-custom-jid"));
    }

    [Fact]
    public void Jobs_of_a_year_that_just_ended_are_kept_across_new_year()
    {
        var eve = new DateTimeOffset(2027, 12, 31, 23, 59, 58, TimeSpan.Zero);
        var clock = new FakeTimeProvider(eve);
        var cache = new JobCache(Path.GetTempPath(), "sha256", 24, 100, 1000, false, NullLogger.Instance, clock);
        var old = JobCacheMemoryTests.Jids(eve, 1)[0];
        Assert.StartsWith("20271231235958", old, StringComparison.Ordinal);
        cache.Save(old, Load(), ["ms--0"]);

        clock.Advance(TimeSpan.FromSeconds(4));
        var next = JobCacheMemoryTests.Jids(clock.GetUtcNow(), 1)[0];
        Assert.StartsWith("20280101000002", next, StringComparison.Ordinal);
        cache.Save(next, Load(), ["ms--0"]);
        Assert.NotNull(cache.Get(old));
        Assert.NotNull(cache.Get(next));
    }
}
