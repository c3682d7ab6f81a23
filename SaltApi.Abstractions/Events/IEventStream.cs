using System.Threading.Channels;
using SaltApi.Abstractions.Json;

namespace SaltApi.Abstractions.Events;

/// <summary>One event of the master bus: its tag and its data map.</summary>
public sealed record SaltEvent(string Tag, IReadOnlyDictionary<string, object?> Data)
{
    // The JSON of the event, made by the first subscriber that asks and shared by all of them (the same
    // instance is handed to every subscription): 1,000 subscribers cost one serialization, not 1,000.
    private byte[]? json;

    /// <summary>The event's tag.</summary>
    public string Tag { get; init { field = value; json = null; } } = Tag;

    /// <summary>The event's data map (read-only once on the bus).</summary>
    public IReadOnlyDictionary<string, object?> Data { get; init { field = value; json = null; } } = Data;

    /// <summary>
    /// The event as Salt's netapi modules write it, <c>json.dumps({"data": …, "tag": …})</c> (the
    /// <c>iter_events(full=True)</c> map, <see cref="SaltJson"/>), in UTF-8. Serialized once, on first use,
    /// and the same immutable bytes returned to every caller.
    /// </summary>
    public ReadOnlyMemory<byte> Utf8Json()
    {
        // A race only serializes twice; both results are the same bytes.
        return Volatile.Read(ref json) ?? Interlocked.CompareExchange(ref json, Serialize(), null) ?? json!;
    }

    /// <summary>Equal when tag and data are (the cached JSON is not part of the value).</summary>
    public bool Equals(SaltEvent? other) =>
        other is not null && string.Equals(Tag, other.Tag, StringComparison.Ordinal) && ReferenceEquals(Data, other.Data);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Tag, Data);

    private byte[] Serialize() => SaltJson.SerializeToUtf8(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["data"] = Data,
        ["tag"] = Tag,
    });
}

/// <summary>The master event bus, read once by the daemon and fanned out to every subscriber.</summary>
public interface IEventStream
{
    /// <summary>
    /// Starts receiving every event from now on. Each subscription has its own bounded queue;
    /// a subscriber that falls too far behind has its reader completed with
    /// <see cref="EventStreamOverflowException"/> rather than silently losing events.
    /// </summary>
    IEventSubscription Subscribe();
}

/// <summary>A live subscription; dispose it to stop receiving.</summary>
public interface IEventSubscription : IDisposable
{
    /// <summary>The events, in bus order.</summary>
    ChannelReader<SaltEvent> Reader { get; }
}

/// <summary>Completes a subscription whose reader fell behind its queue bound.</summary>
public sealed class EventStreamOverflowException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventStreamOverflowException() : base("The event subscriber fell behind and was disconnected.") { }
}
