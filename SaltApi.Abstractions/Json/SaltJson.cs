using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Parsing;
using SaltApi.PythonValues;

namespace SaltApi.Abstractions.Json;

/// <summary>
/// JSON as Salt's netapi modules write and read it: Python's <c>json.dumps(..., ensure_ascii=False)</c>
/// (separators <c>", "</c> and <c>": "</c>, key order kept, raw UTF-8, shortest float repr), and
/// request bodies parsed into the plain value trees <see cref="Client.INetapiClient"/> takes.
/// </summary>
public static class SaltJson
{
    /// <summary>The deepest nesting a request body may have; deeper input is a 400, never a stack overflow.</summary>
    public const int MaxDepth = InputLimits.MaxDepth;

    private const int MaxIntDigits = InputLimits.MaxIntDigits;

    // A builder kept per thread: a response is written without growing a new one (its chunks were ~30 % of the
    // bytes a GET / allocated). Builders that grew past this many characters are dropped, not kept.
    private const int MaxKeptChars = 32 * 1024;

    [ThreadStatic]
    private static StringBuilder? keptBuilder;

    /// <summary>Serializes a value tree the way Python's json.dumps does.</summary>
    public static string Serialize(object? value)
    {
        var sb = RentBuilder();
        try
        {
            Write(sb, value, 0);
            return sb.ToString();
        }
        finally
        {
            ReturnBuilder(sb);
        }
    }

    /// <summary>
    /// Serializes a value tree as <see cref="Serialize"/> into an HTTP response: sets Content-Length (bytes)
    /// and, unless <paramref name="withBody"/> is false (HEAD), encodes the text straight into the response's
    /// buffers; the caller flushes. Nothing is set when the value cannot be serialized (the exception of
    /// <see cref="Serialize"/>). No string or byte array per response.
    /// </summary>
    public static void WriteTo(HttpResponse response, object? value, bool withBody = true)
    {
        ArgumentNullException.ThrowIfNull(response);
        var sb = RentBuilder();
        try
        {
            Write(sb, value, 0);
            ReadOnlyMemory<char> text = default;
            var chunks = 0;
            foreach (var chunk in sb.GetChunks())
            {
                text = chunk;
                chunks++;
            }

            if (chunks > 1)
            {
                // A builder that grew this time holds several chunks (a surrogate pair may straddle two): one
                // string then. Kept, it is one chunk from the next response on.
                text = sb.ToString().AsMemory();
            }

            response.ContentLength = Encoding.UTF8.GetByteCount(text.Span);
            if (withBody)
            {
                Encoding.UTF8.GetBytes(text.Span, response.BodyWriter);
            }
        }
        finally
        {
            ReturnBuilder(sb);
        }
    }

    private static StringBuilder RentBuilder()
    {
        var sb = keptBuilder;
        keptBuilder = null;
        return sb ?? new StringBuilder(256);
    }

    private static void ReturnBuilder(StringBuilder sb)
    {
        if (sb.Capacity <= MaxKeptChars)
        {
            sb.Clear();
            keptBuilder = sb;
        }
    }

    /// <summary>Serializes to UTF-8 bytes.</summary>
    public static byte[] SerializeToUtf8(object? value) => Encoding.UTF8.GetBytes(Serialize(value));

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        if (depth > 512)
        {
            throw new InvalidOperationException("value nested too deeply to serialize");
        }

        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case double d:
                sb.Append(FormatFloat(d));
                break;
            case float f:
                sb.Append(FormatFloat(f));
                break;
            case long or int or short or sbyte or ulong or uint or ushort or byte or System.Numerics.BigInteger:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case decimal m:
                sb.Append(FormatFloat((double)m));
                break;
            case byte[] bytes:
                // Python's json cannot encode bytes at all (a 500 in salt-api); we never fail on them.
                WriteString(sb, Encoding.UTF8.GetString(bytes));
                break;
            case DateTime dt:
                WriteString(sb, dt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                WriteMap(sb, map, depth);
                break;
            case IDictionary dict:
                sb.Append('{');
                var firstKey = true;
                foreach (DictionaryEntry e in dict)
                {
                    if (!firstKey)
                    {
                        sb.Append(", ");
                    }

                    firstKey = false;
                    WriteString(sb, KeyText(e.Key));
                    sb.Append(": ");
                    Write(sb, e.Value, depth + 1);
                }

                sb.Append('}');
                break;
            case IEnumerable list:
                sb.Append('[');
                var first = true;
                foreach (var item in list)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    Write(sb, item, depth + 1);
                }

