using System.Collections.Concurrent;
using SaltApi.Abstractions.Client;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>
/// BaseSaltAPIHandler._verify_auth: the token is live when the master's <c>get_token</c> knows it and it
/// has not expired. A short, bounded cache of positive lookups spares the master a round trip per request
/// and per streamed event; expiry is checked on every use.
/// </summary>
internal sealed class TokenCheck(INetapiClient client, TimeProvider time)
{
    private const int MaxEntries = 10_000;
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, (SaltToken Token, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Whether the text can be a Salt token (hex digest); anything else never reaches the master.</summary>
    public static bool IsTokenText(string? s) => s is { Length: > 0 and <= 256 } && s.All(Uri.IsHexDigit);

    /// <summary>The live token, or null (none, not hex, unknown, expired).</summary>
    public async Task<SaltToken?> ValidateAsync(string? token, CancellationToken cancellationToken)
    {
        if (!IsTokenText(token))
        {
            return null;
        }

        if (cache.TryGetValue(token!, out var hit) && hit.Until > time.GetUtcNow())
        {
            return hit.Token.Expire > Now ? hit.Token : null;
        }

        var found = await client.GetTokenAsync(token!, cancellationToken);
        if (found is null || found.Expire <= Now)
        {
            cache.TryRemove(token!, out _);
            return null;
        }

        Remember(found);
        return found;
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
}
