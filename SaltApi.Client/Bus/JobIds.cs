using System.Buffers;

namespace SaltApi.Client.Bus;

/// <summary>
/// The jids in use that this daemon can vouch for: every job the master announced on its bus
/// (<c>salt/job|run|wheel/&lt;jid&gt;/new</c>) since the bus was read, and every jid a lowstate claimed here.
/// Deliberate difference: Salt publishes a lowstate's <c>jid</c> as given, so any user who may publish could
/// fire an event with any tag (<c>jid: "salt/auth/…"</c>) or overwrite another user's job in the job cache.
/// A lowstate's jid is taken only when it is well-formed (<see cref="WellFormed"/>) and free: not seen here,
/// and naming a time this daemon has watched the bus since (less the 14 hours of time zones, as Salt writes
/// jids in the master's local time), and not older than the newest jid this bounded table has forgotten.
/// </summary>
internal sealed class JobIds(TimeProvider time, int capacity = JobIds.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    /// <summary>The widest distance between a master's local time and UTC (UTC-12 to UTC+14).</summary>
    private static readonly TimeSpan TimeZones = TimeSpan.FromHours(14);

    // A plain jid is kept as the ticks of the time it names (8 bytes, no string per job); one with a suffix
    // (rare: unique_jids) as its text, in a table of its own.
    private readonly HashSet<long> plain = [];
    private readonly Queue<long> plainOrder = new();
    private readonly HashSet<string> suffixed = new(StringComparer.Ordinal);
    private readonly Queue<string> suffixedOrder = new();
    private readonly Lock gate = new();

    // Jids naming a time before this may be in use unseen (published before the bus was read, or forgotten).
    private long floor = long.MinValue;

    /// <summary>The bus is read (again) from now: jobs announced before may have passed unseen.</summary>
    public void Reading()
    {
        var since = (time.GetUtcNow().UtcDateTime - TimeZones).Ticks;
        lock (gate)
        {
            floor = Math.Max(floor, since);
        }
    }

    /// <summary>A bus event: a job's <c>/new</c> announcement marks its jid in use. No allocation for other tags.</summary>
    public void Observe(in ReadOnlySequence<byte> tag)
    {
        if (tag.Length is < 29 or > 200)
        {
            return; // shorter than salt/job/<20 digits>/new
        }

        if (tag.IsSingleSegment)
        {
            Observe(tag.FirstSpan);
            return;
        }

        Span<byte> bytes = stackalloc byte[(int)tag.Length];
        tag.CopyTo(bytes);
        Observe(bytes);
    }

    private void Observe(ReadOnlySpan<byte> tag)
    {
        if (!tag.EndsWith("/new"u8))
        {
            return;
        }

        var rest = tag.StartsWith("salt/job/"u8) || tag.StartsWith("salt/run/"u8) ? tag[9..^4]
            : tag.StartsWith("salt/wheel/"u8) ? tag[11..^4]
            : [];
        if (rest.Length < 20 || rest.IndexOf((byte)'/') >= 0 || Ticks(rest[..20]) is not { } ticks)
        {
            return;
        }

        var suffix = rest.Length == 20 ? null : System.Text.Encoding.UTF8.GetString(rest);
        lock (gate)
        {
            AddLocked(ticks, suffix);
        }
    }

    /// <summary>
    /// A jid the master answered one of our publishes with: in use from now, not only once its <c>/new</c> event is
    /// read from the bus, so that a request right after cannot claim it.
    /// </summary>
    public void Published(string jid)
    {
        if (!WellFormed(jid) || Ticks(jid.AsSpan(0, 20)) is not { } ticks)
        {
            return;
        }

        lock (gate)
        {
            AddLocked(ticks, jid.Length == 20 ? null : jid);
        }
    }

    /// <summary>
    /// Claims a lowstate's jid for a publish: true when it is well-formed and free (and it is then in use);
    /// false otherwise.
    /// </summary>
    public bool TryClaim(string jid)
    {
        if (!WellFormed(jid) || Ticks(jid.AsSpan(0, 20)) is not { } ticks)
        {
            return false;
        }

        var suffix = jid.Length == 20 ? null : jid;
        lock (gate)
        {
            if (ticks < floor || (suffix is null ? plain.Contains(ticks) : suffixed.Contains(suffix)))
            {
                return false;
            }

            AddLocked(ticks, suffix);
            return true;
        }
    }

    /// <summary>
    /// Salt's jid: 20 digits of a time (<c>YYYYMMDDhhmmssffffff</c>), optionally <c>_</c> and a suffix as
    /// <c>unique_jid</c> writes one (here 1–64 letters, digits, <c>_</c> or <c>-</c>: never a <c>/</c>, so never a tag
    /// path of its own).
    /// </summary>
    public static bool WellFormed(string? jid)
    {
        if (jid is null || jid.Length < 20 || Ticks(jid.AsSpan(0, 20)) is null)
        {
            return false;
        }

        if (jid.Length == 20)
        {
            return true;
        }

        if (jid[20] != '_' || jid.Length is < 22 or > 85)
        {
            return false;
        }

        foreach (var c in jid.AsSpan(21))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    // Each table forgets its oldest past its capacity; a jid naming a time not after a forgotten one is refused.
    private void AddLocked(long ticks, string? suffix)
    {
        if (suffix is null ? !plain.Add(ticks) : !suffixed.Add(suffix))
        {
            return;
        }

        if (suffix is null)
        {
            plainOrder.Enqueue(ticks);
            if (plainOrder.Count > capacity)
            {
                var old = plainOrder.Dequeue();
                plain.Remove(old);
                floor = Math.Max(floor, old + 1);
            }
        }
        else
        {
            suffixedOrder.Enqueue(suffix);
            if (suffixedOrder.Count > capacity)
            {
                var old = suffixedOrder.Dequeue();
                suffixed.Remove(old);
                if (Ticks(old.AsSpan(0, 20)) is { } t)
                {
                    floor = Math.Max(floor, t + 1);
                }
            }
        }
    }

    // The time 20 digits name (YYYYMMDDhhmmssffffff), as ticks; null when they name none.
    private static long? Ticks(ReadOnlySpan<byte> digits)
    {
        Span<char> text = stackalloc char[20];
        for (var i = 0; i < 20; i++)
        {
            text[i] = (char)digits[i];
        }

        return Ticks(text);
    }

    private static long? Ticks(ReadOnlySpan<char> d)
    {
        if (d.Length != 20 || d.IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            return null;
        }

        static int N(ReadOnlySpan<char> s)
        {
            var n = 0;
            foreach (var c in s)
            {
                n = (n * 10) + (c - '0');
            }

            return n;
        }

        int year = N(d[..4]), month = N(d[4..6]), day = N(d[6..8]), hour = N(d[8..10]), minute = N(d[10..12]), second = N(d[12..14]);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return null;
        }

        return new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + (N(d[14..]) * 10L);
    }
}
