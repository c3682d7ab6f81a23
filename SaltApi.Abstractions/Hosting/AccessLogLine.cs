using System.Globalization;
using System.Net;
using System.Text;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// One access-log line as CherryPy's <c>LogManager.access</c> writes it (<c>cherrypy/_cplogging.py</c>):
/// <c>{h} {l} {u} {t} "{r}" {s} {b} "{f}" "{a}"</c>, with <c>{t}</c> = <c>[01/Dec/2026:17:56:56]</c> in local
/// time without a zone and each atom escaped as CherryPy escapes it. Deliberate difference: no secret is ever
/// written (<see cref="LogSecrets.Target"/>; CherryPy writes the request line as it came: <c>/events?token=…</c>,
/// <c>/ws/&lt;token&gt;</c>).
/// </summary>
internal static class AccessLogLine
{
    /// <summary>Input characters kept of the request line, the Referer and the User-Agent.</summary>
    internal const int MaxAtom = 2048;

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>The line for one request; <paramref name="target"/> is the request target as sent (path and query).</summary>
    public static string Format(IPAddress? client, string method, string target, string protocol, int status, long? bytes, string? referer, string? userAgent, DateTime now)
    {
        var sb = new StringBuilder(256);
        Atom(sb, client is null ? "-" : SaltApi.Abstractions.Access.ClientAddress.Unmapped(client).ToString());
        sb.Append(" - - ").Append(Time(now)).Append(" \"");
        Atom(sb, Bound(method + " " + LogSecrets.Target(target) + " " + protocol));
        sb.Append("\" ").Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ');
        sb.Append(bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-");
        sb.Append(" \"");
        Atom(sb, Bound(LogSecrets.Target(referer ?? "")));
        sb.Append("\" \"");
        Atom(sb, Bound(userAgent ?? ""));
        return sb.Append('"').ToString();
    }

    /// <summary>As CherryPy's <c>LogManager.time</c>: <c>[01/Dec/2026:17:56:56]</c>, local time, no zone.</summary>
    public static string Time(DateTime now) =>
        "[" + now.Day.ToString("00", CultureInfo.InvariantCulture) + "/" + Months[now.Month - 1] + "/" + now.ToString("yyyy:HH:mm:ss", CultureInfo.InvariantCulture) + "]";

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
