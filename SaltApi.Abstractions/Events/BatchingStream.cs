using System.Buffers;

namespace SaltApi.Abstractions.Events;

/// <summary>
/// The connection under an event WebSocket (rest_cherrypy's <c>/ws</c>, rest_tornado's <c>/all_events</c> and
/// <c>/formatted_events</c>), able to gather several messages into one write. ASP.NET's WebSocket writes each message
/// to the connection at once, and Kestrel flushes and sends each write: 1,000 streams at 1,000 events/s were a
/// million socket sends a second. Between <see cref="BeginBatch"/> and <see cref="EndBatchAsync"/> the frames go into
/// a pooled buffer (at most <see cref="MaxBatch"/> bytes, then written), and the batch is one write. The frames are
/// the same bytes; only fewer, larger TCP segments carry them. Outside a batch (pings, pongs, close) every write goes
/// through at once. A module gets it from <see cref="BatchingUpgradeFeature"/>.
/// </summary>
public sealed class BatchingStream : Stream
{
    /// <summary>The most bytes held before they are written, batch or not.</summary>
    internal const int MaxBatch = 64 * 1024;

    /// <summary>The first buffer a batch takes; it grows as the batch does.</summary>
    internal const int InitialBatch = 4 * 1024;

    private readonly Stream inner;

    // One write to the connection at a time (the WebSocket's own sends and the end of a batch).
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private byte[]? pending;
    private int pendingLength;
    private bool batching;

    /// <summary>Wraps the upgraded connection <paramref name="inner"/>.</summary>
    public BatchingStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
    }

    /// <summary>Writes of the connection so far (tests: a batch is one write).</summary>
    internal long Writes { get; private set; }

    /// <inheritdoc/>
    public override bool CanRead => inner.CanRead;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => inner.CanWrite;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>From now on, the frames written are held until <see cref="EndBatchAsync"/>.</summary>
    public void BeginBatch() => Volatile.Write(ref batching, true);

    /// <summary>
    /// Writes what the batch holds, in one write, and goes back to writing at once. The stream stops holding frames
    /// even when this is cancelled (a stream ending mid-batch): what is held then goes out ahead of the next write,
    /// so the close frame is never held back.
    /// </summary>
    public async Task EndBatchAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref batching, false);
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WritePendingAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }

    // RS0027 (an optional parameter on an overload with fewer parameters) is about adding overloads to our own
    // API: these two are Stream's own signatures, overridden as they are.
#pragma warning disable RS0027

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref batching) && buffer.Length <= MaxBatch)
            {
                if (pendingLength + buffer.Length > MaxBatch)
                {
                    await WritePendingAsync(cancellationToken).ConfigureAwait(false);
                }

                Reserve(buffer.Length);
                buffer.Span.CopyTo(pending.AsSpan(pendingLength));
                pendingLength += buffer.Length;
                return;
            }

            await WritePendingAsync(cancellationToken).ConfigureAwait(false);
            Writes++;
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }

    // Under writeLock: room for `more` bytes after what is held. The buffer starts small and doubles up to MaxBatch:
    // a hand-off is mostly a few KB, and 1,000 streams may be batching at once.
    private void Reserve(int more)
    {
        var need = pendingLength + more;
        if (pending is { } held && held.Length >= need)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Min(MaxBatch, Math.Max(need, Math.Max(InitialBatch, (pending?.Length ?? 0) * 2))));
        if (pending is { } old)
        {
            old.AsSpan(0, pendingLength).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(old);
        }

        pending = grown;
    }

    // Under writeLock.
    private async ValueTask WritePendingAsync(CancellationToken cancellationToken)
    {
        if (pending is not { } held)
        {
            return;
        }

        var length = pendingLength;
        pending = null;
        pendingLength = 0;
        try
        {
            Writes++;
            await inner.WriteAsync(held.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
#pragma warning restore RS0027

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override void Flush() => inner.Flush();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // The lock and a held buffer are left to the collector: a send may still be waiting on them.
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
