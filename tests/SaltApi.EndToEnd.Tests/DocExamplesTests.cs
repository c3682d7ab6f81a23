using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// Every curl example of docs/*.md, run as printed (ports aside) against the daemon started on the
/// repository's salt-master.yaml with its rest_tornado section uncommented: each ```sh block that runs curl,
/// in the page's order, in one folder per page (so a cookie jar written by one block is read by the next).
/// A block is left out only when the line before it says <c>&lt;!-- run by hand: ... --&gt;</c>. A block
/// must exit 0 (or 28: curl's --max-time ending a stream); when a plain ``` block follows it, that answer is
/// compared: the status line of an answer that starts with one, else the JSON's shape (the keys of every
/// object, jids and tokens aside).
/// </summary>
public sealed partial class DocExamplesTests
{
    public static TheoryData<string> Pages() => new(PageNames());

    private static List<string> PageNames() => Directory.GetFiles(Path.Combine(TestData.RepoRoot, "docs"), "*.md")
        .Where(p => Examples(File.ReadAllText(p)).Count > 0)
        .Select(p => Path.GetFileName(p))
        .Order(StringComparer.Ordinal)
        .ToList();

    [Fact]
    public void The_client_pages_have_examples_to_run()
    {
        var pages = PageNames();
        Assert.Contains("api-rest-cherrypy.md", pages);
        Assert.Contains("api-rest-wsgi.md", pages);
        Assert.Contains("api-rest-tornado.md", pages);
        Assert.Contains("quick-start.md", pages);
    }

