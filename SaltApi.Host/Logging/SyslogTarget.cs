using System.Globalization;

namespace SaltApi.Host.Logging;

/// <summary>How a syslog target is reached.</summary>
internal enum SyslogTransport
{
    /// <summary>Datagrams to host:port (<c>udp://</c>).</summary>
    Udp,

    /// <summary>A stream to host:port (<c>tcp://</c>).</summary>
    Tcp,

    /// <summary>A unix socket (<c>file://</c>), datagram or else stream, as Python's SysLogHandler tries them.</summary>
    Unix,
}

/// <summary>
/// A log file given as a syslog URL, as salt._logging.impl.setup_logfile_handler reads it:
/// <c>&lt;file|udp|tcp&gt;://&lt;host|socketpath&gt;:&lt;port&gt;/&lt;facility&gt;</c>, e.g. <c>udp://localhost</c>
/// (port 514, LOG_USER), <c>tcp://localhost:514/LOG_DAEMON</c>, <c>file:///dev/log</c>,
/// <c>file:///dev/log/LOG_LOCAL3</c>.
/// </summary>
internal sealed record SyslogTarget(SyslogTransport Transport, string Address, int Port, string FacilityName, int Facility)
{
    /// <summary>logging.handlers.SYSLOG_UDP_PORT, the port when none is given (for tcp too, as Salt).</summary>
    public const int DefaultPort = 514;

    // SysLogHandler's facility codes.
    private static readonly Dictionary<string, int> Facilities = new(StringComparer.Ordinal)
    {
        ["LOG_KERN"] = 0, ["LOG_USER"] = 1, ["LOG_MAIL"] = 2, ["LOG_DAEMON"] = 3, ["LOG_AUTH"] = 4, ["LOG_SYSLOG"] = 5,
        ["LOG_LPR"] = 6, ["LOG_NEWS"] = 7, ["LOG_UUCP"] = 8, ["LOG_CRON"] = 9, ["LOG_AUTHPRIV"] = 10, ["LOG_FTP"] = 11,
        ["LOG_NTP"] = 12, ["LOG_SECURITY"] = 13, ["LOG_CONSOLE"] = 14, ["LOG_SOLCRON"] = 15,
        ["LOG_LOCAL0"] = 16, ["LOG_LOCAL1"] = 17, ["LOG_LOCAL2"] = 18, ["LOG_LOCAL3"] = 19,
        ["LOG_LOCAL4"] = 20, ["LOG_LOCAL5"] = 21, ["LOG_LOCAL6"] = 22, ["LOG_LOCAL7"] = 23,
    };

    /// <summary>Whether a log file setting is a syslog URL (Salt: urlparse's scheme is tcp, udp or file) rather than a path.</summary>
    public static bool IsUrl(string? logFile) =>
        logFile is not null && (logFile.StartsWith("udp://", StringComparison.OrdinalIgnoreCase)
            || logFile.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)
            || logFile.StartsWith("file://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The target a URL names; a <see cref="FormatException"/> says what is wrong with it.</summary>
    public static SyslogTarget Parse(string url)
    {
        if (!IsUrl(url))
        {
            throw new FormatException($"'{url}' is not a syslog URL (udp://, tcp:// or file://)");
        }

        var colon = url.IndexOf(':', StringComparison.Ordinal);
        var scheme = url[..colon].ToLowerInvariant();
        var rest = url[(colon + 3)..];
        var end = rest.IndexOfAny(['?', '#']);
        rest = end >= 0 ? rest[..end] : rest;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var netloc = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? rest[slash..] : "";

        if (scheme == "file")
        {
            if (path.Length == 0)
            {
                throw new FormatException($"'{url}' names no socket path");
            }

            // The last path segment is the facility when it starts with LOG_; else the whole path is the socket.
            var last = path[(path.LastIndexOf('/') + 1)..].ToUpperInvariant();
            if (!last.StartsWith("LOG_", StringComparison.Ordinal))
            {
                return new SyslogTarget(SyslogTransport.Unix, path, 0, "LOG_USER", Facilities["LOG_USER"]);
            }

            var socketPath = path[..path.LastIndexOf('/')];
            return new SyslogTarget(SyslogTransport.Unix, socketPath.Length > 0 ? socketPath : "/", 0, last, FacilityCode(last));
        }

        var (host, port) = HostAndPort(url, netloc);
        var name = path.TrimStart('/').ToUpperInvariant();
        if (name.Length == 0)
        {
            name = "LOG_USER";
        }
        else if (!name.StartsWith("LOG_", StringComparison.Ordinal))
        {
            throw new FormatException($"The syslog facility '{name}' is not known");
        }

        return new SyslogTarget(scheme == "tcp" ? SyslogTransport.Tcp : SyslogTransport.Udp, host, port, name, FacilityCode(name));
    }

    /// <summary>The URL again, for messages.</summary>
    public override string ToString() => Transport switch
    {
        SyslogTransport.Unix => $"file://{Address}/{FacilityName}",
        _ => $"{(Transport == SyslogTransport.Tcp ? "tcp" : "udp")}://{(Address.Contains(':', StringComparison.Ordinal) ? "[" + Address + "]" : Address)}:{Port}/{FacilityName}",
    };

    private static int FacilityCode(string name) =>
        Facilities.TryGetValue(name, out var code) ? code : throw new FormatException($"The syslog facility '{name}' is not known");

    // urlparse's hostname and port: [v6]:port, host:port or host; the host lower-cased; port 0 or none → 514.
    private static (string Host, int Port) HostAndPort(string url, string netloc)
    {
        var at = netloc.LastIndexOf('@');
        netloc = at >= 0 ? netloc[(at + 1)..] : netloc;
        string host;
        string? port = null;
        if (netloc.StartsWith('['))
        {
            var close = netloc.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"'{url}': invalid IPv6 address");
            }

            host = netloc[1..close];
            port = netloc.Length > close + 1 && netloc[close + 1] == ':' ? netloc[(close + 2)..] : null;
        }
        else
        {
            var c = netloc.LastIndexOf(':');
            (host, port) = c >= 0 ? (netloc[..c], netloc[(c + 1)..]) : (netloc, null);
        }

        if (host.Length == 0)
        {
            throw new FormatException($"'{url}' names no host");
        }

        var number = 0;
        if (!string.IsNullOrEmpty(port) && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number <= 65535))
        {
            throw new FormatException($"'{url}': the port must be a number from 0 to 65535");
        }

        return (host.ToLowerInvariant(), number == 0 ? DefaultPort : number);
    }
}
