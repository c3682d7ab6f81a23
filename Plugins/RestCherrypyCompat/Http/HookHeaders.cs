namespace SaltApi.Plugins.RestCherrypyCompat.Http;

/// <summary>Which request headers a <c>/hook</c> event may carry onto the event bus.</summary>
internal static class HookHeaders
{
    // The headers that carry credentials by the HTTP standards and by salt-api itself.
    private static readonly HashSet<string> Credentials = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Cookie2",
        "X-Auth-Token",
        "Remote-Addr",
    };

    /// <summary>
    /// True for a header left out of the event: the credential headers above, and any header whose name
    /// says it carries a secret (<c>token</c>, <c>auth</c>, <c>session</c>, <c>password</c>, <c>secret</c>,
    /// <c>api-key</c>/<c>apikey</c>, <c>cookie</c> anywhere in it, e.g. <c>X-Gitlab-Token</c>). A body
    /// signature (<c>X-Hub-Signature-256</c>) is kept: it proves one body and opens nothing, and reactors
    /// check it. <c>Remote-Addr</c> is set from the socket instead.
    /// </summary>
    public static bool IsCredential(string name)
    {
        if (Credentials.Contains(name))
        {
            return true;
        }

        foreach (var word in SecretWords)
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly string[] SecretWords = ["token", "auth", "session", "password", "secret", "api-key", "apikey", "cookie"];

    /// <summary>CherryPy's header names: each dash-separated part capitalised.</summary>
    public static string TitleCase(string name) =>
        string.Join('-', name.Split('-').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
}
