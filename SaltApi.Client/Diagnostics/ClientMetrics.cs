using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SaltApi.Client.Diagnostics;

/// <summary>What the event-bus gauges read of a bus reader.</summary>
internal interface IBusGauges
{
    bool IsConnected { get; }

    int SubscriberCount { get; }
}

/// <summary>
/// The client layer's instruments (System.Diagnostics.Metrics): master round-trips by call, the master's
/// connection, the event bus. Labels are bounded (a call name, an outcome), never a token, a target or a jid.
/// </summary>
internal static class ClientMetrics
{
    public const string MeterName = "SaltApi.Client";

    private static readonly Meter Meter = new(MeterName);

    // The event-bus readers of this process (one per client layer; tests start several).
    private static readonly ConcurrentDictionary<IBusGauges, byte> Buses = new();

    /// <summary>Master round-trips by call (publish, mk_token, get_token, runner, wheel, other) and outcome (ok, error, unavailable, canceled).</summary>
    public static readonly Histogram<double> MasterRequestDuration = Meter.CreateHistogram(
        "saltapi.master.request.duration",
        unit: "s",
        description: "Requests to the master's request channel by call and outcome, and how long they took",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    public static readonly Counter<long> EventsRead = Meter.CreateCounter<long>("saltapi.event_bus.events", description: "Events read from the master event bus");

    public static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>("saltapi.event_bus.dropped", description: "Events not delivered to subscribers that fell behind (each is disconnected)");

    public static readonly Counter<long> SubscribersDropped = Meter.CreateCounter<long>("saltapi.event_bus.subscribers.dropped", description: "Event subscribers (/events, /ws streams) disconnected for falling behind");

    static ClientMetrics()
    {
        Meter.CreateObservableGauge(
            "saltapi.master.connected",
            () => Buses.IsEmpty ? [] : new[] { new Measurement<int>(Buses.Keys.All(b => b.IsConnected) ? 1 : 0) },
            description: "1 while the master event bus is connected, else 0");
        Meter.CreateObservableGauge(
            "saltapi.event_bus.subscribers",
            () => Buses.IsEmpty ? [] : new[] { new Measurement<int>(Buses.Keys.Sum(b => b.SubscriberCount)) },
            description: "Event-bus subscribers (event streams open)");
    }

    public static void Register(IBusGauges bus) => Buses[bus] = 0;

    public static void Unregister(IBusGauges bus) => Buses.TryRemove(bus, out _);

    /// <summary>The bounded label of a master request: its <c>cmd</c>.</summary>
    public static string CallName(IEnumerable<KeyValuePair<string, object?>> load)
    {
        foreach (var (key, value) in load)
        {
            if (key == "cmd")
            {
                return value switch
                {
                    "publish" or "mk_token" or "get_token" or "runner" or "wheel" => (string)value,
                    _ => "other",
                };
            }
        }

        return "other";
    }
}
