using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using MessagePack;
using SaltApi.Protocol.Values;

namespace SaltApi.Protocol.Msgpack;

/// <summary>Which of Salt's two msgpack dialects to write (spec/01 §3, spec/02 §2).</summary>
public enum MsgpackDialect
{
    /// <summary>Request channel: <c>use_bin_type=False</c>, strings and bytes in the raw family, never str8.</summary>
    Request,

    /// <summary>Event bus: <c>use_bin_type=True</c>, str8 allowed, bytes as bin.</summary>
    Bus,
}

/// <summary>
/// msgpack as Salt writes and reads it, over a plain value tree: null, bool, long, ulong, double,
/// string, byte[] (raw values that are not UTF-8), DateTime (ext 78), List&lt;object?&gt; and
/// OrderedDictionary&lt;string, object?&gt; (non-string keys become Python's text of them).
/// Everything read is untrusted: depth and collection sizes are bounded, and every failure is a
/// <see cref="SaltProtocolException"/>.
/// </summary>
public static class SaltMsgpack
{
    /// <summary>Salt's ext type for datetime.</summary>
    public const sbyte DateTimeExt = 78;

    /// <summary>Salt's ext type for <c>salt.utils.odict</c>/<c>_Constant</c>.</summary>
    public const sbyte ConstantExt = 79;

    /// <summary>Nesting deeper than this is refused.</summary>
    public const int MaxDepth = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    // One scratch buffer per thread for Serialize(value): the result is copied out, so a message costs
    // one allocation of its exact size instead of a growing buffer (speed; the bytes are the same).
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch2;

    private const int MaxScratchBytes = 64 * 1024;

    /// <summary>Writes a value tree in the given dialect.</summary>
    public static byte[] Serialize(object? value, MsgpackDialect dialect)
    {
        var buffer = RentScratch();
        try
        {
            Serialize(buffer, value, dialect);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            ReturnScratch(buffer);
        }
    }

    /// <summary>One of the thread's two scratch buffers, empty; give it back with <see cref="ReturnScratch"/>.</summary>
    internal static ArrayBufferWriter<byte> RentScratch()
    {
        ArrayBufferWriter<byte> buffer;
        if (scratch is { } a)
        {
            buffer = a;
            scratch = null; // while in use, a nested call gets another one
        }
        else if (scratch2 is { } b)
        {
            buffer = b;
            scratch2 = null;
        }
        else
        {
            buffer = new ArrayBufferWriter<byte>(1024);
        }

        buffer.ResetWrittenCount();
        return buffer;
    }

    internal static void ReturnScratch(ArrayBufferWriter<byte> buffer)
    {
        // A buffer grown by one huge message is not kept.
        if (buffer.Capacity > MaxScratchBytes)
        {
            return;
        }

        if (scratch is null)
        {
            scratch = buffer;
        }
        else
        {
            scratch2 ??= buffer;
        }
    }

    /// <summary>Writes one value at the writer's position, <paramref name="depth"/> levels down (for envelopes built around a value).</summary>
    internal static void WriteValue(ref MessagePackWriter writer, object? value, int depth) => Write(ref writer, value, depth);

    /// <summary>Writes a value tree into <paramref name="buffer"/>.</summary>
    public static void Serialize(IBufferWriter<byte> buffer, object? value, MsgpackDialect dialect)
    {
        var writer = new MessagePackWriter(buffer) { OldSpec = dialect == MsgpackDialect.Request };
        Write(ref writer, value, 0);
        writer.Flush();
    }

    private static void Write(ref MessagePackWriter w, object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new SaltProtocolException("value nested too deeply");
        }

