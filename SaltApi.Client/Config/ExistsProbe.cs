namespace SaltApi.Client.Config;

/// <summary>
/// <c>File.Exists</c> for the master's files checked on every request past the "master running?" check of
/// NetapiClient (which stays exact: a master that stops is a 503 at once): LocalClient's publish_pull socket and
/// the ZeroMQ transport's note of the running file. For speed, a file seen is taken as still there for
/// <see cref="FreshMs"/>: three stat calls per request were 4 % of the API daemon's CPU per <c>local_async</c>
/// request. A missing file is never remembered, so a master that starts is seen at once.
/// </summary>
internal sealed class ExistsProbe(string path)
{
    /// <summary>How long a file seen is taken as still there, in milliseconds.</summary>
    public const long FreshMs = 50;

    private long seenUntil = long.MinValue;

    public string Path { get; } = path;

    public bool Exists()
    {
        var now = Environment.TickCount64;
        if (now < Volatile.Read(ref seenUntil))
        {
            return true;
        }

        if (!File.Exists(Path))
        {
            return false;
        }

        Volatile.Write(ref seenUntil, now + FreshMs);
        return true;
    }
}
