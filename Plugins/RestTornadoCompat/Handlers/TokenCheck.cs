using SaltApi.Abstractions.Client;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>
/// BaseSaltAPIHandler._verify_auth: the token is live when the master's <c>get_token</c> knows it and it
/// has not expired. A short, bounded cache of positive lookups spares the master a round trip per request
/// and per streamed batch; expiry is checked on every use, and a token revoked anywhere in the daemon (a
/// logout on rest_cherrypy) is dropped at once (<see cref="TokenCache"/>).
/// </summary>
internal sealed class TokenCheck(INetapiClient client, TimeProvider time) : IDisposable
{
    private readonly TokenCache cache = new(client, time);

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => cache.Now;

    /// <summary>Whether the text can be a Salt token (hex digest); anything else never reaches the master.</summary>
    public static bool IsTokenText(string? s) => s is { Length: > 0 and <= 256 } && s.All(Uri.IsHexDigit);

    /// <summary>The live token, or null (none, not hex, unknown, expired, revoked).</summary>
    public Task<SaltToken?> ValidateAsync(string? token, CancellationToken cancellationToken) =>
        IsTokenText(token) ? cache.ValidateAsync(token!, cancellationToken) : Task.FromResult<SaltToken?>(null);

    /// <summary>Caches a token just minted by <c>/login</c>.</summary>
    public void Remember(SaltToken token) => cache.Remember(token);

    /// <inheritdoc/>
    public void Dispose() => cache.Dispose();
}
