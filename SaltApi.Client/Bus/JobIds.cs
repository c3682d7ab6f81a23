using System.Buffers;
using System.Globalization;
using SaltApi.Protocol.Jobs;

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

    private static readonly byte[] NewSuffix = "/new"u8.ToArray();

    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();
    private readonly Lock gate = new();

    // Jids naming a time before this may be in use unseen (published before the bus was read, or forgotten).
    private DateTime floor = DateTime.MinValue;
    private string forgottenNewest = "";

    /// <summary>The bus is read (again) from now: jobs announced before may have passed unseen.</summary>
    public void Reading()
    {
        lock (gate)
        {
            var since = time.GetUtcNow().UtcDateTime - TimeZones;
            if (since > floor)
            {
                floor = since;
            }
        }
    }

    /// <summary>A bus event: a job's <c>/new</c> announcement marks its jid in use. No allocation for other tags.</summary>
    public void Observe(in ReadOnlySequence<byte> tag)
    {
        if (tag.Length is < 29 or > 200)
        {
            return; // shorter than salt/job/<20 digits>/new
        }

        Span<byte> bytes = stackalloc byte[(int)tag.Length];
        tag.CopyTo(bytes);
        if (!bytes.EndsWith(NewSuffix))
        {
            return;
        }

        var rest = bytes.StartsWith("salt/job/"u8) || bytes.StartsWith("salt/run/"u8) ? bytes[9..^4]
            : bytes.StartsWith("salt/wheel/"u8) ? bytes[11..^4]
            : [];
        if (rest.Length >= 20 && rest.IndexOf((byte)'/') < 0)
        {
            Add(System.Text.Encoding.ASCII.GetString(rest));
        }
    }

    /// <summary>
    /// Claims a lowstate's jid for a publish: true when it is well-formed and free (and it is then in use);
    /// false otherwise.
    /// </summary>
    public bool TryClaim(string jid)
    {
        if (!WellFormed(jid) || Jid.ToTime(jid) is not { } named)
        {
            return false;
        }

        lock (gate)
        {
            if (named < floor || string.CompareOrdinal(jid[..20], forgottenNewest) <= 0 || seen.Contains(jid))
            {
                return false;
            }

            AddLocked(jid);
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
        if (jid is null || jid.Length < 20 || jid.AsSpan(0, 20).IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            return false;
        }

        if (jid.Length == 20)
        {
            return DateTime.TryParseExact(jid, "yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
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

        return DateTime.TryParseExact(jid[..20], "yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
    }

    private void Add(string jid)
    {
        lock (gate)
        {
            AddLocked(jid);
        }
    }

    private void AddLocked(string jid)
    {
        if (!seen.Add(jid))
        {
            return;
        }

        order.Enqueue(jid);
        if (order.Count > capacity)
        {
            var old = order.Dequeue();
            seen.Remove(old);
            if (string.CompareOrdinal(old[..20], forgottenNewest) > 0)
            {
                forgottenNewest = old[..20];
            }
        }
    }
}
