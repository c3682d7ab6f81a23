using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests;

/// <summary>A response of the real rest_cherrypy committed in tests/data/reference/rest_cherrypy.</summary>
internal sealed record Transcript(int Status, IReadOnlyList<(string Name, string Value)> Headers, string Body)
{
    public static Transcript Load(string name)
    {
        var text = File.ReadAllText(Path.Combine(TestData.Reference, "rest_cherrypy", name + ".txt"));
        var resp = text[(text.LastIndexOf("<<< RESPONSE\n", StringComparison.Ordinal) + 13)..];
        var split = resp.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? resp : resp[..split];
        var body = split < 0 ? "" : resp[(split + 2)..];
        var lines = head.Split('\n');
        var statusLine = lines.Last(l => l.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && !l.StartsWith("HTTP/1.1 100", StringComparison.Ordinal));
        var status = int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Where(l => l.Contains(": ", StringComparison.Ordinal) && !l.StartsWith("HTTP/", StringComparison.Ordinal))
            .Select(l => (l[..l.IndexOf(": ", StringComparison.Ordinal)], l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..])).ToList();
        return new Transcript(status, headers, body);
    }

    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The body as sent: Content-Length bytes (the capture adds a final newline).</summary>
    public string ExactBody => Header("Content-Length") is { } len ? Body[..int.Parse(len, System.Globalization.CultureInfo.InvariantCulture)] : Body;
}
