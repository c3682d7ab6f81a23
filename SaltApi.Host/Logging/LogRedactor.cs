using System.Text.RegularExpressions;

namespace SaltApi.Host.Logging;

/// <summary>
/// The last guard before a line is written, at every level: values of URL parameters, cookies and
/// headers that carry a token, session id or password, and the token of <c>/ws/&lt;token&gt;</c>,
/// become <c>***</c>. Modules already keep secrets out of their lines; this catches the lines they do
/// not control (a framework or a third-party module logging a URL or a header).
/// </summary>
internal static partial class LogRedactor
{
    private static readonly string[] Markers = ["token", "session_id", "password", "passwd", "/ws/", "authorization", "cookie"];

    /// <summary>
    /// The message with secret values replaced and line breaks escaped (a tag, a path or a minion id that
    /// carries CR/LF never forges a log line); the same string when there is nothing to change.
    /// </summary>
    public static string Redact(string message) => EscapeBreaks(HideSecrets(message));

    private static string EscapeBreaks(string message)
    {
        if (message.AsSpan().IndexOfAny('\r', '\n') < 0)
        {
            return message;
        }

        return message.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    private static string HideSecrets(string message)
    {
        var hit = false;
        foreach (var marker in Markers)
        {
            if (message.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                hit = true;
                break;
            }
        }

        if (!hit)
        {
            return message;
        }

        try
        {
            message = Parameter().Replace(message, "$1***");
            message = Header().Replace(message, "$1***");
            return WebSocketPath().Replace(message, "$1***");
        }
        catch (RegexMatchTimeoutException)
        {
            return "[a line that could not be checked for secrets was left out]";
        }
    }

    // token=…, salt_token=…, session_id=…, password=… in a query, form or cookie.
    [GeneratedRegex(@"((?:salt_)?token=|session_id=|password=|passwd=)[^&;\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex Parameter();

    // X-Auth-Token: …, Authorization: …, Cookie: … as a header line.
    [GeneratedRegex(@"((?:x-auth-token|authorization|proxy-authorization|cookie)\s*:\s*)[^\r\n]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex Header();

    // /ws/<token>
    [GeneratedRegex(@"(/ws/)[^/?\s""']+", RegexOptions.CultureInvariant, 100)]
    private static partial Regex WebSocketPath();
}
