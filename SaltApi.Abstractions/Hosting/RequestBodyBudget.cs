using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SaltApi.Abstractions.Hosting;

/// <summary>How reading a request body ended.</summary>
public enum RequestBodyOutcome
{
    /// <summary>The whole body was read.</summary>
    Read,

    /// <summary>Larger than the listener's body limit: 413.</summary>
    TooLarge,

    /// <summary>Not arrived whole in time: 408.</summary>
    TimedOut,

    /// <summary>The module's budget of body bytes held at once is spent: 503, as when every request slot is taken.</summary>
    BudgetSpent,
}

/// <summary>A request body read within a <see cref="RequestBodyBudget"/>; disposing it gives its bytes back.</summary>
public sealed class RequestBody : IDisposable
{
    private readonly RequestBodyBudget budget;
    private long reserved;

    internal RequestBody(RequestBodyBudget budget) => this.budget = budget;

    /// <summary>How the read ended.</summary>
    public RequestBodyOutcome Outcome { get; internal set; }

    /// <summary>The body (empty when there was none); only with <see cref="RequestBodyOutcome.Read"/>.</summary>
    public byte[] Bytes { get; internal set; } = [];

    /// <summary>The HTTP status of a failed read (413, 408, 503); 200 when read.</summary>
    public int StatusCode => Outcome switch
    {
        RequestBodyOutcome.TooLarge => StatusCodes.Status413PayloadTooLarge,
        RequestBodyOutcome.TimedOut => StatusCodes.Status408RequestTimeout,
        RequestBodyOutcome.BudgetSpent => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status200OK,
    };

    internal bool TryReserve(long bytes)
    {
        if (!budget.TryReserve(bytes))
        {
            return false;
        }

        reserved += bytes;
        return true;
    }

    internal async Task<bool> ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        if (!await budget.ReserveAsync(bytes, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        reserved += bytes;
        return true;
    }

    /// <summary>Gives the body's bytes back to the budget.</summary>
    public void Dispose()
    {
        budget.Release(reserved);
        reserved = 0;
    }
}

/// <summary>
/// The bytes of request bodies a module holds in memory at once, across all its requests. A body is read
/// whole before the request takes a slot of the module's own concurrency gate (a slow sender holds a
/// connection, never a slot), within a time bound, reserving its bytes as they arrive rather than its
/// Content-Length: a trickling client, or an idle one that only declared a length, holds only what it has
/// sent. A large body of a request whose token was checked first (<see cref="ReadAsync(HttpRequest, long, bool)"/>)
/// waits for budget instead of failing: the budget bounds the memory, never the size that is accepted.
/// </summary>
/// <param name="limit">Bytes held at once; past it a read ends with <see cref="RequestBodyOutcome.BudgetSpent"/>.</param>
[SuppressMessage("Design", "CA1001", Justification = "The lane's SemaphoreSlim is only awaited: it never makes the wait handle that needs disposing.")]
public sealed class RequestBodyBudget(long limit)
{
    /// <summary>The body limit of a request without a valid token (credentials in the body, or none): 1 MiB, rest_cherrypy's documented default.</summary>
    public const long AnonymousBodyLimit = 1024 * 1024;

    /// <summary>The largest body by default, for a request whose token is valid: CherryPy's own default, which salt-api applies.</summary>
    public const long DefaultMaxBodySize = 100 * 1024 * 1024;

    /// <summary>The slowest a body may arrive on average once past <see cref="BodyTimeout"/>: 512 KiB/s (100 MiB in 200 s).</summary>
    public const int MinBodyRate = 512 * 1024;

    // A body of known length up to this is read straight into its own array.
    private const int SmallBody = 64 * 1024;

    private readonly SemaphoreSlim lane = new(1, 1);
    private TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int waiting;
    private long used;

    /// <summary>
    /// Requests a module's body budget is sized for at most (256 bodies of the anonymous 1 MiB): the waiting
    /// queue may be far longer, but the bytes held at once do not grow with it.
    /// </summary>
    public const int MaxBodiesBudgeted = 256;

