using SaltApi.Abstractions.Errors;

namespace SaltApi.Client.Targeting;

/// <summary>The publish options of LocalClient._prep_pub that come from the master config.</summary>
internal static class PrepPub
{
    /// <summary>
    /// As _prep_pub: with <c>ext_job_cache</c> set, every publish also returns to it, appended to the
    /// caller's returners (<c>"mysql"</c> → <c>"mysql,redis"</c>) or alone.
    /// </summary>
    public static object? Ret(object? ret, string extJobCache)
    {
        if (extJobCache.Length == 0)
        {
            return ret;
        }

        return ret switch
        {
            null or "" or false => extJobCache,
            string s => s + "," + extJobCache,
            // Python's `ret += ","...` fails on anything but a string; the caller's mistake, a 400.
            _ => throw new SaltInvocationException("ret must be a comma-separated string of returners"),
        };
    }
}
