using System.Threading.Channels;

namespace SaltApi.Abstractions.Events;

/// <summary>One event of the master bus: its tag and its data map.</summary>
public sealed record SaltEvent(string Tag, IReadOnlyDictionary<string, object?> Data);

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
