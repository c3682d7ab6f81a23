using SaltApi.Client.Auth;

namespace SaltApi.Client.Tests.Auth;

/// <summary>
/// The client layer's list of revoked tokens (logouts the master could not record) is bounded without ever
/// dropping a live revocation: expired entries make room, and when it is full of live ones the new
/// revocation is refused (the logout says so) instead of being forgotten.
/// </summary>
public sealed class RevokedTokensTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static string T(char c) => new(c, 64);

    [Fact]
    public void A_full_list_refuses_a_new_revocation_and_keeps_every_recorded_one()
    {
        var clock = new Clock();
        var now = clock.Now.ToUnixTimeSeconds();
        var revoked = new RevokedTokens(clock, capacity: 2);
        Assert.True(revoked.Add(T('a'), now + 100));
        Assert.True(revoked.Add(T('b'), now + 10));

        Assert.False(revoked.Add(T('c'), now + 100));
        Assert.True(revoked.Contains(T('a')));
        Assert.True(revoked.Contains(T('b')));
        Assert.False(revoked.Contains(T('c')));

        // A token already listed takes its new expiry even when the list is full.
        Assert.True(revoked.Add(T('a'), now + 200));

        // Once b has expired it makes room (an expired token is refused by the master anyway).
        clock.Now = clock.Now.AddSeconds(20);
        Assert.False(revoked.Contains(T('b')));
        Assert.True(revoked.Add(T('c'), now + 100));
        Assert.True(revoked.Contains(T('a')));
        Assert.True(revoked.Contains(T('c')));

        clock.Now = clock.Now.AddSeconds(100);
        Assert.True(revoked.Contains(T('a')));
        Assert.False(revoked.Contains(T('c')));
    }

    [Fact]
    public void Tokens_are_told_apart_exactly_and_a_removed_or_expired_one_is_no_longer_refused()
    {
        var clock = new Clock();
        var now = clock.Now.ToUnixTimeSeconds();
        var revoked = new RevokedTokens(clock);
        var token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

        Assert.False(revoked.Contains(token));
        Assert.True(revoked.Add(token, now + 100));
        Assert.True(revoked.Contains(token));
        Assert.False(revoked.Contains(token.ToUpperInvariant())); // another name for the master's store
        Assert.False(revoked.Contains(token[..63]));
        Assert.False(revoked.Contains(""));

        revoked.Remove(token);
        Assert.False(revoked.Contains(token));

        // Already expired: nothing to refuse, and nothing kept.
        Assert.True(revoked.Add(token, now - 1));
        Assert.False(revoked.Contains(token));
    }
}
