using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>event_processor.SaltInfo: the live view of jobs and minions behind /formatted_events.</summary>
public sealed class SaltInfoTests
{
    private static OrderedDictionary<string, object?> M(params (string K, object? V)[] kv) => ScriptedClient.M(kv);

    private static List<object?> L(params object?[] items) => [.. items];

    [Fact]
    public void Key_events_add_and_remove_minions()
    {
        var info = new SaltInfo(SaltInfoFlavor.RestTornado);
        Assert.Equal(["{\"minions\": {\"ms--1\": {\"id\": \"ms--1\"}}}\n\n"], info.Process(new SaltEvent("salt/key", M(("act", "accept"), ("id", "ms--1"), ("result", true)))));
        Assert.Equal(["{\"minions\": {}}\n\n"], info.Process(new SaltEvent("salt/key", M(("act", "delete"), ("id", "ms--1")))));
    }

    [Fact]
    public void Presence_drops_the_lost_and_asks_the_new_for_their_grains()
    {
        var info = new SaltInfo(SaltInfoFlavor.RestTornado);
        info.Process(new SaltEvent("salt/presence/present", M(("present", L("ms--0", "ms--1")))));
        Assert.Equal("ms--0,ms--1", info.GrainsTarget);

        Assert.Equal(["{\"minions\": {\"ms--1\": {\"id\": \"ms--1\"}}}\n\n"], info.Process(new SaltEvent("salt/presence/change", M(("lost", L("ms--0")), ("new", L())))));
        Assert.Null(info.GrainsTarget);

        // Nothing changed: no message.
        Assert.Empty(info.Process(new SaltEvent("salt/presence/present", M(("present", L("ms--1"))))));
    }

    [Fact]
    public void Events_missing_fields_or_of_other_shapes_do_not_end_the_view()
    {
        var info = new SaltInfo(SaltInfoFlavor.RestTornado);
        Assert.Single(info.Process(new SaltEvent("salt/job/1/new", M())));
        Assert.Single(info.Process(new SaltEvent("salt/job/1/ret/ms--0", M())));
        Assert.Empty(info.Process(new SaltEvent("salt/job/1/ret/ms--0/extra", M(("return", true)))));
        Assert.Empty(info.Process(new SaltEvent("salt", M())));
        Assert.Empty(info.Process(new SaltEvent("salt/auth", M(("act", "pend")))));
        Assert.Single(info.Process(new SaltEvent("salt/key", M())));
    }

    [Fact]
    public void The_view_keeps_at_most_max_jobs_dropping_the_oldest()
    {
        var info = new SaltInfo(SaltInfoFlavor.RestTornado);
        string last = "";
        for (var i = 0; i <= SaltInfo.MaxJobs; i++)
        {
            last = info.Process(new SaltEvent($"salt/job/{i}/new", M(("jid", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("minions", L("ms--0")))))[0];
        }

        Assert.DoesNotContain("\"0\": {", last, StringComparison.Ordinal);
        Assert.Contains($"\"{SaltInfo.MaxJobs}\": {{", last, StringComparison.Ordinal);
        Assert.Contains("\"1\": {", last, StringComparison.Ordinal);
    }
}
