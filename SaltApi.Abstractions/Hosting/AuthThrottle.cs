using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// Where requests that carry credentials (a login, eauth lowstates) wait for the master's verdict, instead of
/// a slot of the module's <see cref="RequestGate"/>: a failed login is held by the master through Salt's
/// anti-timing delay (LoadAuth.time_auth, about 1 s), and a flood of failures holding request slots starved
/// every other request. At most <c>maxInFlight</c> such checks run at once (beyond that 503 at once). A client
/// address whose last attempts failed is slowed: its attempts run one at a time (each refusal taking the
/// master's anti-timing delay), so it holds at most one check; at most 16 of its attempts wait (30 s at most),
/// the rest are refused at once. An address that sends one attempt at a time is never held back. The table of
/// addresses is bounded (10,000; the address whose last failure is oldest makes room), and a failure is
/// forgotten after 10 minutes or at the next success.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "Its SemaphoreSlims are only awaited: they never make the wait handle that needs disposing.")]
public sealed class AuthThrottle(int maxInFlight, TimeProvider? time = null)
{
    /// <summary>Failures of an address after which its attempts are slowed.</summary>
    public const int FailuresBeforeSlowing = 3;

    /// <summary>Attempts of a slowed address that may wait; more are refused at once.</summary>
    public const int MaxWaitingPerAddress = 16;

    /// <summary>Addresses remembered at most.</summary>
    public const int MaxAddresses = 10_000;

    private static readonly TimeSpan Forget = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly SemaphoreSlim inFlight = new(Math.Max(maxInFlight, 1), Math.Max(maxInFlight, 1));
    private readonly Dictionary<IPAddress, Entry> table = [];
    private readonly Lock gate = new();

    /// <summary>Addresses in the table now.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return table.Count;
            }
        }
    }

    /// <summary>
    /// Waits for the turn of an attempt from <paramref name="address"/>; null when it is refused (503): every check
    /// is taken, or its address is slowed and already has <see cref="MaxWaitingPerAddress"/> attempts waiting, or
    /// it waited 30 s. Report the verdict on the attempt and dispose it when the master has answered.
    /// </summary>
    public async Task<AuthAttempt?> EnterAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        var key = address is null ? IPAddress.None : SaltApi.Abstractions.Access.ClientAddress.Unmapped(address);
        Entry? entry;
        bool slowed;
        lock (gate)
        {
            entry = EntryOf(key);
            if (entry is null)
            {
                return null;
            }

            if (entry.Failures > 0 && clock.GetUtcNow() - entry.LastFailure > Forget)
            {
                entry.Failures = 0;
            }

            if (entry.Failures < FailuresBeforeSlowing)
            {
                entry.Users++;
                slowed = false;
            }
            else if (entry.Waiting >= MaxWaitingPerAddress)
            {
                return null;
            }
            else
            {
                entry.Users++;
                entry.Waiting++;
                slowed = true;
            }
        }

        var lane = false;
        var slot = false;
        AuthAttempt? attempt = null;
        try
        {
            if (slowed)
            {
                using var bounded = new CancellationTokenSource(MaxWait, clock);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bounded.Token);
                try
                {
                    // One attempt of a slowed address at a time.
                    lane = await entry.Lane.WaitAsync(MaxWait, linked.Token).ConfigureAwait(false);
                    if (!lane)
                    {
                        return null;
                    }
                }
                catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return null;
                }
                finally
                {
                    lock (gate)
                    {
                        entry.Waiting--;
                    }
                }
            }

            slot = await inFlight.WaitAsync(0, cancellationToken).ConfigureAwait(false);
            if (slot)
            {
                attempt = new AuthAttempt(this, key, entry, lane);
            }

            return attempt;
        }
        finally
        {
            if (attempt is null)
            {
                // Refused or cancelled: what was taken is given back here.
                if (lane)
                {
                    entry.Lane.Release();
                }

                if (slot)
                {
                    inFlight.Release();
                }

                Abandon(key, entry);
            }
        }
    }

    internal void Exit(IPAddress key, Entry entry, bool lane, bool? failed)
    {
        if (lane)
        {
            entry.Lane.Release();
        }

        inFlight.Release();
        lock (gate)
        {
            if (failed == true)
            {
                entry.Failures = Math.Min(entry.Failures + 1, 64);
                entry.LastFailure = clock.GetUtcNow();
            }
            else if (failed == false)
            {
                entry.Failures = 0;
            }

            entry.Users--;
            if (entry.Users == 0 && entry.Failures == 0)
            {
                table.Remove(key);
            }
        }
    }

    private void Abandon(IPAddress key, Entry entry)
    {
        lock (gate)
        {
            entry.Users--;
            if (entry.Users == 0 && entry.Failures == 0)
            {
                table.Remove(key);
            }
        }
    }

    // The address's entry, made when missing; null when the table is full of addresses in use.
    private Entry? EntryOf(IPAddress key)
    {
        if (table.TryGetValue(key, out var entry))
        {
            return entry;
        }

        if (table.Count >= MaxAddresses)
        {
            // Room: the idle address whose last failure is oldest.
            IPAddress? oldest = null;
            var oldestTime = DateTimeOffset.MaxValue;
            foreach (var (k, e) in table)
            {
                if (e.Users == 0 && e.LastFailure < oldestTime)
                {
                    (oldest, oldestTime) = (k, e.LastFailure);
                }
            }

            if (oldest is null)
            {
                return null;
            }

            table.Remove(oldest);
        }

        entry = new Entry();
        table[key] = entry;
        return entry;
    }

    internal sealed class Entry
    {
        public SemaphoreSlim Lane { get; } = new(1, 1);

        public int Failures { get; set; }

        public DateTimeOffset LastFailure { get; set; }

        // Attempts holding or waiting for a turn: the entry stays while any does.
        public int Users { get; set; }

        public int Waiting { get; set; }
    }
}

/// <summary>One credential check's turn (<see cref="AuthThrottle.EnterAsync"/>): say how it ended, then dispose it.</summary>
public sealed class AuthAttempt : IDisposable
{
    private readonly AuthThrottle throttle;
    private readonly IPAddress key;
    private readonly AuthThrottle.Entry entry;
    private readonly bool lane;
    private bool? failed;
    private int disposed;

    internal AuthAttempt(AuthThrottle throttle, IPAddress key, AuthThrottle.Entry entry, bool lane)
    {
        (this.throttle, this.key, this.entry, this.lane) = (throttle, key, entry, lane);
    }

    /// <summary>The credentials were refused (401): the address's attempts are slowed after a few.</summary>
    public void Failed() => failed = true;

    /// <summary>The credentials were accepted: the address's failures are forgotten.</summary>
    public void Succeeded() => failed ??= false;

    /// <summary>Gives the turn back.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            if (failed == true)
            {
                NetapiMetrics.LoginsFailed.Add(1, NetapiMetrics.Module());
            }

            throttle.Exit(key, entry, lane, failed);
        }
    }
}
