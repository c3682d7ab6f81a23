using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The one place tokens, session ids and passwords are taken out of what is logged (as <c>***</c>): by the access
/// and error logs, a module's lines that name a request path, and the daemon's last guard before any line is
/// written. Deliberate difference: Salt's salt-api logs request lines and paths as they came.
/// </summary>
public static partial class LogSecrets
{
    // Salt's tokens are hex digests of 32 or more digits; jids have 20.
    private const int MinTokenHex = 32;

    private static readonly string[] SecretNames = ["token", "session", "password", "passwd", "secret"];

    // A line without one of these (case-insensitive) has nothing the patterns of Text replace.
    private static readonly string[] Markers = ["token", "session_id", "password", "passwd", "/ws/", "/all_events/", "/formatted_events/", "authorization", "cookie"];

    /// <summary>The path segments a token follows: rest_cherrypy's <c>/ws/</c>, rest_tornado's <c>/all_events/</c> and <c>/formatted_events/</c>.</summary>
    private static readonly string[] TokenSegments = ["ws", "all_events", "formatted_events"];

    /// <summary>A request path for a module's own log line: as <see cref="Target"/>, control characters as <c>\xhh</c> (no forged line).</summary>
    public static string Path(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var masked = Target(path);
        var sb = new StringBuilder(masked.Length + 16);
        foreach (var c in masked)
        {
            _ = char.IsControl(c) ? sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)) : sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>
    /// A log line: token, session and password parameters, the <c>X-Auth-Token</c>, <c>Authorization</c> and
    /// <c>Cookie</c> header values and the token after a token segment become <c>***</c>; CR and LF are written
    /// <c>\r</c>, <c>\n</c> (a tag or a minion id never forges a line). The same string when nothing changes.
    /// </summary>
    public static string Line(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Text(message).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>As <see cref="Line"/>, with its line breaks kept (an exception's trace).</summary>
    internal static string Text(string text)
    {
        if (!Markers.Any(m => text.Contains(m, StringComparison.OrdinalIgnoreCase)))
        {
            return text;
        }

        try
        {
            text = Parameter().Replace(text, "$1***");
            text = Header().Replace(text, "$1***");
            return TokenPath().Replace(text, "$1***");
        }
        catch (RegexMatchTimeoutException)
        {
            return "[a line that could not be checked for secrets was left out]";
        }
    }

    /// <summary>
    /// A URL or request target with <c>***</c> for: query and fragment values whose name speaks of a token,
    /// session, password or secret, the segment after one of <see cref="TokenSegments"/>, and any run of
    /// 32 or more hex digits (a token put in the wrong place).
    /// </summary>
    internal static string Target(string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var fragment = hash < 0 ? null : target[(hash + 1)..];
        target = hash < 0 ? target : target[..hash];
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        var sb = new StringBuilder(target.Length + 8);
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('/');
            }

            var secret = i > 0 && segments[i].Length > 0 && TokenSegments.Contains(Decode(segments[i - 1]), StringComparer.OrdinalIgnoreCase);
            sb.Append(secret ? "***" : segments[i]);
        }

        if (query >= 0)
        {
            MaskPairs(sb.Append('?'), target[(query + 1)..]);
        }

        if (fragment is not null)
        {
            // A fragment may carry parameters too (#token=…).
            MaskPairs(sb.Append('#'), fragment);
        }

        return MaskHexRuns(sb.ToString());
    }

    // name=value pairs joined by '&': the value of a name that speaks of a secret becomes ***.
    private static void MaskPairs(StringBuilder sb, string pairs)
    {
        var first = true;
        foreach (var pair in pairs.Split('&'))
        {
            sb.Append(first ? "" : "&");
            first = false;
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? pair : pair[..eq];
            var decoded = Decode(name.Replace('+', ' '));
            sb.Append(eq >= 0 && SecretNames.Any(s => decoded.Contains(s, StringComparison.OrdinalIgnoreCase)) ? name + "=***" : pair);
        }
    }

    // A token anywhere else (a client that put it in the wrong place).
    private static string MaskHexRuns(string text)
    {
        var sb = new StringBuilder(text.Length);
        var run = 0;
        foreach (var c in text)
        {
            run = char.IsAsciiHexDigit(c) ? run + 1 : 0;
            if (run < MinTokenHex)
            {
                sb.Append(c);
            }
            else if (run == MinTokenHex)
            {
                sb.Length -= MinTokenHex - 1;
                sb.Append("***");
            }
        }

        return sb.ToString();
    }

    private static string Decode(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    // token=…, salt_token=…, session_id=…, password=… in a query, form or cookie.
    [GeneratedRegex(@"((?:salt_)?token=|session_id=|password=|passwd=)[^&;\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex Parameter();

    // X-Auth-Token: …, Authorization: …, Cookie: … as a header line.
    [GeneratedRegex(@"((?:x-auth-token|authorization|proxy-authorization|cookie)\s*:\s*)[^\r\n]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex Header();

    // /ws/<token>, /all_events/<token>, /formatted_events/<token>
    [GeneratedRegex(@"(/(?:ws|all_events|formatted_events)/)[^/?\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex TokenPath();
}
