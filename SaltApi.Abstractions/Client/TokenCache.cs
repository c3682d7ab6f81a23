using System.Collections.Concurrent;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Client;

/// <summary>
/// A module's short, bounded cache of positive token lookups (the master's <c>get_token</c> through the
/// client layer), which spares the master a round trip per request and per streamed batch. It obeys the
/// daemon's revocation signal (<see cref="INetapiClient.TokenRevoked"/>): a revoked token is dropped at once,
/// and a lookup that overlapped a revocation caches nothing, so a token logged out in any module is refused
/// by every module of the daemon from then on. The expiry is checked on every use. A positive answer in the last
/// quarter of its life is still used, and one lookup (shared by every use) asks again meanwhile: the streams
/// that check one token per batch (1,000 <c>/events</c> readers of one token) do not all stall at once on the
/// master's round trip when the answer lapses. Dispose to stop listening.
/// </summary>
public sealed class TokenCache : IDisposable
{
    /// <summary>How long a positive answer is kept: 10 s.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(10);

    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, (SaltToken Token, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    // The early lookups under way, one per token (bounded by MaxEntries: a token is asked again only while cached).
    private readonly ConcurrentDictionary<string, Task> refreshing = new(StringComparer.Ordinal);
    private readonly Lock revokeGate = new();
    private readonly INetapiClient client;
    private readonly TimeProvider time;
    private readonly TimeSpan lifetime;

    // Bumped by every revocation: a lookup that began before it does not cache its answer.
    private long revocations;

    /// <summary>A cache over <paramref name="client"/>, listening to its revocation signal.</summary>
    public TokenCache(INetapiClient client, TimeProvider time, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(time);
        this.client = client;
        this.time = time;
        this.lifetime = lifetime ?? DefaultLifetime;
        client.TokenRevoked += Forget;
    }

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>The live token, or null (unknown to the master, expired, revoked). Callers check the text's shape first.</summary>
    public async Task<SaltToken?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (cache.TryGetValue(token, out var hit) && hit.Until > time.GetUtcNow())
        {
            if (hit.Token.Expire > Now)
            {
                if (hit.Until - time.GetUtcNow() < lifetime / 4)
                {
                    RefreshEarly(token);
                }

                NetapiMetrics.TokenLookups.Add(1, NetapiMetrics.Module(), new KeyValuePair<string, object?>("result", "hit"));
                return hit.Token;
            }

            cache.TryRemove(token, out _);
            return null;
        }

        NetapiMetrics.TokenLookups.Add(1, NetapiMetrics.Module(), new KeyValuePair<string, object?>("result", "miss"));
        var generation = Interlocked.Read(ref revocations);
        var found = await client.GetTokenAsync(token, cancellationToken).ConfigureAwait(false);
        if (found is null || found.Expire <= Now)
        {
            cache.TryRemove(token, out _);
            return null;
        }

        lock (revokeGate)
        {
            if (revocations == generation)
            {
                Remember(found);
            }
        }

        return found;
    }

    /// <summary>
    /// Asks the master again for a cached token before its answer lapses, once at a time per token; the answer
    /// replaces the cached one (or drops it), under the same revocation rule as a lookup on a miss.
    /// </summary>
    private void RefreshEarly(string token)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (refreshing.ContainsKey(token) || refreshing.Count >= MaxEntries || !refreshing.TryAdd(token, done.Task))
        {
            return;
        }

        var generation = Interlocked.Read(ref revocations);
        _ = Task.Run(RefreshAsync);

        async Task RefreshAsync()
        {
            try
            {
                var found = await client.GetTokenAsync(token, CancellationToken.None).ConfigureAwait(false);
                lock (revokeGate)
                {
                    if (found is null || found.Expire <= Now)
                    {
                        cache.TryRemove(token, out _);
                    }
                    else if (revocations == generation)
                    {
                        Remember(found);
                    }
                }
            }
            catch (Exception)
            {
                // The master did not answer: the cached answer lapses as it would have, and the next use asks again.
            }
            finally
            {
                refreshing.TryRemove(token, out _);
                done.SetResult();
            }
        }
    }

    /// <summary>The early lookup under way for a token, or a completed task (tests).</summary>
    internal Task Refreshing(string token) => refreshing.TryGetValue(token, out var t) ? t : Task.CompletedTask;

    /// <summary>Caches a token just minted by a login.</summary>
    public void Remember(SaltToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (cache.Count >= MaxEntries)
        {
            cache.Clear();
        }

        cache[token.Token] = (token, time.GetUtcNow() + lifetime);
    }

    /// <summary>Drops a token (revoked), and keeps lookups under way from caching their answers.</summary>
    public void Forget(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (revokeGate)
        {
            revocations++;
            cache.TryRemove(token, out _);
        }
    }

    /// <summary>Stops listening to the revocation signal.</summary>
    public void Dispose() => client.TokenRevoked -= Forget;
}
