using System.Globalization;
using System.Net;
using System.Text;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// One access-log line as CherryPy's <c>LogManager.access</c> writes it (<c>cherrypy/_cplogging.py</c>):
/// <c>{h} {l} {u} {t} "{r}" {s} {b} "{f}" "{a}"</c>, with <c>{t}</c> = <c>[01/Dec/2026:17:56:56]</c> in local
/// time without a zone and each atom escaped as CherryPy escapes it. Deliberate difference: no secret is ever
/// written. Query values whose name speaks of a token, session, password or secret, the segment after
/// <c>/ws/</c> (and the other token paths given), and any run of 32 or more hex digits become <c>***</c>
/// (CherryPy writes the request line as it came: <c>/events?token=…</c>, <c>/ws/&lt;token&gt;</c>).
/// </summary>
internal static class AccessLogLine
{
    /// <summary>Input characters kept of the request line, the Referer and the User-Agent.</summary>
    internal const int MaxAtom = 2048;

    private const int MinTokenHex = 32;

    private static readonly string[] SecretNames = ["token", "session", "password", "passwd", "secret"];

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>The line for one request; <paramref name="target"/> is the request target as sent (path and query).</summary>
    public static string Format(IPAddress? client, string method, string target, string protocol, int status, long? bytes, string? referer, string? userAgent, DateTime now, IReadOnlyCollection<string> tokenSegments)
    {
        var sb = new StringBuilder(256);
        Atom(sb, client is null ? "-" : (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString());
        sb.Append(" - - ").Append(Time(now)).Append(" \"");
        Atom(sb, Bound(method + " " + Mask(target, tokenSegments) + " " + protocol));
        sb.Append("\" ").Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ');
        sb.Append(bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-");
        sb.Append(" \"");
        Atom(sb, Bound(Mask(referer ?? "", tokenSegments)));
        sb.Append("\" \"");
        Atom(sb, Bound(userAgent ?? ""));
        return sb.Append('"').ToString();
    }

    /// <summary>As CherryPy's <c>LogManager.time</c>: <c>[01/Dec/2026:17:56:56]</c>, local time, no zone.</summary>
    public static string Time(DateTime now) =>
        "[" + now.Day.ToString("00", CultureInfo.InvariantCulture) + "/" + Months[now.Month - 1] + "/" + now.ToString("yyyy:HH:mm:ss", CultureInfo.InvariantCulture) + "]";

    /// <summary>A URL or request target with every secret replaced by <c>***</c>.</summary>
    public static string Mask(string target, IReadOnlyCollection<string> tokenSegments)
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

            var secret = i > 0 && segments[i].Length > 0 && tokenSegments.Contains(Decode(segments[i - 1]), StringComparer.OrdinalIgnoreCase);
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

    // A token anywhere else (a client that put it in the wrong place): Salt's tokens are hex digests of
    // 32 or more digits; jids have 20.
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

    private static string Bound(string text) => text.Length <= MaxAtom ? text : text[..MaxAtom] + "...";

    // As CherryPy on Python 3: '"' becomes \", then the UTF-8 bytes as repr(bytes) shows them without its
    // quotes (\t \n \r, \xhh for other control and non-ASCII bytes; ' escaped when " is also present),
    // with repr's doubled backslashes halved again.
    private static void Atom(StringBuilder sb, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var both = value.Contains('"', StringComparison.Ordinal) && value.Contains('\'', StringComparison.Ordinal);
        foreach (var b in bytes)
        {
            switch (b)
            {
                case (byte)'"':
                    sb.Append("\\\"");
                    break;
                case (byte)'\'' when both:
                    sb.Append("\\'");
                    break;
                case (byte)'\t':
                    sb.Append("\\t");
                    break;
                case (byte)'\n':
                    sb.Append("\\n");
                    break;
                case (byte)'\r':
                    sb.Append("\\r");
                    break;
                case < 0x20 or >= 0x7f:
                    sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append((char)b);
                    break;
            }
        }
    }
}