        switch (value)
        {
            case null: w.WriteNil(); break;
            case string s: w.Write(s); break;
            case bool b: w.Write(b); break;
            case long l: w.Write(l); break;
            case int i: w.Write((long)i); break;
            case ulong ul: w.Write(ul); break;
            case uint ui: w.Write((ulong)ui); break;
            case short sh: w.Write((long)sh); break;
            case byte by: w.Write((ulong)by); break;
            case double d: w.Write(d); break;
            case float f: w.Write((double)f); break;
            case decimal m: w.Write((double)m); break;
            case System.Numerics.BigInteger big: w.Write(big.ToString(CultureInfo.InvariantCulture)); break; // Python writes ints >= 2^64 as text
            case byte[] bytes: w.Write(bytes); break;
            case ReadOnlyMemory<byte> mem: w.Write(mem.Span); break;
            case DateTime dt:
                w.WriteExtensionFormat(new ExtensionResult(DateTimeExt, Encoding.ASCII.GetBytes(FormatDateTime(dt))));
                break;
            // The two shapes of nearly every value, written without an enumerator allocation.
            case OrderedDictionary<string, object?> od:
                w.WriteMapHeader(od.Count);
                foreach (var (k, v) in od)
                {
                    w.Write(k);
                    Write(ref w, v, depth + 1);
                }

                break;
            case List<object?> l:
                w.WriteArrayHeader(l.Count);
                foreach (var item in l)
                {
                    Write(ref w, item, depth + 1);
                }

                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                var entries = map as ICollection<KeyValuePair<string, object?>> ?? map.ToList();
                w.WriteMapHeader(entries.Count);
                foreach (var (k, v) in entries)
                {
                    w.Write(k);
                    Write(ref w, v, depth + 1);
                }

                break;
            case IDictionary dict:
                w.WriteMapHeader(dict.Count);
                foreach (DictionaryEntry e in dict)
                {
                    Write(ref w, e.Key, depth + 1);
                    Write(ref w, e.Value, depth + 1);
                }

                break;
            case IEnumerable list:
                var items = list as ICollection ?? list.Cast<object?>().ToList();
                w.WriteArrayHeader(items.Count);
                foreach (var item in items)
                {
                    Write(ref w, item, depth + 1);
                }

                break;
            default:
                w.Write(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>Salt's ext-78 text: <c>%Y%m%dT%H:%M:%S.%f</c>.</summary>
    public static string FormatDateTime(DateTime dt) => dt.ToString("yyyyMMdd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>Reads exactly one msgpack document; trailing bytes are an error.</summary>
    public static object? Deserialize(ReadOnlyMemory<byte> bytes) => Deserialize(new ReadOnlySequence<byte>(bytes));

    /// <summary>Reads exactly one msgpack document; trailing bytes are an error.</summary>
    public static object? Deserialize(ReadOnlySequence<byte> bytes)
    {
        var reader = new MessagePackReader(bytes);
        var value = ReadOne(ref reader);
        if (!reader.End)
        {
            throw new SaltProtocolException("trailing bytes after the msgpack document");
        }

        return value;
    }

    /// <summary>Reads one document from the reader's position.</summary>
    public static object? ReadOne(ref MessagePackReader reader)
    {
        try
        {
            return Read(ref reader, 0);
        }
        catch (SaltProtocolException)
        {
            throw;
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException or ArgumentException or FormatException)
        {
            throw new SaltProtocolException("malformed msgpack: " + e.Message, e);
        }
    }

    private static object? Read(ref MessagePackReader r, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new SaltProtocolException("msgpack nested too deeply");
        }

        switch (r.NextMessagePackType)
        {
            case MessagePackType.Nil:
                r.ReadNil();
                return null;
            case MessagePackType.Boolean:
                return r.ReadBoolean();
            case MessagePackType.Integer:
                if (r.NextCode == MessagePackCode.UInt64)
                {
                    var u = r.ReadUInt64();
                    return u <= long.MaxValue ? (long)u : u;
                }

                return r.ReadInt64();
            case MessagePackType.Float:
                return r.ReadDouble();
            case MessagePackType.String:
                return Text(r.ReadStringSequence() ?? default);
            case MessagePackType.Binary:
                return Text(r.ReadBytes() ?? default);
            case MessagePackType.Array:
            {
                var count = r.ReadArrayHeader();
                Bound(ref r, count);
                var list = new List<object?>(count);
                for (var i = 0; i < count; i++)
                {
                    list.Add(Read(ref r, depth + 1));
                }

                return list;
            }

            case MessagePackType.Map:
            {
                var count = r.ReadMapHeader();
                Bound(ref r, count * 2L);
                var map = new OrderedDictionary<string, object?>(count, StringComparer.Ordinal);
                for (var i = 0; i < count; i++)
                {
                    var key = PyValue.KeyText(Read(ref r, depth + 1));
                    map[key] = Read(ref r, depth + 1);
                }

                return map;
            }

            case MessagePackType.Extension:
            {
                var ext = r.ReadExtensionFormat();
                if (ext.TypeCode == ConstantExt)
                {
                    // The payload is a msgpack document of its own: read it in place, one level deeper.
                    var inner = new MessagePackReader(ext.Data);
                    var constant = Read(ref inner, depth + 1);
                    return inner.End ? constant : throw new SaltProtocolException("trailing bytes in an ext 79 payload");
                }

                var data = ext.Data.ToArray();
                if (ext.TypeCode == DateTimeExt && TryParseDateTime(Encoding.ASCII.GetString(data), out var dt))
                {
                    return dt;
                }

                return data;
            }

            default:
                throw new SaltProtocolException($"unknown msgpack code 0x{r.NextCode:x2}");
        }
    }

    // A header cannot announce more elements than bytes remain: stops a 5-byte message from
    // allocating gigabytes.
    private static void Bound(ref MessagePackReader r, long count)
    {
        if (count > r.Sequence.Length - r.Consumed)
        {
            throw new SaltProtocolException("msgpack collection larger than its message");
        }
    }

    /// <summary>As Salt's decode_embedded_strs: valid UTF-8 becomes text, anything else stays bytes.</summary>
    private static object Text(ReadOnlySequence<byte> seq)
    {
        var bytes = seq.IsSingleSegment ? seq.FirstSpan : seq.ToArray();
        if (SaltWords.Find(bytes) is { } word)
        {
            return word;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return bytes.ToArray();
        }
    }

    private static bool TryParseDateTime(string text, out DateTime dt) =>
        DateTime.TryParseExact(text, ["yyyyMMdd'T'HH:mm:ss.ffffff", "yyyyMMdd'T'HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out dt);
}

/// <summary>Bytes from a socket that are not what Salt's protocol allows.</summary>
public sealed class SaltProtocolException(string message, Exception? inner = null) : Exception(message, inner);
