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
/// A short, bounded cache of positive lookups spares the master a round trip per request; it obeys the
/// daemon's revocation signal (<see cref="TokenCache"/>).
/// </summary>
internal sealed class SessionValidator(INetapiClient client, TimeProvider time) : IDisposable
{
    private readonly TokenCache cache = new(client, time);

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => cache.Now;

    /// <summary>The live token for a session id, or null (unknown, expired, logged out, not hex).</summary>
    public Task<SaltToken?> ValidateAsync(string? id, CancellationToken cancellationToken) =>
        Lowstate.IsSessionId(id) ? cache.ValidateAsync(id!, cancellationToken) : Task.FromResult<SaltToken?>(null);

    /// <summary>Caches a token just minted by <c>/login</c>.</summary>
    public void Remember(SaltToken token) => cache.Remember(token);

    /// <summary>Drops a token from the cache of positive lookups (at <c>/logout</c>), and keeps lookups under way from caching.</summary>
    public void Forget(SaltToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        cache.Forget(token.Token);
    }

    /// <inheritdoc/>
    public void Dispose() => cache.Dispose();
}
