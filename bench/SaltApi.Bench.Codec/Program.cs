using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using SaltApi.Bench.Codec;

// Usage: SaltApi.Bench.Codec <vectors dir> <artifacts dir>
// Prints one line per benchmark: CODEC <name> <messages> <median ns/msg> <p95 ns/msg> <allocated B/msg>
if (args.Length < 2 || !Directory.Exists(args[0]))
{
    await Console.Error.WriteLineAsync("usage: SaltApi.Bench.Codec <vectors dir> <artifacts dir>");
    return 2;
}

Vectors.Dir = args[0];
var counts = new Dictionary<string, int>
{
    [nameof(CodecBenchmarks.RequestDecode)] = Vectors.RequestChannel().Length,
    [nameof(CodecBenchmarks.RequestEncode)] = Vectors.RequestChannel().Length,
    [nameof(CodecBenchmarks.BusDecode)] = Vectors.BusFrames().Length,
    [nameof(CodecBenchmarks.BusEncode)] = Vectors.BusFrames().Length,
};

// In-process (no generated project to build) and short: the whole codec part stays within a minute.
var job = Job.ShortRun
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithWarmupCount(3)
    .WithIterationCount(9)
    .WithIterationTime(TimeInterval.FromMilliseconds(200));
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(job)
    .WithArtifactsPath(args[1])
    .WithOptions(ConfigOptions.DisableLogFile);
var summary = BenchmarkRunner.Run<CodecBenchmarks>(config);

foreach (var report in summary.Reports)
{
    var name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
    var n = counts[name];
    if (report.ResultStatistics is not { } stats)
    {
        Console.WriteLine($"CODEC {name} {n} failed");
        continue;
    }

    var alloc = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"CODEC {name} {n} {stats.Median / n:F1} {stats.Percentiles.P95 / n:F1} {(double)alloc / n:F0}"));
}

return summary.HasCriticalValidationErrors ? 1 : 0;
