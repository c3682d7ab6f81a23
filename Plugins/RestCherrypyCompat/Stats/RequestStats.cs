using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Stats;

/// <summary>Counters behind <c>/stats</c>, in the shape of CherryPy's cpstats "CherryPy Applications" tree.</summary>
internal sealed class RequestStats(TimeProvider time)
{
    private readonly double start = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
    private long totalRequests;
    private long currentRequests;
    private long bytesRead;
    private long bytesWritten;
    private long workTicks;

    public void Begin() => Interlocked.Increment(ref currentRequests);

    public void End(long read, long written, TimeSpan elapsed)
    {
        Interlocked.Decrement(ref currentRequests);
        Interlocked.Increment(ref totalRequests);
        Interlocked.Add(ref bytesRead, Math.Max(0, read));
        Interlocked.Add(ref bytesWritten, Math.Max(0, written));
        Interlocked.Add(ref workTicks, elapsed.Ticks);
    }

    /// <summary>The statistics tree; <c>{}</c> when <c>collect_stats</c> is off (as Salt).</summary>
    public OrderedDictionary<string, object?> Snapshot(bool enabled)
    {
        var tree = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (!enabled)
        {
            return tree;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var uptime = Math.Max(now - start, 1e-6);
        long total = Interlocked.Read(ref totalRequests), read = Interlocked.Read(ref bytesRead), written = Interlocked.Read(ref bytesWritten);
        double perRequest(long n) => total == 0 ? 0.0 : (double)n / total;
        tree["CherryPy Applications"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Enabled"] = true,
            ["Bytes Read/Request"] = perRequest(read),
            ["Bytes Read/Second"] = read / uptime,
            ["Bytes Written/Request"] = perRequest(written),
            ["Bytes Written/Second"] = written / uptime,
            ["Current Time"] = now,
            ["Current Requests"] = Interlocked.Read(ref currentRequests),
            ["Requests/Second"] = total / uptime,
            ["Server Version"] = ErrorPage.CherryPyVersion,
            ["Start Time"] = start,
            ["Total Bytes Read"] = read,
            ["Total Bytes Written"] = written,
            ["Total Requests"] = total,
            ["Total Time"] = TimeSpan.FromTicks(Interlocked.Read(ref workTicks)).TotalSeconds,
            ["Uptime"] = uptime,
            ["Requests"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal),
        };
        return tree;
    }
}
