using Microsoft.AspNetCore.Http;

namespace SaltApi.Abstractions.Access;

/// <summary>
/// Where a browser request comes from, for requests a session cookie authenticates. A browser sends the
/// cookie with a form or <c>text/plain</c> POST from any page of the same site (another port of the same
/// host included: <c>SameSite</c> does not tell ports apart), with a WebSocket upgrade from any page, and,
/// where the API answers CORS with credentials allowed (rest_cherrypy's <c>cors_tool</c> reflects every
/// Origin), with any request of a page's <c>fetch</c>; such a request names its page in <c>Origin</c> (or,
/// from older browsers and navigations, <c>Referer</c>). Requests without either (curl, pepper, SDKs) are
/// never foreign.
/// </summary>
public static class CrossOrigin
{
    /// <summary>
    /// True when the request's <c>Origin</c> (else its <c>Referer</c>) names another origin than the API's own
    /// (its host and port, as Tornado's <c>check_origin</c> compares them) and none of <paramref name="allowed"/>
    /// (<c>cors_origin</c>; <c>*</c> lets no cookie through: with it no browser sends credentials by CORS).
    /// An opaque origin (<c>null</c>) or one that does not parse is foreign.
    /// </summary>
    public static bool IsForeign(HttpRequest request, IReadOnlyList<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(allowed);
        string origin;
        if (request.Headers.Origin.Count > 0)
        {
            origin = request.Headers.Origin.ToString().Trim();
        }
        else if (request.Headers.Referer.Count > 0)
        {
            if (!Uri.TryCreate(request.Headers.Referer.ToString().Trim(), UriKind.Absolute, out var referer))
            {
                return true;
            }

            origin = referer.GetLeftPart(UriPartial.Authority);
        }
        else
        {
            return false;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return true;
        }

        if (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            || string.Equals($"{uri.Host}:{uri.Port}", request.Host.Value, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var entry in allowed)
        {
            if (entry != "*" && Uri.TryCreate(entry.Trim(), UriKind.Absolute, out var listed)
                && string.Equals(OriginText(listed), OriginText(uri), StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a request of this method changes state (anything but GET, HEAD, OPTIONS and TRACE).</summary>
    public static bool IsStateChanging(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    // scheme://host:port with the port written even when it is the scheme's default.
    private static string OriginText(Uri uri) => $"{uri.Scheme}://{uri.Host}:{uri.Port}";
}
