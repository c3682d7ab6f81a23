using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Client;

namespace SaltApi.NetapiKit.Tokens;

/// <summary>
/// A module's check of a Salt token, as rest_cherrypy's session tool and saltnado's _verify_auth: the token is
/// live when the master's <c>get_token</c> knows it and it has not expired. Sessions without state of our own
/// (design.md "State, restarts"): the session id IS the Salt token. A short, bounded cache of positive lookups
/// spares the master a round trip per request and per streamed batch; expiry is checked on every use, and a
/// token revoked anywhere in the daemon (a logout in any module) is dropped at once (<see cref="TokenCache"/>).
/// </summary>
public sealed class TokenCheck(INetapiClient client, TimeProvider time) : IDisposable
{
    /// <summary>The header that carries a token (Salt's <c>X-Auth-Token</c>).</summary>
    public const string HeaderName = "X-Auth-Token";

    /// <summary>The cookie that carries a token (Salt's <c>session_id</c>).</summary>
    public const string CookieName = "session_id";

    private readonly TokenCache cache = new(client, time);

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => cache.Now;

    /// <summary>Whether the text can be a Salt token (a hex digest, at most 256 digits); anything else never reaches the master.</summary>
    public static bool IsTokenText(string? s) => s is { Length: > 0 and <= 256 } && s.All(char.IsAsciiHexDigit);

    /// <summary>Whether the text is a hex digest of exactly <paramref name="length"/> digits.</summary>
    public static bool IsTokenText(string? s, int length) => s?.Length == length && IsTokenText(s);

    /// <summary>
    /// The request's token: the <c>X-Auth-Token</c> header, else the <c>session_id</c> cookie. With
    /// <paramref name="emptyHeaderIsAbsent"/> (rest_cherrypy's session tool) an empty header is no header and the
    /// header's value is trimmed; without (saltnado's <c>token</c> property) a header sent wins as it is.
    /// </summary>
    public static string? Read(HttpRequest request, bool emptyHeaderIsAbsent)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.TryGetValue(HeaderName, out var header) && (!emptyHeaderIsAbsent || header.ToString().Length > 0))
        {
            return emptyHeaderIsAbsent ? header.ToString().Trim() : header.ToString();
        }

        return request.Cookies.TryGetValue(CookieName, out var cookie) ? cookie : null;
    }

    /// <summary>Whether <see cref="Read"/> takes the token from the cookie (no header that counts was sent).</summary>
    public static bool ReadsCookie(HttpRequest request, bool emptyHeaderIsAbsent)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.TryGetValue(HeaderName, out var h) && (!emptyHeaderIsAbsent || h.ToString().Length > 0);
        return !header && request.Cookies.ContainsKey(CookieName);
    }

    /// <summary>The live token, or null (none, not hex, unknown, expired, revoked).</summary>
    public Task<SaltToken?> ValidateAsync(string? token, CancellationToken cancellationToken) =>
        IsTokenText(token) ? cache.ValidateAsync(token!, cancellationToken) : Task.FromResult<SaltToken?>(null);

    /// <summary>Caches a token just minted by a login.</summary>
    public void Remember(SaltToken token) => cache.Remember(token);

    /// <summary>Drops a token from the cache (at a logout), and keeps lookups under way from caching it.</summary>
    public void Forget(SaltToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        cache.Forget(token.Token);
    }

    /// <inheritdoc/>
    public void Dispose() => cache.Dispose();
}
