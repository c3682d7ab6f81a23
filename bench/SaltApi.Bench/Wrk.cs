using System.Diagnostics;
using System.Text.Json;

namespace SaltApi.Bench;

/// <summary>One wrk run's figures (latencies in milliseconds).</summary>
/// <param name="Missing">With <see cref="HttpLoad.Expect"/>: the answers that were not a 200 naming every expected minion with true.</param>
internal sealed record WrkResult(long Requests, double Seconds, long Errors, double P50, double P90, double P99, double Max, string ErrorKinds = "", long Missing = 0)
{
    public double Rps => Seconds > 0 ? Requests / Seconds : 0;
}

/// <summary>A load to drive with wrk: URL, POST body (null: GET) and headers; <paramref name="Expect"/>: minion ids every answer must return true for (counted in <see cref="WrkResult.Missing"/>).</summary>
internal sealed record HttpLoad(string Url, string? Body, IReadOnlyList<string> Headers, IReadOnlyList<string>? Expect = null);

/// <summary>Runs Debian's wrk with bench/lua/post.lua; every run is bounded by its duration plus a kill.</summary>
internal static class Wrk
{
    private static readonly string[] ErrorNames = ["connect", "read", "write", "status", "timeout"];

    /// <param name="timeoutSeconds">wrk's own timeout: a request not answered by then counts as a "timeout" error.</param>
    public static async Task<WrkResult> RunAsync(HttpLoad load, int connections, int seconds, int timeoutSeconds = 5)
    {
        var bodyFile = Path.Combine(Paths.Out, "body.json");
        if (load.Body is not null)
        {
            await File.WriteAllTextAsync(bodyFile, load.Body);
        }

        var threads = Math.Min(2, connections);
        var psi = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"-t{threads}", $"-c{connections}", $"-d{seconds}s", "--timeout", $"{timeoutSeconds}s", "-s", Paths.Lua })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var h in load.Headers)
        {
            psi.ArgumentList.Add("-H");
            psi.ArgumentList.Add(h);
        }

        psi.ArgumentList.Add(load.Url);
        psi.Environment["BENCH_BODY"] = load.Body is null ? "" : bodyFile;
        psi.Environment["BENCH_EXPECT"] = load.Expect is null ? "" : string.Join(' ', load.Expect);

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start wrk");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + timeoutSeconds + 20));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException("wrk did not stop by itself");
        }

        var text = await stdout;
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk printed no result: " + (await stderr).Trim() + text.Trim());
        using var doc = JsonDocument.Parse(line[6..]);
        var r = doc.RootElement;
        long L(string name) => r.GetProperty(name).GetInt64();
        double Ms(string name) => r.GetProperty(name).GetDouble() / 1000.0;
        return new WrkResult(
            L("requests"),
            L("duration_us") / 1e6,
            L("connect") + L("read") + L("write") + L("status") + L("timeout"),
            Ms("p50"),
            Ms("p90"),
            Ms("p99"),
            Ms("max"),
            string.Join(", ", ErrorNames.Where(k => L(k) > 0).Select(k => $"{k} {L(k)}")),
            r.TryGetProperty("missing", out var missing) ? missing.GetInt64() : 0);
    }

    /// <summary>A warm-up run, then <paramref name="repeats"/> runs; figures are the medians, errors the sum.</summary>
    public static async Task<(WrkResult Median, long Requests)> MeasureAsync(HttpLoad load, int connections, Settings s)
    {
        var total = (await RunAsync(load, connections, s.Warmup)).Requests;
        var runs = new List<WrkResult>();
        for (var i = 0; i < s.Repeats; i++)
        {
            var r = await RunAsync(load, connections, s.Duration);
            runs.Add(r);
            total += r.Requests;
        }

        var median = new WrkResult(
            (long)Stats.Median(runs.Select(r => (double)r.Requests)),
            Stats.Median(runs.Select(r => r.Seconds)),
            runs.Sum(r => r.Errors),
            Stats.Median(runs.Select(r => r.P50)),
            Stats.Median(runs.Select(r => r.P90)),
            Stats.Median(runs.Select(r => r.P99)),
            runs.Max(r => r.Max),
            string.Join("; ", runs.Select(r => r.ErrorKinds).Where(k => k.Length > 0)));
        // Requests/s is the median of the runs' rates, not a ratio of medians.
        var rps = Stats.Median(runs.Select(r => r.Rps));
        return (median with { Requests = (long)Math.Round(rps * median.Seconds) }, total);
    }

    /// <summary>Runs chunks of <paramref name="chunkSeconds"/> until at least <paramref name="count"/> requests or the limit.</summary>
    public static async Task<(long Requests, long Errors, double Seconds)> AtLeastAsync(HttpLoad load, int connections, long count, int chunkSeconds, TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        long requests = 0, errors = 0;
        while (requests < count && sw.Elapsed < limit)
        {
            var r = await RunAsync(load, connections, chunkSeconds);
            requests += r.Requests;
            errors += r.Errors;
        }

        return (requests, errors, sw.Elapsed.TotalSeconds);
    }
}

/// <summary>Small statistics helpers.</summary>
internal static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
    }
}
