using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// Writes log lines in the background, to a file or to the module's log at info. Requests never wait on
/// the disk: at most <see cref="Capacity"/> lines wait to be written; past that a line is dropped and
/// counted, and the count is logged (warning) once the writer has caught up. A file moved away or replaced
/// (logrotate's <c>create</c>) is reopened by its path within a second; one truncated in place
/// (<c>copytruncate</c>) is written on.
/// </summary>
internal sealed class LogLineWriter : IAsyncDisposable
{
    internal const int Capacity = 8192;

    private readonly Channel<string> lines;
    private static readonly TimeSpan RotationCheck = TimeSpan.FromSeconds(1);

    private readonly string? path;
    private readonly ILogger logger;
    private readonly string what;
    private readonly Task pump;
    private FileStream? file;
    private long checkedAt = Environment.TickCount64;
    private long dropped;

    private LogLineWriter(string? path, ILogger logger, string what, int capacity)
    {
        this.path = path;
        file = path is null ? null : Open(path);
        this.logger = logger;
        this.what = what;
        lines = Channel.CreateBounded<string>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        pump = Task.Run(PumpAsync);
    }

    /// <summary>Lines dropped because the writer was behind.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Whether a line would be written (a file, or the module's log at info).</summary>
    public bool Enabled => path is not null || logger.IsEnabled(LogLevel.Information);

    /// <summary>Appends to <paramref name="path"/> (created, with its folder); throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.</summary>
    public static LogLineWriter ToFile(string path, ILogger logger, string what) => new(path, logger, what, Capacity);

    private static FileStream Open(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }

        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
    }

    /// <summary>Writes to <paramref name="logger"/> at info.</summary>
    public static LogLineWriter ToLogger(ILogger logger, string what, int capacity = Capacity) => new(null, logger, what, capacity);

    /// <summary>Queues a line; never blocks. False when it was dropped.</summary>
    public bool Write(string line)
    {
        if (lines.Writer.TryWrite(line))
        {
            return true;
        }

        Interlocked.Increment(ref dropped);
        return false;
    }

    private async Task PumpAsync()
    {
        var buffer = new MemoryStream();
        long reported = 0;
        while (await lines.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (lines.Reader.TryRead(out var line))
            {
                if (file is null)
                {
                    logger.LogInformation("{Line}", line);
                    continue;
                }

                var bytes = Encoding.UTF8.GetBytes(line);
                buffer.Write(bytes);
                buffer.WriteByte((byte)'\n');
                if (buffer.Length >= 64 * 1024)
                {
                    await FlushAsync(buffer).ConfigureAwait(false);
                }
            }

            await FlushAsync(buffer).ConfigureAwait(false);
            var now = Dropped;
            if (now != reported)
            {
                logger.LogWarning("{Count} {What} lines were dropped: the log could not keep up", now - reported, what);
                reported = now;
            }
        }

        await FlushAsync(buffer).ConfigureAwait(false);
    }

    private async Task FlushAsync(MemoryStream buffer)
    {
        if (file is null || buffer.Length == 0)
        {
            return;
        }

        await ReopenIfRotatedAsync().ConfigureAwait(false);
        try
        {
            await file.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)).ConfigureAwait(false);
            await file.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            logger.LogWarning("Could not write the {What} file: {Problem}", what, e.Message);
        }

        buffer.SetLength(0);
    }

    // The path no longer names our file when it is missing or shorter than ours (moved away, a new one
    // created in its place): open the path again. Checked at most once a second.
    private async Task ReopenIfRotatedAsync()
    {
        if (path is null || file is null || Environment.TickCount64 - checkedAt < RotationCheck.TotalMilliseconds)
        {
            return;
        }

        checkedAt = Environment.TickCount64;
        try
        {
            var current = new FileInfo(path);
            if (current.Exists && current.Length >= file.Length)
            {
                return;
            }

            var fresh = Open(path);
            await file.DisposeAsync().ConfigureAwait(false);
            file = fresh;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not reopen the {What} file: {Problem}", what, e.Message);
        }
    }

    /// <summary>Writes what is queued (within 5 s) and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        lines.Writer.TryComplete();
        await pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (file is not null)
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
    }
}