    [ToolTheory("curl", "curl")]
    [MemberData(nameof(Pages))]
    public async Task The_examples_of_the_page_run_against_the_default_config(string page)
    {
        Assert.True(File.Exists("/usr/bin/jq"), "the examples use jq (apt-get install jq)");
        var text = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "docs", page));
        var examples = Examples(text);

        var dir = Directory.CreateTempSubdirectory("saltapi-docs-").FullName;
        var work = Directory.CreateTempSubdirectory("saltapi-docs-work-").FullName;
        try
        {
            var (wsgi, cherrypy, tornado, ret) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
            var yaml = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "salt-master.yaml"));
            yaml = Commented().Replace(yaml, "$1")
                .Replace("port: 8001", $"port: {wsgi}", StringComparison.Ordinal)
                .Replace("port: 8000", $"port: {cherrypy}", StringComparison.Ordinal)
                .Replace("port: 8002", $"port: {tornado}", StringComparison.Ordinal)
                .Replace("ret_port: 4506", $"ret_port: {ret}", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(dir, "salt-master.yaml"), yaml);
            File.Copy(Path.Combine(TestData.RepoRoot, "salt-master.users"), Path.Combine(dir, "salt-master.users"));
            await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-l", "info"], wsgi, cherrypy, ret, [wsgi, cherrypy, tornado]);

            foreach (var example in examples)
            {
                var script = example.Script
                    .Replace(":8000", $":{cherrypy}", StringComparison.Ordinal)
                    .Replace(":8001", $":{wsgi}", StringComparison.Ordinal)
                    .Replace(":8002", $":{tornado}", StringComparison.Ordinal);
                var (exit, output, error) = await RunAsync(script, work);
                var where = $"{page}, line {example.Line}:\n{example.Script}\n--- output:\n{output}\n--- stderr:\n{error}";
                Assert.True(exit is 0 or 28, $"exit {exit}; {where}\n{daemon.Output[Math.Max(0, daemon.Output.Length - 3000)..]}");
                if (example.Answer is { } answer)
                {
                    Compare(answer, output, where);
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The printed answer against the real one: the status line, or the JSON's shape.</summary>
    private static void Compare(string expected, string actual, string where)
    {
        expected = expected.Trim();
        if (expected.StartsWith("HTTP/", StringComparison.Ordinal))
        {
            Assert.True(actual.StartsWith(expected.Split('\n')[0].Trim(), StringComparison.Ordinal), $"status line; {where}");
            return;
        }

        if (expected[0] is not ('{' or '['))
        {
            return;
        }

        using var e = JsonDocument.Parse(expected);
        using var a = JsonDocument.Parse(actual.Trim());
        Shape(e.RootElement, a.RootElement, "$", where);
    }

    private static void Shape(JsonElement expected, JsonElement actual, string path, string where)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.True(actual.ValueKind == JsonValueKind.Object, $"{path}: an object expected, got {actual}; {where}");
                foreach (var p in expected.EnumerateObject())
                {
                    // A jid or a token as a key belongs to the run that printed it.
                    if (Variable().IsMatch(p.Name))
                    {
                        Assert.True(actual.EnumerateObject().Any(), $"{path}: entries expected; {where}");
                        continue;
                    }

                    Assert.True(actual.TryGetProperty(p.Name, out var value), $"{path}.{p.Name} missing; {where}");
                    Shape(p.Value, value, $"{path}.{p.Name}", where);
                }

                break;
            case JsonValueKind.Array:
                Assert.True(actual.ValueKind == JsonValueKind.Array, $"{path}: a list expected, got {actual}; {where}");
                if (expected.GetArrayLength() > 0)
                {
                    Assert.True(actual.GetArrayLength() > 0, $"{path}: entries expected; {where}");
                    Shape(expected[0], actual[0], path + "[0]", where);
                }

                break;
            case JsonValueKind.True or JsonValueKind.False:
                Assert.True(actual.ValueKind == expected.ValueKind, $"{path}: {expected} expected, got {actual}; {where}");
                break;
            case JsonValueKind.Number:
                Assert.True(actual.ValueKind == JsonValueKind.Number, $"{path}: a number expected, got {actual}; {where}");
                break;
            case JsonValueKind.String:
                Assert.True(actual.ValueKind == JsonValueKind.String, $"{path}: a string expected, got {actual}; {where}");
                break;
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string script, string work)
    {
        var psi = new ProcessStartInfo("bash", ["-e", "-o", "pipefail", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = work,
        };
        using var bash = Process.Start(psi)!;
        var output = bash.StandardOutput.ReadToEndAsync();
        var error = bash.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await bash.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            bash.Kill(entireProcessTree: true);
            throw new TimeoutException($"the example ran past 60 s:\n{script}");
        }

        return (bash.ExitCode, (await output).ReplaceLineEndings("\n"), await error);
    }

    internal sealed record Example(int Line, string Script, string? Answer);

    /// <summary>The page's ```sh blocks that run curl, each with the plain ``` block that follows it, if any.</summary>
    internal static List<Example> Examples(string page)
    {
        var examples = new List<Example>();
        foreach (Match m in Block().Matches(page))
        {
            var script = m.Groups["body"].Value;
            if (!Regex.IsMatch(script, @"(^|\s|\()curl ", RegexOptions.Multiline))
            {
                continue;
            }

            var before = page[..m.Index].TrimEnd();
            if (before.EndsWith("-->", StringComparison.Ordinal) && before[before.LastIndexOf("<!--", StringComparison.Ordinal)..].StartsWith("<!-- run by hand", StringComparison.Ordinal))
            {
                continue;
            }

            var after = page[(m.Index + m.Length)..];
            var answer = Answer().Match(after);
            var line = page[..m.Index].Count(c => c == '\n') + 1;
            examples.Add(new Example(line, script, answer.Success ? answer.Groups["body"].Value : null));
        }

        return examples;
    }

    // A fenced sh block: its body.
    [GeneratedRegex(@"^```sh\n(?<body>.*?)\n```$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Block();

    // A plain fenced block right after the sh block (blank lines between allowed).
    [GeneratedRegex(@"\A\s*\n```\n(?<body>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Answer();

    // jids (20 digits, maybe a suffix) and tokens (hex) used as keys.
    [GeneratedRegex("^([0-9]{20}.*|[0-9a-f]{32,})$")]
    private static partial Regex Variable();

    // The commented-out rest_tornado section: "#rest_tornado:" and its "#  key: value" lines.
    [GeneratedRegex(@"^#((?:rest_tornado:|  \w+: .*))$", RegexOptions.Multiline)]
    private static partial Regex Commented();
}
