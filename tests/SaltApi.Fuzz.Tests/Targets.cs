using System.Buffers;
using SaltApi.Abstractions.Json;
using SaltApi.Protocol;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// The decoders that read untrusted bytes. Each target runs one input and reports the first exception
/// that is not one of our typed errors (<see cref="SaltProtocolException"/>, <see cref="SaltJsonException"/>).
/// </summary>
internal static class Targets
{
    public static readonly string[] Names = ["msgpack", "reply", "frame", "stream", "json"];

    /// <summary>Runs every target over <paramref name="data"/>; the split seed picks where the event stream is cut.</summary>
    public static IEnumerable<(string Target, Exception Error)> RunAll(byte[] data, int splitSeed = 1)
    {
        foreach (var name in Names)
        {
            if (Run(name, data, splitSeed) is { } e)
            {
                yield return (name, e);
            }
        }
    }

    /// <summary>Runs one target; null when it finished or threw a typed error.</summary>
    public static Exception? Run(string target, byte[] data, int splitSeed = 1)
    {
        try
        {
            switch (target)
            {
                case "msgpack":
                    Msgpack(data);
                    break;
                case "reply":
                    _ = ClearEnvelope.DecodeReply(data);
                    break;
                case "frame":
                    _ = EventFrame.Decode(new ReadOnlySequence<byte>(data));
                    break;
                case "stream":
                    Stream(data, splitSeed);
                    break;
                case "json":
                    Json(data);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(target), target, "unknown target");
            }

            return null;
        }
        catch (SaltProtocolException)
        {
            return null;
        }
        catch (SaltJsonException)
        {
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    // Whatever decodes must write back, and after one pass the bytes are stable: decode(encode(v))
    // encodes to the same bytes in both dialects. (The first pass may normalise: an ext type other
    // than Salt's 78/79 becomes plain bytes, a non-string key becomes its text.)
    private static void Msgpack(byte[] data)
    {
        var value = SaltMsgpack.Deserialize(data);
        foreach (var dialect in new[] { MsgpackDialect.Request, MsgpackDialect.Bus })
        {
            var once = SaltMsgpack.Serialize(SaltMsgpack.Deserialize(SaltMsgpack.Serialize(value, dialect)), dialect);
            var twice = SaltMsgpack.Serialize(SaltMsgpack.Deserialize(once), dialect);
            if (!once.AsSpan().SequenceEqual(twice))
            {
                throw new InvalidDataException($"msgpack round trip ({dialect}) is not stable");
            }
        }
    }

    // A parsed body must write as JSON and parse back to the same text.
    private static void Json(byte[] data)
    {
        var value = SaltJson.Parse(data);
        var once = SaltJson.Serialize(value);
        var twice = SaltJson.Serialize(SaltJson.Parse(System.Text.Encoding.UTF8.GetBytes(once)));
        if (once != twice)
        {
            throw new InvalidDataException("JSON round trip is not stable");
        }
    }

    /// <summary>
    /// Reads the bytes as a bus stream twice: whole, and fed in random pieces (each TryRead sees a
    /// multi-segment buffer, as a pipe gives). Both must give the same events, and every TryRead
    /// must consume bytes when it returns true and none when it returns false.
    /// </summary>
    private static void Stream(byte[] data, int splitSeed)
    {
        var whole = ReadAll([data], out var wholeError);
        var pieces = Split(data, new Random(splitSeed));
        var fed = ReadIncrementally(pieces, out var fedError);
        if (wholeError != fedError || whole.Count != fed.Count)
        {
            throw new InvalidDataException($"stream read whole ({whole.Count} events, error {wholeError}) and in pieces ({fed.Count} events, error {fedError}) differ");
        }

        for (var i = 0; i < whole.Count; i++)
        {
            if (whole[i] != fed[i])
            {
                throw new InvalidDataException($"event {i} differs when the stream is read in pieces");
            }
        }

        if (wholeError)
        {
            throw new SaltProtocolException("stream refused (consistently)");
        }
    }

    internal static List<byte[]> Split(byte[] data, Random rng)
    {
        var pieces = new List<byte[]>();
        var at = 0;
        var most = Math.Max(64, data.Length / 128); // big inputs in socket-sized reads: a re-scan per piece is quadratic
        while (at < data.Length)
        {
            var n = Math.Min(data.Length - at, rng.Next(4) == 0 ? 1 : rng.Next(1, most));
            pieces.Add(data[at..(at + n)]);
            at += n;
        }

        return pieces;
    }

    // Events as comparable text: tag + the data map written in the bus dialect; null for non-events.
    private static List<string?> ReadAll(List<byte[]> pieces, out bool error) => ReadIncrementally([pieces.SelectMany(p => p).ToArray()], out error);

    private static List<string?> ReadIncrementally(List<byte[]> pieces, out bool error)
    {
        var events = new List<string?>();
        error = false;
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
                    var copy = buffer;
                    if (!EventFrame.TryRead(ref buffer, out var evt))
                    {
                        if (buffer.Length != before || !buffer.Equals(copy))
                        {
                            throw new InvalidDataException("TryRead returned false but moved the buffer");
                        }

                        break;
                    }

                    if (buffer.Length >= before)
                    {
                        throw new InvalidDataException("TryRead returned true without consuming bytes");
                    }

                    events.Add(evt is null ? null : evt.Tag + "\n\n" + Convert.ToHexString(SaltMsgpack.Serialize(evt.Data, MsgpackDialect.Bus)));
                }
            }
            catch (SaltProtocolException)
            {
                error = true;
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
}
