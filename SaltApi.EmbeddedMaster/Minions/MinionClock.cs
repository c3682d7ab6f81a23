using System.Diagnostics;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>
/// The simulated minions' clock: runs each job's work on the thread pool when its latency is over.
/// Why not Task.Delay: .NET timers on Linux compare due times against Environment.TickCount64, which is
/// CLOCK_MONOTONIC_COARSE (4 ms steps), so a 5 ms delay takes 5-9 ms. Here one dedicated thread keeps
/// a bounded priority queue of Stopwatch due times and sleeps with Monitor.Wait, a pthread timed wait
/// that wakes within the millisecond asked for.
/// </summary>
/// <remarks>
/// Work with the same due time runs in scheduling order. When the clock stops (the master's stop token,
/// or Dispose), every waiting item is handed to the thread pool at once; the work sees the token cancelled
/// and ends, as a cancelled Task.Delay did.
/// </remarks>
internal sealed class MinionClock : IDisposable
{
    private readonly object gate = new();
    private readonly PriorityQueue<IThreadPoolWorkItem, (long Due, long Seq)> queue = new();
    private readonly int capacity;
    private readonly Thread thread;
    private readonly CancellationTokenRegistration onStop;
    private readonly Action<IThreadPoolWorkItem> handOver;
    private long seq;
    private bool stopped;

    /// <param name="capacity">The most items waiting at once.</param>
    /// <param name="stop">Stops the clock.</param>
    /// <param name="handOver">Where due work goes (the thread pool; tests record the order instead).</param>
    public MinionClock(int capacity, CancellationToken stop, Action<IThreadPoolWorkItem>? handOver = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
        this.handOver = handOver ?? (static w => ThreadPool.UnsafeQueueUserWorkItem(w, preferLocal: false));
        thread = new Thread(Run) { IsBackground = true, Name = "salt-master minion clock" };
        thread.Start();
        onStop = stop.Register(static s => ((MinionClock)s!).Stop(), this);
    }

    /// <summary>Items waiting for their due time.</summary>
    public int Pending
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool once <paramref name="delay"/> has passed (at once when
    /// it is zero or less, or when the clock has stopped). False when the queue is full: nothing was scheduled.
    /// </summary>
    public bool Schedule(TimeSpan delay, IThreadPoolWorkItem work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (delay <= TimeSpan.Zero)
        {
            handOver(work);
            return true;
        }

        // Bounded to a year, so the timestamp arithmetic cannot overflow.
        var due = Stopwatch.GetTimestamp() + (long)(Math.Min(delay.TotalSeconds, 365 * 86400.0) * Stopwatch.Frequency);
        lock (gate)
        {
            if (!stopped)
            {
                if (queue.Count >= capacity)
                {
                    return false;
                }

                // Wake the clock thread only when this item is due before everything it already waits for.
                var earliest = !queue.TryPeek(out _, out var head) || due < head.Due;
                queue.Enqueue(work, (due, seq++));
                if (earliest)
                {
                    Monitor.Pulse(gate);
                }

                return true;
            }
        }

        handOver(work);
        return true;
    }

    private void Run()
    {
        var due = new List<IThreadPoolWorkItem>();
        while (true)
        {
            bool last;
            lock (gate)
            {
                while (true)
                {
                    if (stopped)
                    {
                        while (queue.TryDequeue(out var w, out _))
                        {
                            due.Add(w);
                        }

                        break;
                    }

                    if (!queue.TryPeek(out _, out var head))
                    {
                        Monitor.Wait(gate);
                        continue;
                    }

                    var now = Stopwatch.GetTimestamp();
                    if (head.Due > now)
                    {
                        // Rounded up: waking a little late is fine, waking early only costs another wait.
                        var ms = (int)Math.Min(int.MaxValue, Math.Ceiling((head.Due - now) * 1000.0 / Stopwatch.Frequency));
                        Monitor.Wait(gate, ms);
                        continue;
                    }

                    while (queue.TryPeek(out _, out head) && head.Due <= now)
                    {
                        due.Add(queue.Dequeue());
                    }

                    break;
                }

                last = stopped;
            }

            // Handed over outside the lock, so Schedule never waits for the thread pool.
            foreach (var w in due)
            {
                handOver(w);
            }

            due.Clear();
            if (last)
            {
                return;
            }
        }
    }

    private void Stop()
    {
        lock (gate)
        {
            stopped = true;
            Monitor.Pulse(gate);
        }
    }

    public void Dispose()
    {
        onStop.Dispose();
        Stop();
    }
}
