using SaltApi.Abstractions.Client;
using SaltApi.Plugins.RestCherrypyCompat.Sessions;
using SaltApi.RestCherrypyCompat.Tests.Module;

namespace SaltApi.RestCherrypyCompat.Tests.Sessions;

/// <summary>
/// The in-process list of revoked tokens (logouts the master could not record) is bounded without ever
/// dropping a live revocation: expired entries make room, and when it is full of live ones the new
/// revocation is refused (the logout says so) instead of being forgotten.
/// </summary>
public sealed class RevokedListTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static SaltToken Token(char c, double expire) => new(new string(c, 64), "saltdev", "file", 0, expire, null);

    [Fact]
    public void A_full_list_refuses_a_new_revocation_and_keeps_every_recorded_one()
    {
        var clock = new Clock();
        var now = clock.Now.ToUnixTimeSeconds();
        var sessions = new SessionValidator(new ScriptedClient(), clock) { MaxRevoked = 2 };
        Assert.True(sessions.Revoke(Token('a', now + 100)));
        Assert.True(sessions.Revoke(Token('b', now + 10)));

        Assert.False(sessions.Revoke(Token('c', now + 100)));
        Assert.True(sessions.IsRevoked(new string('a', 64)));
        Assert.True(sessions.IsRevoked(new string('b', 64)));
        Assert.False(sessions.IsRevoked(new string('c', 64)));

        // Once b has expired it makes room (an expired token is refused by the master anyway).
        clock.Now = clock.Now.AddSeconds(20);
        Assert.True(sessions.Revoke(Token('c', now + 100)));
        Assert.True(sessions.IsRevoked(new string('a', 64)));
        Assert.True(sessions.IsRevoked(new string('c', 64)));
    }
}
