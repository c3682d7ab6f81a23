using System.Net;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>The access-log line against CherryPy 18's <c>LogManager.access</c> output, and its masking of secrets.</summary>
public class AccessLogLineTests
{
    private static readonly DateTime When = new(2026, 12, 1, 7, 5, 9, DateTimeKind.Local);

    private static string Line(string target, string? userAgent = "curl/7.88.1", string? referer = null, int status = 200, long? bytes = 146, IPAddress? client = null) =>
        AccessLogLine.Format(client ?? IPAddress.Loopback, "GET", target, "HTTP/1.1", status, bytes, referer, userAgent, When);

    [Fact]
    public void A_plain_request_is_CherryPys_line()
    {
        // What CherryPy 18 writes for this request (access_log_format '{h} {l} {u} {t} "{r}" {s} {b} "{f}" "{a}"').
        Assert.Equal("127.0.0.1 - - [01/Dec/2026:07:05:09] \"GET /jobs HTTP/1.1\" 200 146 \"\" \"curl/7.88.1\"", Line("/jobs"));
        Assert.Equal("127.0.0.1 - - [01/Dec/2026:07:05:09] \"GET /events HTTP/1.1\" 200 - \"http://a/\" \"\"", Line("/events", userAgent: null, referer: "http://a/", bytes: null));
    }

    [Fact]
    public void An_IPv4_mapped_client_is_written_as_IPv4()
    {
        Assert.StartsWith("10.1.2.3 - - [", Line("/", client: IPAddress.Parse("10.1.2.3").MapToIPv6()), StringComparison.Ordinal);
        Assert.StartsWith("2001:db8::1 - - [", Line("/", client: IPAddress.Parse("2001:db8::1")), StringComparison.Ordinal);
    }

    // Expected atoms computed with CherryPy 18's escaping on Python 3 (quote escaped, repr of the UTF-8
    // bytes without its quotes, doubled backslashes halved).
    [Theory]
    [InlineData("a\"b", "a\\\"b")]
    [InlineData("it's", "it's")]
    [InlineData("it's \"x\"", "it\\'s \\\"x\\\"")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("caf\u00e9", "caf\\xc3\\xa9")]
    [InlineData("back\\slash", "back\\slash")]
    [InlineData("nl\r\nx", "nl\\r\\nx")]
    [InlineData("\u0001\u007f", "\\x01\\x7f")]
    public void Atoms_are_escaped_as_CherryPy_escapes_them(string userAgent, string written)
    {
        Assert.EndsWith($" \"\" \"{written}\"", Line("/", userAgent), StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_break_in_the_request_target_cannot_forge_a_line()
    {
        var line = Line("/hook/a\r\n127.0.0.1 - - [forged]");
        Assert.DoesNotContain('\n', line);
        Assert.Contains("/hook/a\\r\\n127.0.0.1", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_target_is_cut_after_masking()
    {
        var token = new string('a', 64);
        var line = Line("/events?token=" + token + "&x=" + new string('y', 10_000));
        Assert.DoesNotContain(token, line, StringComparison.Ordinal);
        Assert.True(line.Length < AccessLogLine.MaxAtom * 2, line.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("...", line, StringComparison.Ordinal);
    }
}
