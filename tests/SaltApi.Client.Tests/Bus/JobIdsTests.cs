using System.Buffers;
using System.Text;
using SaltApi.Client.Bus;

namespace SaltApi.Client.Tests.Bus;

/// <summary>A lowstate's own jid: well-formed, and not in use as far as the daemon can vouch.</summary>
public sealed class JobIdsTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static string JidAt(DateTimeOffset t, string suffix = "") => t.UtcDateTime.ToString("yyyyMMddHHmmssffffff", System.Globalization.CultureInfo.InvariantCulture) + suffix;

    private static ReadOnlySequence<byte> Tag(string tag) => new(Encoding.UTF8.GetBytes(tag));

    [Theory]
    [InlineData("20261207061500123456", true)]
    [InlineData("20261207061500123456_4242", true)]
    [InlineData("20261207061500123456_abc-DEF_9", true)]
    [InlineData("", false)]
    [InlineData("salt/auth/x", false)]
    [InlineData("2026120706150012345", false)]
    [InlineData("20261207061500123456_", false)]
    [InlineData("20261207061500123456/ret/ms--0", false)]
    [InlineData("20261207061500123456_a/b", false)]
    [InlineData("20261207061500123456 ", false)]
    [InlineData("20261307061500123456", false)] // month 13
    [InlineData("2026120706150012345x", false)]
    [InlineData("+2026120706150012345", false)]
    public void Well_formed_jids(string jid, bool ok) => Assert.Equal(ok, JobIds.WellFormed(jid));

    [Fact]
    public void A_jid_seen_on_the_bus_or_claimed_before_is_in_use()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var jids = new JobIds(clock);
        jids.Reading();
        var announced = JidAt(clock.Now.AddSeconds(1));
        jids.Observe(Tag($"salt/job/{announced}/new"));
        jids.Observe(Tag($"salt/job/{JidAt(clock.Now.AddSeconds(2))}/ret/ms--0")); // only /new announces a job
        Assert.False(jids.TryClaim(announced));
        Assert.True(jids.TryClaim(JidAt(clock.Now.AddSeconds(2))));

        var mine = JidAt(clock.Now.AddSeconds(3));
        Assert.True(jids.TryClaim(mine));
        Assert.False(jids.TryClaim(mine));
        Assert.True(jids.TryClaim(mine + "_1")); // another jid
        var runner = JidAt(clock.Now.AddSeconds(4));
        jids.Observe(Tag($"salt/run/{runner}/new"));
        Assert.False(jids.TryClaim(runner));
    }

    [Fact]
    public void A_jid_a_publish_of_ours_was_answered_with_is_in_use_before_the_bus_tells()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var jids = new JobIds(clock);
        jids.Reading();
        var answered = JidAt(clock.Now.AddSeconds(1));
        jids.Published(answered);
        Assert.False(jids.TryClaim(answered));
        jids.Published(answered + "_7");
        Assert.False(jids.TryClaim(answered + "_7"));
        jids.Published("not-a-jid"); // ignored
        Assert.True(jids.TryClaim(JidAt(clock.Now.AddSeconds(2))));
    }

    [Fact]
    public void A_jid_older_than_what_the_daemon_watched_may_be_in_use_unseen()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var jids = new JobIds(clock);
        jids.Reading();

        // Salt writes jids in the master's local time: 14 hours either way are time zones, not the past.
        Assert.True(jids.TryClaim(JidAt(clock.Now.AddHours(-13))));
        Assert.True(jids.TryClaim(JidAt(clock.Now.AddHours(13))));
        Assert.False(jids.TryClaim(JidAt(clock.Now.AddHours(-15))));

        // After the bus was lost and read again, what was published in between passed unseen.
        clock.Now += TimeSpan.FromHours(20);
        jids.Reading();
        Assert.False(jids.TryClaim(JidAt(clock.Now.AddHours(-15))));
        Assert.True(jids.TryClaim(JidAt(clock.Now)));
    }

    [Fact]
    public void The_table_is_bounded_and_refuses_what_it_has_forgotten()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var jids = new JobIds(clock, capacity: 3);
        jids.Reading();
        var first = JidAt(clock.Now.AddSeconds(1));
        Assert.True(jids.TryClaim(first));
        for (var i = 2; i <= 4; i++)
        {
            jids.Observe(Tag($"salt/job/{JidAt(clock.Now.AddSeconds(i))}/new"));
        }

        // first was forgotten: it, and anything not newer, is refused; a newer jid is free.
        Assert.False(jids.TryClaim(first));
        Assert.False(jids.TryClaim(JidAt(clock.Now.AddSeconds(0.5))));
        Assert.True(jids.TryClaim(JidAt(clock.Now.AddSeconds(5))));
    }
}
