using System.Diagnostics;
using SaltApi.Testing;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// The committed corpus (corpus/*.bin: edge cases and every input a fuzz run found) and the generated
/// deep-nesting inputs, replayed through every target. Deep inputs run in a child process, so a stack
/// overflow fails one test instead of ending the test host.
/// </summary>
public sealed class CorpusTests
{
    private static string CorpusDir => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static TheoryData<string> CorpusFiles() =>
        [.. Directory.GetFiles(CorpusDir, "*.bin").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Fact]
    public void Corpus_is_there() => Assert.True(CorpusFiles().Count >= 50, "corpus/ was not copied to the output");

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_input_throws_only_typed_errors(string file)
    {
        var data = File.ReadAllBytes(Path.Combine(CorpusDir, file));
        for (var split = 1; split <= 5; split++)
        {
            var failures = Targets.Names.Select(t => (t, e: Targets.Run(t, data, split))).Where(x => x.e is not null).ToList();
            Assert.True(failures.Count == 0, string.Join("\n", failures.Select(f => $"{f.t}: {f.e}")));
        }
    }

    public static TheoryData<string> DeepNames() =>
        [.. DeepCases.All.Keys];

    [Theory]
    [MemberData(nameof(DeepNames))]
    public async Task Deep_input_in_a_child_process_neither_crashes_nor_hangs(string name) => await RunChildAsync("deep", name);

    [Fact]
    public async Task Whole_corpus_replays_in_a_child_process() => await RunChildAsync("replay", CorpusDirOnlyTopLevel());

    private static string CorpusDirOnlyTopLevel()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-corpus-").FullName;
        foreach (var f in Directory.GetFiles(CorpusDir, "*.bin"))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        return dir;
    }

    private static async Task RunChildAsync(string mode, string arg)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add(mode);
        psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"hang: {mode} {arg} still running after 90 s\n{await stdout}");
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{mode} {arg} exited with {process.ExitCode}:\n{output[..Math.Min(output.Length, 4000)]}");
        Assert.Contains("OK ", output, StringComparison.Ordinal);
    }
}
