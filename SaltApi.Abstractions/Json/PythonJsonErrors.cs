using System.Text;

namespace SaltApi.Abstractions.Json;

/// <summary>
/// Describes why a body is not JSON in the words of Python's <c>json</c> module (json/decoder.py),
/// so that error bodies read as salt-api's do: "Expecting value: line 1 column 1 (char 0)".
/// Runs only after the real parser has refused the input.
/// </summary>
internal static class PythonJsonErrors
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static string Describe(ReadOnlySpan<byte> utf8)
    {
        string s;
        try
        {
            s = StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException e)
        {
            var at = e.Index;
            return $"'utf-8' codec can't decode byte 0x{(at >= 0 && at < utf8.Length ? utf8[at] : 0):x2} in position {Math.Max(at, 0)}: invalid start byte";
        }

        var scanner = new Scanner(s);
        try
        {
            var end = scanner.Value(scanner.Ws(0), 0);
            end = scanner.Ws(end);
            return end != s.Length ? Message("Extra data", s, end) : "Invalid JSON";
        }
        catch (ScanError e)
        {
            return Message(e.Reason, s, e.Position);
        }
    }

    private static string Message(string reason, string s, int pos)
    {
        pos = Math.Min(pos, s.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < pos; i++)
        {
            if (s[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return $"{reason}: line {line} column {pos - lineStart + 1} (char {pos})";
    }

    private sealed class ScanError(string reason, int position) : Exception(reason)
    {
        public string Reason { get; } = reason;

        public int Position { get; } = position;
    }

    private sealed class Scanner(string s)
    {
        public int Ws(int i)
        {
            while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\r')
            {
                i++;
            }

            return i;
        }

        private char At(int i) => i < s.Length ? s[i] : '\0';

        // scan_once: returns the end of the value at i.
        public int Value(int i, int depth)
        {
            if (depth > SaltJson.MaxDepth)
            {
                throw new ScanError("Nesting too deep", i);
            }

            if (i >= s.Length)
            {
                throw new ScanError("Expecting value", i);
            }

            switch (s[i])
            {
                case '"': return String(i + 1);
                case '{': return Object(i + 1, depth);
                case '[': return Array(i + 1, depth);
            }

            foreach (var word in (ReadOnlySpan<string>)["null", "true", "false", "NaN", "Infinity", "-Infinity"])
            {
                if (string.CompareOrdinal(s, i, word, 0, word.Length) == 0)
                {
                    return i + word.Length;
                }
            }

            return Number(i);
        }

        private int Number(int i)
        {
            var j = i;
            if (At(j) == '-')
            {
                j++;
            }

            if (At(j) == '0')
            {
                j++;
            }
            else if (char.IsAsciiDigit(At(j)))
            {
                while (char.IsAsciiDigit(At(j)))
                {
                    j++;
                }
            }
            else
            {
                throw new ScanError("Expecting value", i);
            }

            if (At(j) == '.' && char.IsAsciiDigit(At(j + 1)))
            {
                j += 2;
                while (char.IsAsciiDigit(At(j)))
                {
                    j++;
                }
            }

            if (At(j) is 'e' or 'E')
            {
                var k = j + 1;
                if (At(k) is '+' or '-')
                {
                    k++;
                }

                if (char.IsAsciiDigit(At(k)))
                {
                    while (char.IsAsciiDigit(At(k)))
                    {
                        k++;
                    }

                    j = k;
                }
            }

            return j;
        }

        private int String(int i)
        {
            var begin = i - 1;
            while (true)
            {
                if (i >= s.Length)
                {
                    throw new ScanError("Unterminated string starting at", begin);
                }

                var c = s[i];
                if (c == '"')
                {
                    return i + 1;
                }

                if (c < 0x20)
                {
                    throw new ScanError("Invalid control character at", i);
                }

                if (c == '\\')
                {
                    var e = At(i + 1);
                    if (i + 1 >= s.Length)
                    {
                        throw new ScanError("Unterminated string starting at", begin);
                    }

                    if (e == 'u')
                    {
                        if (i + 6 > s.Length || s.AsSpan(i + 2, 4).ContainsAnyExcept(HexDigits))
                        {
                            throw new ScanError("Invalid \\uXXXX escape", i + 1);
                        }

                        i += 6;
                        continue;
                    }

                    if ("\"\\/bfnrt".IndexOf(e, StringComparison.Ordinal) < 0)
                    {
                        throw new ScanError("Invalid \\escape", i);
                    }

                    i += 2;
                    continue;
                }

                i++;
            }
        }

        private int Object(int end, int depth)
        {
            end = Ws(end);
            if (At(end) == '}' && end < s.Length)
            {
                return end + 1;
            }

            if (At(end) != '"' || end >= s.Length)
            {
                throw new ScanError("Expecting property name enclosed in double quotes", end);
            }

            while (true)
            {
                end = String(end + 1);
                end = Ws(end);
                if (At(end) != ':' || end >= s.Length)
                {
                    throw new ScanError("Expecting ':' delimiter", end);
                }

                end = Ws(end + 1);
                end = Value(end, depth + 1);
                end = Ws(end);
                var next = end < s.Length ? s[end] : '\0';
                end++;
                if (next == '}')
                {
                    return end;
                }

                if (next != ',')
                {
                    throw new ScanError("Expecting ',' delimiter", end - 1);
                }

                end = Ws(end);
                next = end < s.Length ? s[end] : '\0';
                end++;
                if (next != '"')
                {
                    throw new ScanError("Expecting property name enclosed in double quotes", end - 1);
                }

                end--;
            }
        }

        private int Array(int end, int depth)
        {
            end = Ws(end);
            if (At(end) == ']' && end < s.Length)
            {
                return end + 1;
            }

            while (true)
            {
                end = Value(end, depth + 1);
                end = Ws(end);
                var next = end < s.Length ? s[end] : '\0';
                end++;
                if (next == ']')
                {
                    return end;
                }

                if (next != ',')
                {
                    throw new ScanError("Expecting ',' delimiter", end - 1);
                }

                end = Ws(end);
            }
        }
    }
}
