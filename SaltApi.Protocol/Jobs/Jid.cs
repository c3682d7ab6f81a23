using System.Globalization;

namespace SaltApi.Protocol.Jobs;

/// <summary>Salt job ids: UTC <c>YYYYMMDDhhmmssffffff</c> (spec/01 §8).</summary>
public static class Jid
{
    private static long lastTicks;

    /// <summary>A new jid, strictly increasing within this process (as <c>unique_jid</c> guarantees).</summary>
    public static string New()
    {
        var now = DateTime.UtcNow.Ticks / 10 * 10;
        long ticks;
        long seen;
        do
        {
            seen = Interlocked.Read(ref lastTicks);
            ticks = Math.Max(now, seen + 10);
        }
        while (Interlocked.CompareExchange(ref lastTicks, ticks, seen) != seen);
        return new DateTime(ticks, DateTimeKind.Utc).ToString("yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture);
    }

    /// <summary>Salt's <c>is_jid</c>: 20 digits, optionally followed by <c>_</c> and more.</summary>
    public static bool IsJid(string? s) =>
        s is not null
        && (s.Length == 20 || (s.Length > 20 && s[20] == '_'))
        && s.AsSpan(0, 20).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>The time a jid names, when it names one.</summary>
    public static DateTime? ToTime(string jid) =>
        IsJid(jid) && DateTime.TryParseExact(jid[..20], "yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
}
