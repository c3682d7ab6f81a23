using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using SaltApi.Abstractions.Client;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The instruments every module's requests feed (System.Diagnostics.Metrics, in the BCL, so a listener in the
/// daemon sees them whatever load context a module runs in). Labels are bounded: the module's config key, a
/// route template, a Salt client name, an HTTP status; never a token, a password, a target or a jid.
/// </summary>
internal static class NetapiMetrics
{
    /// <summary>The meter's name; the daemon exports every meter named <c>SaltApi.*</c>.</summary>
    public const string MeterName = "SaltApi.Netapi";

    /// <summary>Seconds: from 5 ms (a token check) to 2 min (a sync call waiting for slow minions).</summary>
    public static readonly IReadOnlyList<double> SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private static readonly Meter Meter = new(MeterName);

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "saltapi.request.duration",
        unit: "s",
        description: "HTTP requests answered by a netapi module, by module, route template, lowstate client and status, and how long they took",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    // The gates whose slots are observed. Observed, not counted with +1/-1: a measurement lost once (the SDK
    // drops one on an internal error) would skew an up-down count for the life of the process.
    private static readonly ConcurrentDictionary<RequestGate, byte> Gates = new();

    public static readonly Counter<long> Refused = Meter.CreateCounter<long>("saltapi.request.refused", description: "Requests refused with 503 at the request gate by module and reason (queue_full, wait_timeout)");

    public static readonly Counter<long> TokenLookups = Meter.CreateCounter<long>("saltapi.token_cache.lookups", description: "Token validations by module and result (hit: answered from the cache, miss: asked the master)");

    public static readonly Counter<long> LoginsFailed = Meter.CreateCounter<long>("saltapi.logins.failed", description: "Credential checks refused (401) by module");

    static NetapiMetrics()
    {
        Meter.CreateObservableUpDownCounter("saltapi.request.slots.in_use", () => ByModule(g => g.InUse), description: "Request slots held (requests running) by module");
        Meter.CreateObservableUpDownCounter("saltapi.request.slots.waiting", () => ByModule(g => g.Waiting), description: "Requests waiting for a request slot by module");
    }

    public static void Register(RequestGate gate) => Gates[gate] = 0;

    public static void Unregister(RequestGate gate) => Gates.TryRemove(gate, out _);

    /// <summary>The module label of the calling request, or <c>unknown</c> outside one.</summary>
    public static KeyValuePair<string, object?> Module() => new("module", ModuleName());

    /// <summary>The module name of the calling request, or <c>unknown</c> outside one.</summary>
    public static string ModuleName() => NetapiCall.Current?.Module ?? "unknown";

    // One measurement per module (a restarted module may have had two gates); a gate no request went through yet
    // has no module and nothing to count.
    private static List<Measurement<long>> ByModule(Func<RequestGate, long> value) =>
        Gates.Keys.Where(g => g.ModuleName is not null)
            .GroupBy(g => g.ModuleName!, StringComparer.Ordinal)
            .Select(m => new Measurement<long>(m.Sum(value), new KeyValuePair<string, object?>("module", m.Key)))
            .ToList();
}
