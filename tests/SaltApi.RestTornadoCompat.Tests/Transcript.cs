using System.Globalization;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests;

/// <summary>An exchange with the real rest_tornado committed in tests/data/reference/rest_tornado.</summary>
internal sealed record Transcript(string RequestBody, int Status, IReadOnlyList<(string Name, string Value)> Headers, string Body)
{
    public static Transcript Load(string name)
    {
        var text = File.ReadAllText(Path.Combine(TestData.Reference, "rest_tornado", name + ".txt"));
        var at = text.LastIndexOf("<<< RESPONSE\n", StringComparison.Ordinal);
        var request = text[text.IndexOf(">>> REQUEST\n", StringComparison.Ordinal)..at];
        var requestSplit = request.IndexOf("\n\n", StringComparison.Ordinal);
        var requestBody = requestSplit < 0 ? "" : request[(requestSplit + 2)..].TrimEnd('\n');
        var resp = text[(at + 13)..];
        var split = resp.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? resp.TrimEnd('\n') : resp[..split];
        var body = split < 0 ? "" : resp[(split + 2)..];
        var lines = head.Split('\n');
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Where(l => l.Contains(": ", StringComparison.Ordinal))
            .Select(l => (l[..l.IndexOf(": ", StringComparison.Ordinal)], l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..])).ToList();
        return new Transcript(requestBody, status, headers, body);
    }

    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The body as sent: Content-Length bytes (the capture adds a final newline).</summary>
    public string ExactBody => Header("Content-Length") is { } len ? Body[..Math.Min(Body.Length, int.Parse(len, CultureInfo.InvariantCulture))] : Body;
}
