using System.Collections.Concurrent;
using SaltApi.Abstractions.Client;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.Plugins.RestCherrypyCompat.Sessions;

/// <summary>
/// Sessions without state of our own (design.md "State, restarts"): the session id IS the Salt
/// token, validated with the master's <c>get_token</c>, so a session survives a restart of the
/// daemon, works behind a load balancer, and ends when the token expires or <c>/logout</c> deletes it on
/// the master (only when the master cannot delete it does this daemon refuse it itself: <see cref="Revoke"/>).
/// Deliberate difference: Salt hands out a 40-hex CherryPy session id kept in process memory
/// (lost on restart, outliving or undercutting token_expire: Salt issues #42622, #49993).
/// A short, bounded cache of positive lookups spares the master a round trip per request.
/// </summary>
internal sealed class SessionValidator(INetapiClient client, TimeProvider time)
{
    private const int MaxEntries = 10_000;

    /// <summary>Revoked tokens kept in process (logouts the master could not record).</summary>
    internal int MaxRevoked { get; init; } = 10_000;
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (SaltToken Token, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> revoked = new(StringComparer.Ordinal);
    private readonly Lock revokeGate = new();

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>The live token for a session id, or null (unknown, expired, logged out, not hex).</summary>
    public async Task<SaltToken?> ValidateAsync(string? id, CancellationToken cancellationToken)
    {
        if (!Lowstate.IsSessionId(id))
        {
            return null;
        }

        var now = Now;
        if (revoked.TryGetValue(id!, out var until))
        {
            if (until > now)
            {
                return null;
            }

            revoked.TryRemove(id!, out _);
        }

        if (cache.TryGetValue(id!, out var hit) && hit.Until > time.GetUtcNow())
        {
            if (hit.Token.Expire > now)
            {
                return hit.Token;
            }

            cache.TryRemove(id!, out _);
            return null;
        }

        var token = await client.GetTokenAsync(id!, cancellationToken);
        if (token is null || token.Expire <= now)
        {
            cache.TryRemove(id!, out _);
            return null;
        }

        Remember(token);
        return token;
    }

    /// <summary>Caches a token just minted by <c>/login</c>.</summary>
    public void Remember(SaltToken token)
    {
        if (cache.Count >= MaxEntries)
        {
            cache.Clear();
        }

        cache[token.Token] = (token, time.GetUtcNow() + CacheFor);
    }

    /// <summary>Drops a token from the cache of positive lookups (at <c>/logout</c>).</summary>
    public void Forget(SaltToken token) => cache.TryRemove(token.Token, out _);

    /// <summary>Whether this daemon refuses the token because a logout could not delete it on the master.</summary>
    public bool IsRevoked(string token) => revoked.TryGetValue(token, out var until) && until > Now;

    /// <summary>
    /// <c>/logout</c> when the master kept the token (its store cannot be reached and the user may not run
    /// <c>auth.del_token</c>): this daemon refuses it until it expires. The list is bounded without dropping a
    /// revocation: expired entries are evicted, and when it is still full the revocation is refused (false),
    /// so the caller can say so instead of pretending the token is gone.
    /// </summary>
    public bool Revoke(SaltToken token)
    {
        Forget(token);
        var now = Now;
        if (token.Expire <= now)
        {
            return true;
        }

        lock (revokeGate)
        {
            if (revoked.Count >= MaxRevoked)
            {
                foreach (var (k, v) in revoked)
                {
                    if (v <= now)
                    {
                        revoked.TryRemove(k, out _);
                    }
                }
            }

            if (revoked.Count >= MaxRevoked)
            {
                return false;
            }

            revoked[token.Token] = token.Expire;
            return true;
        }
    }
}
