using System.Diagnostics;
using SaltApi.Testing;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// The coverage-guided fuzz targets (bench/SaltApi.Fuzz) over their committed corpus
/// (bench/fuzz/corpus/TARGET) and over every input AFL++ found to crash, hang or overspend
/// (regressions/TARGET). Each target runs in a child process on a daemon-sized stack, so a stack
/// overflow fails one test instead of ending the test host.
/// </summary>
public sealed class AflRegressionTests
{
    private static string CorpusDir(string target) => Path.Combine(TestData.RepoRoot, "bench", "fuzz", "corpus", target);

    private static string RegressionDir(string target) => Path.Combine(TestData.RepoRoot, "tests", "SaltApi.Fuzz.Tests", "regressions", target);

    public static TheoryData<string> TargetNames() => [.. SaltApi.Fuzz.Targets.All.Keys];

    /// <summary>Every regression input, as target/file.</summary>
    public static TheoryData<string> Regressions() =>
    [
        .. SaltApi.Fuzz.Targets.All.Keys
            .Where(t => Directory.Exists(RegressionDir(t)))
            .SelectMany(t => Directory.GetFiles(RegressionDir(t)).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Select(f => t + "/" + Path.GetFileName(f)))
            .Order(StringComparer.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void Every_target_has_a_corpus(string target) =>
        Assert.True(Directory.Exists(CorpusDir(target)) && Directory.GetFiles(CorpusDir(target)).Length >= 5, $"bench/fuzz/corpus/{target} is missing or has fewer than 5 seeds");

    [Theory]
    [MemberData(nameof(TargetNames))]
    public async Task Corpus_replays_within_bounds(string target) => await ReplayAsync(target, CorpusDir(target));

    [Theory]
    [MemberData(nameof(Regressions))]
    public async Task Found_input_replays_within_bounds(string input)
    {
        var target = input[..input.IndexOf('/', StringComparison.Ordinal)];
        await ReplayAsync(target, Path.Combine(RegressionDir(target), input[(target.Length + 1)..]));
    }

    private static async Task ReplayAsync(string target, string path)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(typeof(SaltApi.Fuzz.Targets).Assembly.Location);
        psi.ArgumentList.Add("replay");
        psi.ArgumentList.Add(target);
        psi.ArgumentList.Add(path);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"hang: replay {target} {path} still running after 120 s\n{Tail(await stdout)}");
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"replay {target} {path} exited with {process.ExitCode}:\n{Tail(output)}");
        Assert.Contains("OK ", output, StringComparison.Ordinal);
    }

    // The failures and the last lines (the BEGIN line of an input that ended the process).
    private static string Tail(string output)
    {
        var lines = output.Split('\n');
        return string.Join('\n', lines.Where(l => l.StartsWith("FAIL", StringComparison.Ordinal)).Take(20).Concat(lines.TakeLast(15)));
    }
}
