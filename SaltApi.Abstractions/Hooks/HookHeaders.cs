using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;

namespace SaltApi.Abstractions.Hooks;

/// <summary>
/// The <c>headers</c> map of a <c>/hook</c> event, for every module that serves a webhook. As Salt does
/// (rest_cherrypy Webhook.POST, saltnado's WebhookSaltAPIHandler), every request header is kept, so a
/// reactor can check <c>X-Gitlab-Token</c>, <c>X-My-Secret-Key</c>, <c>Authorization</c> or a body
/// signature. Left out are only this API's own credentials: <c>X-Auth-Token</c> and the <c>session_id</c>
/// cookie (the other cookies stay), with which a reader of the event bus could act as the caller.
/// <c>Remote-Addr</c> is always the client's address (the socket's, or the one a trusted proxy forwarded),
/// as CherryPy sets it; a client-sent <c>Remote-Addr</c> header never replaces it.
/// </summary>
public static class HookHeaders
{
    /// <summary>The API's token header, never copied onto the bus.</summary>
    public const string AuthTokenHeader = "X-Auth-Token";

    /// <summary>The API's session cookie, never copied onto the bus.</summary>
    public const string SessionCookie = "session_id";

    /// <summary>The event's headers: <c>Remote-Addr</c> first, then every request header in its order, names in Title-Case.</summary>
    public static OrderedDictionary<string, object?> Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["Remote-Addr"] = ClientAddress.Of(context) };
        foreach (var (name, value) in context.Request.Headers)
        {
            if (name.Equals(AuthTokenHeader, StringComparison.OrdinalIgnoreCase) || name.Equals("Remote-Addr", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var text = value.ToString();
            if (name.Equals("Cookie", StringComparison.OrdinalIgnoreCase))
            {
                text = WithoutSession(text);
                if (text.Length == 0)
                {
                    continue;
                }
            }

            headers[TitleCase(name)] = text;
        }

        return headers;
    }

    /// <summary>A <c>Cookie</c> header without the <c>session_id</c> pairs; the others as sent.</summary>
    public static string WithoutSession(string cookie)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        if (!cookie.Contains(SessionCookie, StringComparison.OrdinalIgnoreCase))
        {
            return cookie;
        }

        var kept = new List<string>();
        foreach (var pair in cookie.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = (eq < 0 ? pair : pair[..eq]).Trim();
            if (!name.Equals(SessionCookie, StringComparison.OrdinalIgnoreCase))
            {
                kept.Add(pair);
            }
        }

        return string.Join("; ", kept);
    }

    /// <summary>CherryPy's and Tornado's header names: each dash-separated part capitalised.</summary>
    public static string TitleCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return string.Join('-', name.Split('-').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }
}
