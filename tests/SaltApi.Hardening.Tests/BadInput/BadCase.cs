using System.Collections.Concurrent;
using System.Net;
using System.Text;
using SaltApi.Hardening.Tests.Http;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>
/// One bad request: how to build it, the statuses it may get (0 = the server closed the connection
/// without an answer, which is fine for a sender that never finishes), and the message it must carry.
/// </summary>
/// <param name="Name">Case id (the theory's data).</param>
/// <param name="Build">Builds the raw request; gets the session token (rest_cherrypy) or null.</param>
/// <param name="Expect">Statuses allowed; none of them may be 5xx.</param>
/// <param name="Message">Text the body must contain (Salt's message), if any.</param>
public sealed record BadCase(string Name, Func<string?, byte[]> Build, int[] Expect, string? Message = null)
{
    /// <summary>Write the request in pieces with pauses (slow senders).</summary>
    public IReadOnlyList<(int Bytes, TimeSpan Pause)>? Pieces { get; init; }

    /// <summary>Extra checks on the response.</summary>
    public Action<RawResponse>? Check { get; init; }

    /// <summary>How long the answer may take before it counts as a hang.</summary>
    public TimeSpan Limit { get; init; } = TimeSpan.FromSeconds(15);

    public override string ToString() => Name;
}

/// <summary>Figures for the report: cases tried, 5xx answers, hangs (written next to the test assembly).</summary>
public static class Summary
{
    private static readonly ConcurrentDictionary<string, string> Results = new(StringComparer.Ordinal);

    public static void Record(string module, string name, string outcome)
    {
        Results[module + " " + name] = outcome;
        var lines = Results.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key + "\t" + r.Value).ToList();
        var cases = lines.Count;
        var fivexx = Results.Values.Count(v => v.StartsWith('5') && v != "505");
        var hangs = Results.Values.Count(v => v == "hang");
        lock (Results)
        {
            File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "bad-input-summary.txt"), [$"cases {cases} 5xx {fivexx} (not counting 505 for HTTP/9.9) hangs {hangs}", .. lines]);
        }
    }
}

/// <summary>Runs a case against a module and checks the daemon still serves a good request.</summary>
public static class CaseRunner
{
    public static async Task RunAsync(Daemon daemon, string module, int port, BadCase c, string? session, Func<Task> goodRequest)
    {
        RawResponse response;
        try
        {
            response = await RawHttp.SendAsync(port, c.Build(session), c.Limit, c.Pieces);
        }
        catch (HangException e)
        {
            Summary.Record(module, c.Name, "hang");
            throw new Xunit.Sdk.XunitException($"{c.Name}: {e.Message}");
        }

        Summary.Record(module, c.Name, response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The one 5xx a case may list is 505 for an HTTP version that does not exist (RFC 9110 §15.6.6).
        Assert.False(response.Status >= 500 && !(response.Status == 505 && c.Expect.Contains(505)), $"{c.Name}: a 5xx for bad input: {response}");
        Assert.True(c.Expect.Contains(response.Status), $"{c.Name}: expected {string.Join("/", c.Expect)}, got {response}");
        if (c.Message is not null)
        {
            Assert.Contains(c.Message, WebUtility.HtmlDecode(response.Text), StringComparison.Ordinal);
        }

        c.Check?.Invoke(response);
        Assert.False(daemon.HasExited, $"{c.Name}: the daemon exited:\n{daemon.Output}");
        await goodRequest();
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
