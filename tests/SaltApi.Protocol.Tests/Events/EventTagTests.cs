using SaltApi.Protocol.Events;

namespace SaltApi.Protocol.Tests.Events;

public class EventTagTests
{
    private const string Jid = "20261126190000000005";

    [Theory]
    [InlineData("salt/job/20261126190000000005/ret/m1", "20261126190000000005")]
    [InlineData("salt/run/20261126190000000005/ret", "20261126190000000005")]
    [InlineData("salt/wheel/20261126190000000005/new", "20261126190000000005")]
    [InlineData("20261126190000000005", "20261126190000000005")]
    [InlineData("salt/job/20261126190000000005_123/ret/m1", "20261126190000000005_123")]
    [InlineData("salt/auth", null)]
    [InlineData("salt/job/error", "error")]
    [InlineData("salt/netapi/hook", null)]
    [InlineData("syndic/syn1/20261126191000000009", "20261126191000000009")]
    [InlineData("syndic/syn1/salt/job/20261126191000000009/ret/m1", "20261126191000000009")]
    [InlineData("syndic/syn1/nojid", null)]
    public void Jid_of_a_tag(string tag, string? jid) => Assert.Equal(jid, EventTag.JidOf(tag));

    [Fact]
    public void Built_tags_are_salts_and_read_back_to_their_jid()
    {
        Assert.Equal("salt/job/20261126190000000005/new", EventTag.JobNew(Jid));
        Assert.Equal("salt/job/20261126190000000005/ret/ms--0", EventTag.JobRet(Jid, "ms--0"));
        Assert.Equal("salt/job/20261126190000000005/error", EventTag.JobError(Jid));
        Assert.Equal("salt/job/error", EventTag.JobError(""));
        Assert.Equal("salt/run/20261126190000000005/ret", EventTag.Ret(EventTag.Run(Jid)));
        Assert.Equal("salt/wheel/20261126190000000005/new", EventTag.New(EventTag.Wheel(Jid)));
        Assert.Equal("salt/runner/20261126190000000005", EventTag.OfClient("runner", Jid));
        Assert.Equal("salt/minion/ms--0/start", EventTag.MinionStart("ms--0"));
        foreach (var tag in new[] { EventTag.JobNew(Jid), EventTag.JobRet(Jid, "m"), EventTag.Ret(EventTag.Run(Jid)), EventTag.New(EventTag.Wheel(Jid)) })
        {
            Assert.Equal(Jid, EventTag.JidOf(tag));
        }
    }

    [Theory]
    [InlineData("syndic/syn1/salt/job/20261126190000000005/ret/m1", true)]
    [InlineData("syndic/syn1/20261126190000000005", true)]
    [InlineData("salt/job/20261126190000000005/ret/m1", false)]
    [InlineData("syndic/syn1/20261126190000000006", false)]
    public void Syndic_events_of_a_job(string tag, bool expected) => Assert.Equal(expected, EventTag.IsSyndicOf(tag, Jid));
}
