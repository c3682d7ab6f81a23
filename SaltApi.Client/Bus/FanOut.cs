using SaltApi.Abstractions.Events;
using SaltApi.Client.Diagnostics;

namespace SaltApi.Client.Bus;

/// <summary>
/// The hand-off of events to the <see cref="IEventStream"/> subscribers, paced. Posting each event to each
/// subscription as it is read wakes every stream's writer once per event: 1,000 streams at 1,000 events/s are a
/// million wake-ups, flushes and socket sends a second. Instead the events read are gathered, in bus order, and
/// handed to every subscription together, at most once per <c>event_batch_ms</c> while they keep coming: the
/// first event after a quiet spell goes at once, later ones wait at most that long, and each stream's writer
/// wakes once for all of them and sends them in one write. Calls waiting on a job (the jid routes) are not
/// paced. The gathering is bounded (<see cref="MaxGathered"/> events hand off at once), and each subscription
/// keeps its own bound (<c>event_queue</c>) as before.
/// </summary>
internal sealed partial class EventBusReader
{
    /// <summary>Events gathered before they are handed off even within the interval.</summary>
    internal const int MaxGathered = 1024;

    private readonly Lock fanOutLock = new();
    private readonly List<SaltEvent> gathered = [];
    private readonly TimeProvider fanOutTime;

    // event_batch_ms in fanOutTime's timestamp ticks.
    private readonly long handOffTicks;
    private ITimer? handOffTimer;
    private bool timerArmed;

    // Events handed to the gathering so far (the sequence number of gathered[0] is this minus gathered.Count).
    private long gatheredUpTo;
    private long lastHandOff = long.MinValue / 2;

    /// <summary>Hand-offs so far (tests: events fired together arrive together).</summary>
    internal long HandOffs { get; private set; }

    /// <summary>The timer will hand off what is gathered (tests).</summary>
    internal bool HandOffArmed
    {
        get
        {
            lock (fanOutLock)
            {
                return timerArmed;
            }
        }
    }

    /// <summary>Events gathered for the next hand-off (tests).</summary>
    internal int Gathered
    {
        get
        {
            lock (fanOutLock)
            {
                return gathered.Count;
            }
        }
    }

    /// <summary>The sequence number the next gathered event will have (a new subscription starts there).</summary>
    private long NextSequence()
    {
        lock (fanOutLock)
        {
            return gatheredUpTo;
        }
    }

    /// <summary>Adds one event (on the reader's task) for the next hand-off; with no pacing, hands it off at once.</summary>
    private void Gather(SaltEvent e)
    {
        lock (fanOutLock)
        {
            gathered.Add(e);
            gatheredUpTo++;
            if (handOffTicks == 0 || gathered.Count >= MaxGathered)
            {
                HandOffLocked(fanOutTime.GetTimestamp());
            }
        }
    }

    /// <summary>
    /// After each read of the bus: hands off what was gathered if the last hand-off is at least the interval
    /// old, otherwise makes sure the timer will.
    /// </summary>
    private void HandOffOrArm()
    {
        lock (fanOutLock)
        {
            if (gathered.Count == 0)
            {
                return;
            }

            var now = fanOutTime.GetTimestamp();
            var due = lastHandOff + handOffTicks - now;
            if (due <= 0)
            {
                HandOffLocked(now);
            }
            else if (!timerArmed)
            {
                timerArmed = true;
                handOffTimer ??= fanOutTime.CreateTimer(static s => ((EventBusReader)s!).OnHandOffTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                handOffTimer.Change(fanOutTime.GetElapsedTime(0, due), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnHandOffTimer()
    {
        lock (fanOutLock)
        {
            timerArmed = false;
            if (gathered.Count > 0)
            {
                HandOffLocked(fanOutTime.GetTimestamp());
            }
        }
    }

    /// <summary>Posts what was gathered to every subscription, in order; one that cannot take it all is dropped.</summary>
    private void HandOffLocked(long now)
    {
        var first = gatheredUpTo - gathered.Count;
        List<Subscription>? dropped = null;
        foreach (var s in Volatile.Read(ref subscribers))
        {
            // Only what came after it subscribed (it may have joined while events were gathered).
            for (var i = (int)Math.Max(0, s.From - first); i < gathered.Count; i++)
            {
                if (!s.Post(gathered[i]))
                {
                    if (!s.Disposed)
                    {
                        (dropped ??= []).Add(s);
                        ClientMetrics.EventsDropped.Add(gathered.Count - i);
                        ClientMetrics.SubscribersDropped.Add(1);
                    }

                    break;
                }
            }
        }

        gathered.Clear();
        if (gathered.Capacity > MaxGathered)
        {
            gathered.Capacity = MaxGathered;
        }

        lastHandOff = now;
        HandOffs++;
        foreach (var s in dropped ?? [])
        {
            LogSubscriberDropped(log, options.EventQueue);
            Unsubscribe(s);
        }
    }

    private void DisposeFanOut()
    {
        lock (fanOutLock)
        {
            handOffTimer?.Dispose();
            handOffTimer = null;
            gathered.Clear();
        }
    }
}
