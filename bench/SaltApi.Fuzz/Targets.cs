using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Formats;
using SaltApi.NetapiKit.WebSockets;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;
using SaltApi.Protocol;

namespace SaltApi.Fuzz;

/// <summary>A property of a target that an input broke: the fuzzer reports it as a crash.</summary>
public sealed class FuzzPropertyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One target per parser of untrusted bytes. A target returns normally when the parser produced a
/// value or refused the input with its documented error (the one the daemon turns into a 4xx or a
/// dropped frame); anything else escapes and is a crash.
/// </summary>
public static class Targets
{
    /// <summary>The targets by name, as fuzz.sh and the corpus folders call them.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["json"] = Json,
        ["yaml"] = YamlBody,
        ["form"] = Form,
        ["msgpack"] = Msgpack,
        ["frame"] = Frame,
        ["ws"] = WebSocketInput,
        ["tornado"] = TornadoTarget.Run,
    };

    /// <summary>A request body as JSON (SaltJson): a value that writes back stably, or SaltJsonException.</summary>
    public static void Json(byte[] data)
    {
        object? value;
        try
        {
            value = SaltJson.Parse(data);
        }
        catch (SaltJsonException)
        {
            return;
        }

        var once = SaltJson.Serialize(value);
        object? again;
        try
        {
            again = SaltJson.Parse(Encoding.UTF8.GetBytes(once));
        }
        catch (SaltJsonException) when (once.Contains("NaN", StringComparison.Ordinal) || once.Contains("Infinity", StringComparison.Ordinal))
        {
            // Known: 1e400 reads as infinity and writes as Python's bare Infinity, which our parser
            // refuses (Python's json.loads accepts NaN and Infinity). Recorded in bench/fuzz/README.md.
            return;
        }

        if (once != SaltJson.Serialize(again))
        {
            throw new FuzzPropertyException("JSON round trip is not stable");
        }

        // rest_cherrypy shapes the body into a lowstate next.
        _ = Lowstate.Shape(value);
    }

    /// <summary>A request body as YAML, through rest_cherrypy's body parser: a value, or a 400.</summary>
    public static void YamlBody(byte[] data)
    {
        var value = Body("application/x-yaml", data);
        Respond(Lowstate.Shape(value));
    }

    /// <summary>
    /// A form body through rest_cherrypy's parser (unquoting, repeated keys, yamlified arg/kwarg), its
    /// values through the client layer's yamlify, and the same text as a query string.
    /// </summary>
    public static void Form(byte[] data)
    {
        var value = Body("application/x-www-form-urlencoded", data);
        Respond(Lowstate.Shape(value));
        if (value is OrderedDictionary<string, object?> map)
        {
            foreach (var (_, v) in map)
            {
                foreach (var s in v is List<object?> l ? l.OfType<string>() : v is string one ? [one] : [])
                {
                    _ = SaltApi.Client.Runner.RunnerYamlify.Arg(s);
                }
            }
        }

        _ = QueryHelpers.ParseQuery("?" + Encoding.UTF8.GetString(data));
    }

    /// <summary>
    /// msgpack from the master (a reply payload): a value that writes back stably in both dialects,
    /// or SaltProtocolException.
    /// </summary>
    public static void Msgpack(byte[] data)
    {
        object? value;
        try
        {
            value = ClearEnvelope.DecodeReply(data);
        }
        catch (SaltProtocolException)
        {
            return;
        }

        foreach (var dialect in new[] { MsgpackDialect.Request, MsgpackDialect.Bus })
        {
            var once = SaltMsgpack.Serialize(SaltMsgpack.Deserialize(SaltMsgpack.Serialize(value, dialect)), dialect);
            var twice = SaltMsgpack.Serialize(SaltMsgpack.Deserialize(once), dialect);
            if (!once.AsSpan().SequenceEqual(twice))
            {
                throw new FuzzPropertyException($"msgpack round trip ({dialect}) is not stable");
            }
        }

        Respond(value);
    }

    /// <summary>
    /// The event bus stream: read as the client's bus reader does (frames, then the tag and the data
    /// decoded on demand), whole and again in small pieces; both readings must agree.
    /// </summary>
    public static void Frame(byte[] data)
    {
        var whole = ReadStream([data], out var wholeRefused);
        var pieces = new List<byte[]>();
        for (var at = 0; at < data.Length; at += 7)
        {
            pieces.Add(data[at..Math.Min(data.Length, at + 7)]);
        }

        var fed = ReadStream(pieces, out var fedRefused);
        if (wholeRefused != fedRefused || !whole.SequenceEqual(fed, StringComparer.Ordinal))
        {
            throw new FuzzPropertyException($"the stream read whole ({whole.Count} events, refused {wholeRefused}) and in pieces ({fed.Count}, refused {fedRefused}) differ");
        }

        try
        {
            if (EventFrame.Decode(new ReadOnlySequence<byte>(data)) is { } evt)
            {
                Respond(evt.Data);
            }
        }
        catch (SaltProtocolException)
        {
        }
    }

    /// <summary>
    /// Client bytes on a <c>/ws</c> socket: the framework's frame reader under our message loop. The
    /// loop ends when the input does; it may only refuse with WebSocketException.
    /// </summary>
    public static void WebSocketInput(byte[] data)
    {
        using var stream = new OneWayStream(data);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        try
        {
            // The input is all there: a loop still waiting after the bound waits for nothing.
            WebSocketMessages.ReceiveAsync(ws, WebSocketMessages.MaxMessage, () => { }, () => Task.CompletedTask, CancellationToken.None)
                .WaitAsync(Bounds.Time).GetAwaiter().GetResult();
        }
        catch (WebSocketException)
        {
        }
    }

    private static object? Body(string contentType, byte[] data)
    {
        try
        {
            return BodyParser.Parse(contentType, data);
        }
        catch (HttpError e) when (e.Status is >= 400 and < 500)
        {
            return null;
        }
    }

    // What the daemon does with a parsed value: write it back as JSON and as YAML.
    private static void Respond(object? value)
    {
        _ = SaltJson.Serialize(value);
        _ = Yaml.Dump(value);
    }

    private static List<string> ReadStream(List<byte[]> pieces, out bool refused)
    {
        var events = new List<string>();
        refused = false;
        var pending = new List<byte[]>();
        foreach (var piece in pieces)
        {
            pending.Add(piece);
            var buffer = Segments.Of(pending);
            try
            {
                while (true)
                {
                    var before = buffer.Length;
                    if (!EventFrame.TryReadFrame(ref buffer, out var frame))
                    {
                        if (buffer.Length != before)
                        {
                            throw new FuzzPropertyException("TryReadFrame returned false but consumed bytes");
                        }

                        break;
                    }

                    if (buffer.Length >= before)
                    {
                        throw new FuzzPropertyException("TryReadFrame returned true without consuming bytes");
                    }

                    events.Add(ReadEvent(frame));
                }
            }
            catch (SaltProtocolException)
            {
                refused = true;
                return events;
            }

            var rest = buffer.ToArray();
            pending.Clear();
            if (rest.Length > 0)
            {
                pending.Add(rest);
            }
        }

        return events;
    }

    // As the bus reader: the tag first, the data only when someone wants it; a bad data map is skipped.
    private static string ReadEvent(ReadOnlySequence<byte> frame)
    {
        if (!EventFrame.TryParse(frame, out var raw))
        {
            return "-";
        }

        var tag = raw.Tag;
        try
        {
            var data = raw.DecodeData();
            return tag + "\n" + (data is null ? "null" : Convert.ToHexString(SaltMsgpack.Serialize(data, MsgpackDialect.Bus)));
        }
        catch (SaltProtocolException)
        {
            return tag + "\nrefused";
        }
    }
}

/// <summary>A multi-segment sequence over a list of arrays, as a pipe hands a reader.</summary>
public sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long index)
    {
        Memory = memory;
        RunningIndex = index;
    }

    /// <summary>The arrays as one sequence, empty arrays left out.</summary>
    public static ReadOnlySequence<byte> Of(IReadOnlyList<byte[]> arrays)
    {
        var nonEmpty = arrays.Where(a => a.Length > 0).ToList();
        if (nonEmpty.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segments(nonEmpty[0], 0);
        var last = first;
        foreach (var a in nonEmpty.Skip(1))
        {
            var next = new Segments(a, last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}

/// <summary>The client's side of a socket: reads give the input, then end of stream; writes vanish.</summary>
internal sealed class OneWayStream(byte[] input) : Stream
{
    private int position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, input.Length - position);
        input.AsSpan(position, n).CopyTo(buffer);
        position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count)
    {
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