    /// <summary>The time a body of up to 1 MiB has to arrive whole.</summary>
    public static TimeSpan BodyTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>A budget for <paramref name="requests"/> requests (running and queued) each holding a whole body.</summary>
    public static RequestBodyBudget For(long maxRequestBodySize, int requests) =>
        new(Math.Max(maxRequestBodySize, SmallBody) * Math.Max(requests, 1));

    /// <summary>
    /// A budget for <paramref name="requests"/> requests each holding a body of the anonymous limit
    /// (<see cref="AnonymousLimit"/>), and never less than one body of <paramref name="maxRequestBodySize"/>:
    /// a large body waits until that much is free.
    /// </summary>
    public static RequestBodyBudget For(long maxRequestBodySize, int requests, bool largeBodiesWait) =>
        largeBodiesWait
            ? new(Math.Max(Math.Max(AnonymousLimit(maxRequestBodySize), SmallBody) * Math.Max(requests, 1), maxRequestBodySize))
            : For(maxRequestBodySize, requests);

    /// <summary>The body limit of a request without a valid token: <paramref name="maxRequestBodySize"/>, at most <see cref="AnonymousBodyLimit"/>.</summary>
    public static long AnonymousLimit(long maxRequestBodySize) => Math.Min(maxRequestBodySize, AnonymousBodyLimit);

    /// <summary>Whether the request's body may be larger than <paramref name="anonymousLimit"/> (a larger Content-Length, or a chunked body): only then is its token worth checking first.</summary>
    public static bool MayExceed(HttpRequest request, long anonymousLimit)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.ContentLength is { } length ? length > anonymousLimit : request.Headers.TransferEncoding.Count > 0;
    }

    /// <summary>The time a body of <paramref name="bytes"/> has: <see cref="BodyTimeout"/>, or longer at <see cref="MinBodyRate"/>.</summary>
    public static TimeSpan Deadline(long bytes) => TimeSpan.FromSeconds(Math.Max(BodyTimeout.TotalSeconds, (double)Math.Max(bytes, 0) / MinBodyRate));

    /// <summary>Bytes held at most.</summary>
    public long Limit => limit;

    /// <summary>Bytes held now.</summary>
    public long Used => Interlocked.Read(ref used);

    /// <summary>
    /// Reads the whole body within <paramref name="timeout"/>; the listener's body limit gives
    /// <see cref="RequestBodyOutcome.TooLarge"/>. A client that goes away ends the read with
    /// <see cref="OperationCanceledException"/>. Dispose the result once the body is no longer needed.
    /// </summary>
    public Task<RequestBody> ReadAsync(HttpRequest request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ReadAsync(request, long.MaxValue, waitForBudget: false, timeout);
    }

