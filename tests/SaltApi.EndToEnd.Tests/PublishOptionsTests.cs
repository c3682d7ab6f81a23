using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// The master options LocalClient applies before it publishes, through rest_wsgi and the real daemon:
/// nodegroups (expanded by the client: the embedded master, like a real one, does not), ext_job_cache.
/// </summary>
public sealed class PublishOptionsTests(PublishOptionsTests.Fixture fixture) : IClassFixture<PublishOptionsTests.Fixture>
{
    /// <summary>A daemon with nodegroups, ext_job_cache and the job cache on disk.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private Daemon? daemon;

        public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

        public async Task InitializeAsync() => daemon = await Daemon.StartAsync(
            """
            nodegroups:
              webs: 'L@ms--0,ms--1'
              dbs:
                - ms--3
                - ms--4
              both: 'N@webs or N@dbs'
            ext_job_cache: redis
            """,
            configure: dir =>
            {
                // A second embedded_master block replaces the first (master.d is a shallow update).
                Directory.CreateDirectory(Path.Combine(dir, "master.d"));
                File.WriteAllText(Path.Combine(dir, "master.d", "jobs.conf"), "embedded_master:\n  minions: 5\n  write_job_cache: true\n");
            });

        public async Task DisposeAsync()
        {
            if (daemon is not null)
            {
                await daemon.DisposeAsync();
            }
        }
    }

    private Daemon D => fixture.Daemon;

    internal static async Task<(HttpStatusCode Status, string Body)> PostAsync(Daemon d, string lowstate)
    {
        using var content = new StringContent($$"""[{"eauth": "file", "username": "saltdev", "password": "{{Daemon.Password}}", {{lowstate}}}]""", Encoding.UTF8, "application/json");
        using var response = await d.Http.PostAsync(d.Wsgi, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> ReturnAsync(string lowstate)
    {
        var (status, body) = await PostAsync(D, lowstate);
        Assert.True(status == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return").Clone();
    }

    private static string[] Names(JsonElement map) => map.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Local_reaches_a_nodegroups_minions()
    {
        var ret = Assert.Single((await ReturnAsync("\"client\": \"local\", \"tgt\": \"both\", \"tgt_type\": \"nodegroup\", \"fun\": \"test.ping\"")).EnumerateArray());
        Assert.Equal(["ms--0", "ms--1", "ms--3", "ms--4"], Names(ret));
        Assert.All(ret.EnumerateObject(), p => Assert.Equal(JsonValueKind.True, p.Value.ValueKind));
    }

    [Fact]
    public async Task Local_async_lists_a_nodegroups_minions()
    {
        var ret = Assert.Single((await ReturnAsync("\"client\": \"local_async\", \"tgt\": \"dbs\", \"tgt_type\": \"nodegroup\", \"fun\": \"test.ping\"")).EnumerateArray());
        Assert.Equal(["ms--3", "ms--4"], ret.GetProperty("minions").EnumerateArray().Select(m => m.GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Compound_targets_with_nodegroups_reach_their_minions()
    {
        var ret = Assert.Single((await ReturnAsync("\"client\": \"local\", \"tgt\": \"N@webs and not ms--1 or N@dbs\", \"tgt_type\": \"compound\", \"fun\": \"test.ping\"")).EnumerateArray());
        Assert.Equal(["ms--0", "ms--3", "ms--4"], Names(ret));
    }

    [Fact]
    public async Task Local_batch_and_local_subset_run_on_a_nodegroup()
    {
        var batch = await ReturnAsync("\"client\": \"local_batch\", \"tgt\": \"webs\", \"tgt_type\": \"nodegroup\", \"fun\": \"test.ping\", \"batch\": \"1\"");
        Assert.Equal(["ms--0", "ms--1"], batch.EnumerateArray().SelectMany(Names).Order(StringComparer.Ordinal));

        var subset = Assert.Single((await ReturnAsync("\"client\": \"local_subset\", \"tgt\": \"dbs\", \"tgt_type\": \"nodegroup\", \"fun\": \"test.ping\", \"subset\": 1")).EnumerateArray());
        Assert.Contains(Assert.Single(Names(subset)), new[] { "ms--3", "ms--4" });
    }

    [Fact]
    public async Task An_unknown_nodegroup_is_a_400()
    {
        foreach (var low in new[] { "\"tgt\": \"nosuch\", \"tgt_type\": \"nodegroup\"", "\"tgt\": \"ms--0 or N@nosuch\", \"tgt_type\": \"compound\"" })
        {
            var (status, body) = await PostAsync(D, $"\"client\": \"local\", \"fun\": \"test.ping\", {low}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("Node group nosuch unavailable in ", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Ext_job_cache_is_in_the_published_load()
    {
        var ret = Assert.Single((await ReturnAsync("\"client\": \"local_async\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"ret\": \"mysql\"")).EnumerateArray());
        var jid = ret.GetProperty("jid").GetString()!;

        // The master's job cache keeps the load it received: {..., "ret": "mysql,redis", ...} in msgpack.
        byte[] expected = [0xa3, .. "ret"u8, 0xab, .. "mysql,redis"u8];
        var jobs = Path.Combine(D.CacheDir, "jobs");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var load = Directory.Exists(jobs)
                ? Directory.EnumerateFiles(jobs, "jid", SearchOption.AllDirectories)
                    .Where(f => File.ReadAllText(f) == jid)
                    .Select(f => Path.Combine(Path.GetDirectoryName(f)!, ".load.p"))
                    .FirstOrDefault(File.Exists)
                : null;
            if (load is not null)
            {
                Assert.True(File.ReadAllBytes(load).AsSpan().IndexOf(expected) >= 0, Convert.ToHexString(File.ReadAllBytes(load)));
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "the job's load was not written");
            await Task.Delay(50);
        }
    }
}

/// <summary>A master of masters: LocalClient waits <c>syndic_wait</c> for syndics before a sync call returns.</summary>
public sealed class SyndicWaitTests
{
    [Fact]
    public async Task A_sync_call_on_a_master_of_masters_waits_syndic_wait()
    {
        await using var d = await Daemon.StartAsync("order_masters: true\nsyndic_wait: 2\n");

        // Warm up the daemon's sockets so that the measured call is only the wait.
        await PublishOptionsTests.PostAsync(d, "\"client\": \"local_async\", \"tgt\": \"*\", \"fun\": \"test.ping\"");
        var watch = Stopwatch.StartNew();
        var (status, body) = await PublishOptionsTests.PostAsync(d, "\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"");
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray());
        Assert.Equal(5, ret.EnumerateObject().Count(p => p.Value.ValueKind == JsonValueKind.True));
        // Every minion answers within milliseconds; the call still waits for syndics' minion lists.
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(8));
    }
}
