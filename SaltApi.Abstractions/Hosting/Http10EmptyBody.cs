using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// A connection step below Kestrel's HTTP parser that reads an HTTP/1.0 POST or PUT with neither
/// <c>Content-Length</c> nor <c>Transfer-Encoding</c> as CherryPy (cheroot) and Tornado read it: a request
/// with an empty body. Kestrel answers such a request 411 before any middleware runs; nginx sends exactly
/// that by default (<c>proxy_pass</c> talks HTTP/1.0 upstream) for a POST without a body (<c>/logout</c>).
/// The head of such a request gets <c>Content-Length: 0</c>; everything else passes untouched, and a
/// connection whose first request is HTTP/1.1 is not looked at again.
/// </summary>
internal sealed class Http10EmptyBody : PipeReader
{
    // Past this, the head is Kestrel's to refuse (its request line and header limits are below it).
    private const int MaxHead = 96 * 1024;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] AddedLength = "Content-Length: 0\r\n\r\n"u8.ToArray();

    private readonly PipeReader inner;
    private Mode mode = Mode.Inspect;

    // The rewritten head (and whatever followed it), served before the inner reader's data.
    private byte[] synthetic = [];
    private int offset;
    private ReadOnlySequence<byte> served;
    private bool servedSynthetic;
    private bool examinedAll;
    private bool innerCompleted;
    private Mode afterSynthetic;

    private Http10EmptyBody(PipeReader inner) => this.inner = inner;

    private enum Mode
    {
        Inspect,
        Synthetic,
        PassThrough,
    }

    /// <summary>The connection middleware: <c>listenOptions.Use(Http10EmptyBody.Use)</c>, after TLS.</summary>
    public static ConnectionDelegate Use(ConnectionDelegate next) => context =>
    {
        var transport = context.Transport;
        context.Transport = new Duplex(new Http10EmptyBody(transport.Input), transport.Output);
        return next(context);
    };

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        servedSynthetic = false;
        return mode switch
        {
            Mode.PassThrough => inner.ReadAsync(cancellationToken),
            Mode.Synthetic => ReadSyntheticAsync(cancellationToken),
            _ => InspectAsync(cancellationToken),
        };
    }

    public override bool TryRead(out ReadResult result)
    {
        servedSynthetic = false;
        switch (mode)
        {
            case Mode.PassThrough:
                return inner.TryRead(out result);
            case Mode.Synthetic when synthetic.Length - offset > 0 && !examinedAll:
                result = new ReadResult(Serve(), false, innerCompleted);
                return true;
            default:
                // At a request's start (or wanting more than the rewritten head): ReadAsync decides.
                result = default;
                return false;
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!servedSynthetic)
        {
            inner.AdvanceTo(consumed, examined);
            return;
        }

        servedSynthetic = false;
        offset += (int)served.Slice(served.Start, consumed).Length;
        examinedAll = served.Slice(served.Start, examined).Length == served.Length;
        if (offset == synthetic.Length)
        {
            mode = afterSynthetic;
            synthetic = [];
            offset = 0;
            examinedAll = false;
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private ReadOnlySequence<byte> Serve()
    {
        served = new ReadOnlySequence<byte>(synthetic, offset, synthetic.Length - offset);
        servedSynthetic = true;
        return served;
    }

    private async ValueTask<ReadResult> ReadSyntheticAsync(CancellationToken cancellationToken)
    {
        if (!examinedAll)
        {
            return new ReadResult(Serve(), false, innerCompleted);
        }

        // Kestrel looked at all of the rewritten bytes and wants more: append what comes next.
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            inner.AdvanceTo(result.Buffer.Start);
            return new ReadResult(Serve(), true, innerCompleted);
        }

        var remaining = synthetic.Length - offset;
        var merged = new byte[remaining + result.Buffer.Length];
        synthetic.AsSpan(offset).CopyTo(merged);
        result.Buffer.CopyTo(merged.AsSpan(remaining));
        inner.AdvanceTo(result.Buffer.End);
        synthetic = merged;
        offset = 0;
        examinedAll = false;
        innerCompleted = result.IsCompleted;
        afterSynthetic = Mode.PassThrough;
        return new ReadResult(Serve(), false, innerCompleted);
    }

    private async ValueTask<ReadResult> InspectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var verdict = Examine(buffer, out var headLength);
            if (verdict == Verdict.Incomplete && !result.IsCompleted && !result.IsCanceled && buffer.Length <= MaxHead)
            {
                // Kestrel would take the request line before the head is whole: wait for all of it.
                inner.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            if (verdict != Verdict.NeedsLength)
            {
                mode = Mode.PassThrough;
                return result;
            }

            // The head without its empty line, Content-Length: 0 and the empty line, then what followed.
            var rest = buffer.Slice(headLength);
            var bytes = new byte[headLength - 2 + AddedLength.Length + rest.Length];
            buffer.Slice(0, headLength - 2).CopyTo(bytes);
            AddedLength.CopyTo(bytes.AsSpan((int)headLength - 2));
            rest.CopyTo(bytes.AsSpan((int)headLength - 2 + AddedLength.Length));
            // With nothing after it, the next byte starts the next request; else leave the rest alone.
            afterSynthetic = rest.IsEmpty ? Mode.Inspect : Mode.PassThrough;
            inner.AdvanceTo(buffer.End);
            synthetic = bytes;
            offset = 0;
            examinedAll = false;
            innerCompleted = result.IsCompleted;
            mode = Mode.Synthetic;
            return new ReadResult(Serve(), false, innerCompleted);
        }
    }

    private enum Verdict
    {
        Incomplete,
        Untouched,
        NeedsLength,
    }

    // The first request's head: an HTTP/1.0 POST or PUT without Content-Length or Transfer-Encoding?
    private static Verdict Examine(ReadOnlySequence<byte> buffer, out long headLength)
    {
        headLength = 0;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySpan<byte> line, (byte)'\n'))
        {
            return Verdict.Incomplete;
        }

        if (!line.EndsWith("HTTP/1.0\r"u8) || !(line.StartsWith("POST "u8) || line.StartsWith("PUT "u8)))
        {
            return Verdict.Untouched;
        }

        reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd, advancePastDelimiter: true))
        {
            return Verdict.Incomplete;
        }

        headLength = reader.Consumed;
        var text = Encoding.Latin1.GetString(head);
        foreach (var header in text.Split("\r\n").Skip(1))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? header : header[..colon];
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return Verdict.Untouched;
            }
        }

        return Verdict.NeedsLength;
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
