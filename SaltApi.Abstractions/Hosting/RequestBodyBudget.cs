using Microsoft.AspNetCore.Http;

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
/// Content-Length: a trickling client holds only what it has sent.
/// </summary>
/// <param name="limit">Bytes held at once; past it a read ends with <see cref="RequestBodyOutcome.BudgetSpent"/>.</param>
public sealed class RequestBodyBudget(long limit)
{
    // A body of known length up to this is read straight into its own array.
    private const int SmallBody = 64 * 1024;

    private long used;

    /// <summary>A budget for <paramref name="requests"/> requests (running and queued) each holding a whole body.</summary>
    public static RequestBodyBudget For(long maxRequestBodySize, int requests) =>
        new(Math.Max(maxRequestBodySize, SmallBody) * Math.Max(requests, 1));

    /// <summary>Bytes held now.</summary>
    public long Used => Interlocked.Read(ref used);

    /// <summary>
    /// Reads the whole body within <paramref name="timeout"/>; the listener's body limit gives
    /// <see cref="RequestBodyOutcome.TooLarge"/>. A client that goes away ends the read with
    /// <see cref="OperationCanceledException"/>. Dispose the result once the body is no longer needed.
    /// </summary>
    public async Task<RequestBody> ReadAsync(HttpRequest request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new RequestBody(this);
        var aborted = request.HttpContext.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        try
        {
            var bytes = await ReadAsync(request, body, deadline.Token).ConfigureAwait(false);
            if (bytes is null)
            {
                body.Outcome = RequestBodyOutcome.BudgetSpent;
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

    internal void Release(long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref used, -bytes);
        }
    }

    // The body; null when the budget is spent.
    private static async Task<byte[]?> ReadAsync(HttpRequest request, RequestBody body, CancellationToken cancellationToken)
    {
        // For speed, a small body of known length is read straight into its own array.
        if (request.ContentLength is > 0 and <= SmallBody)
        {
            if (!body.TryReserve(request.ContentLength.Value))
            {
                return null;
            }

            var bytes = new byte[(int)request.ContentLength];
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
            if (!body.TryReserve(got))
            {
                return null;
            }

            buffer.Write(piece, 0, got);
        }

        return buffer.ToArray();
    }
}
