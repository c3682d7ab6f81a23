using System.Diagnostics;
using Xunit.Abstractions;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>10,000 simulated minions in one process; presence events. Runs alone: the heap is measured process-wide.</summary>
[Collection(nameof(HeapMeasured))]
public sealed class ScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_minions_answer_one_publish_with_small_memory_per_minion()
    {
        const int N = 10_000;
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await using var h = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["minions"] = (long)N);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var perMinion = (after - before) / (double)N;
        output.WriteLine($"memory for {N} minions (incl. master): {(after - before) / 1024} KiB, {perMinion:F0} bytes per minion");
        Assert.True(perMinion < 4096, $"{perMinion} bytes per minion");

        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        for (var round = 1; round <= 2; round++)
        {
            var watch = Stopwatch.StartNew();
            var load = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["load"]!;
            var published = watch.Elapsed;
            var jid = (string)load["jid"]!;
            Assert.Equal(N, ((List<object?>)load["minions"]!).Count);
            var ids = new HashSet<string>();
            while (ids.Count < N)
            {
                var ev = await bus.NextAsync(t => t.StartsWith($"salt/job/{jid}/ret/", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                ids.Add((string)ev.Data["id"]!);
            }

            output.WriteLine($"round {round}: publish reply after {published.TotalMilliseconds:F0} ms; {N} returns on the bus after {watch.Elapsed.TotalMilliseconds:F0} ms");
        }

        var grainWatch = Stopwatch.StartNew();

        // Targeting a grain over 10,000 minions builds their grains on demand.
        req["tgt"] = "id:ms--99*";
        req["tgt_type"] = "grain";
        var grainLoad = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)(await h.SendAsync(req))!)["load"]!;
        Assert.Equal(111, ((List<object?>)grainLoad["minions"]!).Count); // ms--99, ms--990..999, ms--9900..9999
        output.WriteLine($"grain publish over {N} minions: {grainWatch.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Presence_events_report_present_minions()
    {
        await using var h = await StartAsync(c =>
        {
            c["presence_events"] = true;
            c["loop_interval"] = 0.1;
            ((OrderedDictionary<string, object?>)c["embedded_master"]!)["silent"] = new List<object?> { "ms--2" };
        });
        using var bus = h.Reader();
        var ev = await bus.NextAsync(t => t == "salt/presence/present");
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--3", "ms--4" }, ev.Data["present"]);
    }
}