                sb.Append(']');
                break;
            default:
                WriteString(sb, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
                break;
        }
    }

    private static void WriteMap(StringBuilder sb, IEnumerable<KeyValuePair<string, object?>> map, int depth)
    {
        sb.Append('{');
        var first = true;
        foreach (var (k, v) in map)
        {
            if (!first)
            {
                sb.Append(", ");
            }

            first = false;
            WriteString(sb, k);
            sb.Append(": ");
            Write(sb, v, depth + 1);
        }

        sb.Append('}');
    }

    /// <summary>Python's json turns non-string keys into text: <c>1</c> → "1", True → "true", None → "null".</summary>
    public static string KeyText(object? key) => PyScalar.KeyText(key);

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>Python's <c>repr(float)</c> as json.dumps writes it (NaN and Infinity bare).</summary>
    public static string FormatFloat(double d) => PyScalar.JsonFloat(d);

    /// <summary>
    /// Parses a request body into plain values (ordered maps, lists, long/double, strings, bools, null).
    /// Throws <see cref="SaltJsonException"/> with a message in the form Python's json module uses.
    /// </summary>
    public static object? Parse(ReadOnlySpan<byte> utf8)
    {
        utf8 = WithoutBom(utf8);
        var reader = Reader(utf8);
        try
        {
            if (!reader.Read())
            {
                throw new SaltJsonException("Expecting value: line 1 column 1 (char 0)");
            }

            var budget = InputLimits.MaxNodes;
            var value = ReadValue(ref reader, ref budget);
            if (reader.Read())
            {
                throw new JsonException("extra data");
            }

            return value;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new SaltJsonException(PythonJsonErrors.Describe(utf8));
        }
    }

    /// <summary>
    /// The items of a top-level JSON array, counted up to <paramref name="limit"/> + 1 without building anything,
    /// with the reader <see cref="Parse"/> uses (a UTF-8 BOM skipped as it skips it); 0 when the body is not an
    /// array or not JSON (<see cref="Parse"/> then says why).
    /// </summary>
    public static int CountArrayItems(ReadOnlySpan<byte> utf8, int limit)
    {
        var reader = Reader(WithoutBom(utf8));
        var count = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return 0;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (++count > limit)
                {
                    return count;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return 0;
        }

        return count;
    }

    // As Python's json.loads of a decoded body: a leading UTF-8 BOM is not part of the document.
    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) => utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8;

    private static Utf8JsonReader Reader(ReadOnlySpan<byte> utf8) =>
        new(utf8, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });

    private static object? ReadValue(ref Utf8JsonReader reader, ref int budget)
    {
        // Deliberate difference: Python's json builds any number of values; a body of 1 MiB of "{}," would be
        // ~350,000 maps before the lowstate is even looked at. Past the same node budget as YAML: refused.
        if (--budget < 0)
        {
            throw new SaltJsonException($"document too large: more than {InputLimits.MaxNodes} values");
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = reader.GetString()!;
                    reader.Read();
                    map[key] = ReadValue(ref reader, ref budget);
                }

                return map;
            case JsonTokenType.StartArray:
                var list = new List<object?>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(ReadValue(ref reader, ref budget));
                }

                return list;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var l))
                {
                    return l;
                }

                if (reader.TryGetUInt64(out var ul))
                {
                    return ul;
                }

                // Python keeps big integers exact (a 20-digit jid sent as a number, for one).
                var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
                var integer = raw.AsSpan().IndexOfAny(".eE"u8) < 0;
                var digits = raw.Length - (raw.Length > 0 && raw[0] == (byte)'-' ? 1 : 0);
                if (integer && digits > MaxIntDigits)
                {
                    // As Python's json.loads (int_max_str_digits, Python 3.10.7+): a ValueError, which the
                    // netapi modules answer as invalid JSON. It also bounds the parse: BigInteger parsing of a
                    // 1 MB number costs tens of seconds of CPU.
                    throw new SaltJsonException($"Exceeds the limit ({MaxIntDigits} digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit");
                }

                if (integer
                    && System.Numerics.BigInteger.TryParse(Encoding.ASCII.GetString(raw), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
                {
                    return big;
                }

                return reader.GetDouble();
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Null:
                return null;
            default:
                throw new SaltJsonException("Expecting value: line 1 column 1 (char 0)");
        }
    }
}

/// <summary>A request body that is not valid JSON; the message is Python's json error text.</summary>
public sealed class SaltJsonException(string message) : Exception(message);
