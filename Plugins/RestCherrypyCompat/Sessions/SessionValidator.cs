using System.Collections.Concurrent;
using SaltApi.Abstractions.Client;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.Plugins.RestCherrypyCompat.Sessions;

/// <summary>
/// Sessions without state of our own (design.md "State, restarts"): the session id IS the Salt
/// token, validated with the master's <c>get_token</c>, so a session survives a restart of the
/// daemon, works behind a load balancer, and ends when the token expires or <c>/logout</c> deletes it on
/// the master (only when the master keeps it does this daemon refuse it itself, in the client layer, for every
/// module: <see cref="INetapiClient.RemoveTokenAsync"/>).
/// Deliberate difference: Salt hands out a 40-hex CherryPy session id kept in process memory
/// (lost on restart, outliving or undercutting token_expire: Salt issues #42622, #49993).
/// A short, bounded cache of positive lookups spares the master a round trip per request.
/// </summary>
internal sealed class SessionValidator(INetapiClient client, TimeProvider time)
{
    private const int MaxEntries = 10_000;
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (SaltToken Token, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);
    private readonly Lock forgetGate = new();

    // Bumped by every Forget: a lookup that began before it does not cache its answer, so a lookup that
    // overlapped a logout cannot keep the logged-out token alive here.
    private long forgotten;

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
        if (cache.TryGetValue(id!, out var hit) && hit.Until > time.GetUtcNow())
        {
            if (hit.Token.Expire > now)
            {
                return hit.Token;
            }

            cache.TryRemove(id!, out _);
            return null;
        }

        var generation = Interlocked.Read(ref forgotten);
        var token = await client.GetTokenAsync(id!, cancellationToken);
        if (token is null || token.Expire <= now)
        {
            cache.TryRemove(id!, out _);
            return null;
        }

        lock (forgetGate)
        {
            if (forgotten == generation)
            {
                Remember(token);
            }
        }

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

    /// <summary>Drops a token from the cache of positive lookups (at <c>/logout</c>), and keeps lookups under way from caching.</summary>
    public void Forget(SaltToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (forgetGate)
        {
            forgotten++;
            cache.TryRemove(token.Token, out _);
        }
    }
}