    /// <summary>
    /// Reads the whole body, at most <paramref name="maxBytes"/> (the request's own limit, set on the listener
    /// too; <see cref="RequestBodyOutcome.TooLarge"/> past it), within <see cref="Deadline"/> of its size.
    /// With <paramref name="waitForBudget"/> (a request whose token was checked valid before its body is read)
    /// a body the budget cannot hold now waits for budget within that deadline; without it the read ends at
    /// once with <see cref="RequestBodyOutcome.BudgetSpent"/>. Dispose the result once the body is no longer needed.
    /// </summary>
    public Task<RequestBody> ReadAsync(HttpRequest request, long maxBytes, bool waitForBudget)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = maxBytes;
        }

        return ReadAsync(request, maxBytes, waitForBudget, Deadline(request.ContentLength ?? maxBytes));
    }

    private async Task<RequestBody> ReadAsync(HttpRequest request, long maxBytes, bool waitForBudget, TimeSpan timeout)
    {
        var body = new RequestBody(this);
        if (request.ContentLength > maxBytes)
        {
            body.Outcome = RequestBodyOutcome.TooLarge;
            return body;
        }

        var aborted = request.HttpContext.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        try
        {
            var bytes = await ReadAsync(request, body, maxBytes, waitForBudget, deadline.Token).ConfigureAwait(false);
            if (bytes is null)
            {
                body.Outcome = body.Outcome == RequestBodyOutcome.TooLarge ? RequestBodyOutcome.TooLarge : RequestBodyOutcome.BudgetSpent;
            }
            else
            {
                body.Bytes = bytes;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            body.Outcome = RequestBodyOutcome.TimedOut;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body.Outcome = RequestBodyOutcome.TooLarge;
        }

        if (body.Outcome != RequestBodyOutcome.Read)
        {
            // A failed read holds nothing.
            body.Dispose();
        }

        return body;
    }

    /// <summary>Reserves <paramref name="bytes"/>; false (nothing reserved) when that would pass the limit.</summary>
    internal bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref used, bytes) <= limit)
        {
            return true;
        }

        Interlocked.Add(ref used, -bytes);
        return false;
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/>, waiting for others to give bytes back; one request waits at a time
    /// (the others queue behind it), so that two large bodies never each hold half of what the other needs.
    /// False at once when <paramref name="bytes"/> is more than the whole budget.
    /// </summary>
    internal async Task<bool> ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes > limit)
        {
            return false;
        }

        if (Volatile.Read(ref waiting) == 0 && TryReserve(bytes))
        {
            return true;
        }

        await lane.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref waiting);
        try
        {
            while (true)
            {
                var signal = Volatile.Read(ref released).Task;
                if (TryReserve(bytes))
                {
                    return true;
                }

                await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
            lane.Release();
        }
    }

    internal void Release(long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref used, -bytes);
            if (Volatile.Read(ref waiting) > 0)
            {
                Interlocked.Exchange(ref released, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }
    }

    // The body; null when the budget is spent or the body passed maxBytes (then body.Outcome says TooLarge).
    private static async Task<byte[]?> ReadAsync(HttpRequest request, RequestBody body, long maxBytes, bool waitForBudget, CancellationToken cancellationToken)
    {
        // A small body of known length: its bytes are reserved as they arrive (an idle client that only
        // declared a length holds nothing, 4,096 of them declaring 64 KiB emptied a 256 MiB budget), and its
        // array is made once the first bytes are in.
        if (request.ContentLength is > 0 and <= SmallBody && !waitForBudget)
        {
            return await ReadSmallAsync(request, body, (int)request.ContentLength.Value, cancellationToken).ConfigureAwait(false);
        }

        // A large body of known length that may wait: its whole length is reserved first (waiting for budget),
        // then read straight into its own array.
        if (waitForBudget && request.ContentLength is long length and > 0)
        {
            if (!await body.ReserveAsync(length, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var bytes = new byte[length];
            var read = 0;
            int n;
            while (read < bytes.Length && (n = await request.Body.ReadAsync(bytes.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += n;
            }

            return read == bytes.Length ? bytes : bytes[..read];
        }

        // Larger or chunked bodies grow as they arrive (the listener enforces its body limit), each piece
        // reserved first.
        using var buffer = new MemoryStream(4096);
        var piece = new byte[16 * 1024];
        int got;
        while ((got = await request.Body.ReadAsync(piece, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + got > maxBytes)
            {
                body.Outcome = RequestBodyOutcome.TooLarge;
                return null;
            }

            if (!body.TryReserve(got) && !(waitForBudget && await body.ReserveAsync(got, cancellationToken).ConfigureAwait(false)))
            {
                return null;
            }

            buffer.Write(piece, 0, got);
        }

        return buffer.ToArray();
    }

    private static async Task<byte[]?> ReadSmallAsync(HttpRequest request, RequestBody body, int length, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        byte[]? bytes = null;
        var read = 0;
        while (read < length)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = (int)Math.Min(buffer.Length, length - read);
            if (take > 0 && !body.TryReserve(take))
            {
                reader.AdvanceTo(buffer.Start);
                return null;
            }

            if (take > 0)
            {
                bytes ??= new byte[length];
                buffer.Slice(0, take).CopyTo(bytes.AsSpan(read));
                read += take;
            }

            reader.AdvanceTo(buffer.GetPosition(take), buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                break;
            }
        }

        return bytes is null ? [] : read == length ? bytes : bytes[..read];
    }
}
