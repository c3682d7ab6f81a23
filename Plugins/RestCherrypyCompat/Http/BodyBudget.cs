namespace SaltApi.Plugins.RestCherrypyCompat.Http;

/// <summary>
/// The bytes of request bodies held in memory at once, across every request. Bodies are read before
/// a gate slot is taken (so a slow sender holds no slot) and reserve their bytes as they arrive, not
/// their Content-Length: a trickling client holds only what it has sent. Past the budget a request
/// is a 503, as when the gate is full.
/// </summary>
internal sealed class BodyBudget(long limit)
{
    private long used;

    /// <summary>Bytes held now.</summary>
    public long Used => Interlocked.Read(ref used);

    /// <summary>Reserves <paramref name="bytes"/>; false (nothing reserved) when that would pass the limit.</summary>
    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref used, bytes) <= limit)
        {
            return true;
        }

        Interlocked.Add(ref used, -bytes);
        return false;
    }

    /// <summary>Gives bytes back.</summary>
    public void Release(long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref used, -bytes);
        }
    }
}
