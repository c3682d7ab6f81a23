using System.Globalization;
using System.Numerics;

namespace SaltApi.Abstractions.Parsing;

/// <summary>
/// PyYAML's <c>construct_yaml_int</c> (YAML 1.1): sign, then <c>0b</c> binary, <c>0x</c> hex, a leading
/// <c>0</c> octal, <c>a:b:c</c> base 60 or decimal; underscores are dropped. Bounded by
/// <see cref="InputLimits.MaxIntDigits"/> in every base (Python caps decimal text only): the digits are
/// counted first, so no input costs more than one linear scan plus arithmetic on at most that many digits.
/// </summary>
public static class YamlInt
{
    /// <summary>
    /// Parses text that a YAML 1.1 int pattern already matched. False when it has more than
    /// <see cref="InputLimits.MaxIntDigits"/> digits or a digit outside its base.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out BigInteger value)
    {
        value = BigInteger.Zero;
        var negative = false;
        if (text.Length > 0 && text[0] is '+' or '-')
        {
            negative = text[0] == '-';
            text = text[1..];
        }

        int radix;
        if (text.StartsWith("0b", StringComparison.Ordinal))
        {
            radix = 2;
            text = text[2..];
        }
        else if (text.StartsWith("0x", StringComparison.Ordinal))
        {
            radix = 16;
            text = text[2..];
        }
        else if (text.Contains(':'))
        {
            radix = 60;
        }
        else if (text.Length > 1 && text[0] == '0')
        {
            radix = 8;
            text = text[1..];
        }
        else
        {
            radix = 10;
        }

        // One scan: count the digits (stopping past the cap) and check each against its base.
        var digits = 0;
        foreach (var c in text)
        {
            if (c == '_' || (c == ':' && radix == 60))
            {
                continue;
            }

            if (++digits > InputLimits.MaxIntDigits || Digit(c) >= (radix == 60 ? 10 : radix))
            {
                return false;
            }
        }

        value = radix switch
        {
            2 => PowerOfTwo(text, 1, digits),
            8 => PowerOfTwo(text, 3, digits),
            16 => PowerOfTwo(text, 4, digits),
            60 => Sexagesimal(text),
            _ => Decimal(text, digits),
        };
        if (negative)
        {
            value = -value;
        }

        return true;
    }

    /// <summary>The narrowest of long, ulong and BigInteger that holds the value (as the netapi layers pass ints on).</summary>
    public static object Narrow(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            return (long)value;
        }

        return value.Sign > 0 && value <= ulong.MaxValue ? (object)(ulong)value : value;
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => int.MaxValue,
    };

    // Bits packed straight into little-endian bytes: linear in the digits.
    private static BigInteger PowerOfTwo(ReadOnlySpan<char> text, int bitsPerDigit, int digits)
    {
        var bytes = new byte[((digits * bitsPerDigit) + 7) / 8];
        var bit = 0;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            if (text[i] == '_')
            {
                continue;
            }

            var d = Digit(text[i]);
            for (var b = 0; b < bitsPerDigit; b++, bit++)
            {
                if ((d >> b & 1) != 0)
                {
                    bytes[bit >> 3] |= (byte)(1 << (bit & 7));
                }
            }
        }

        return new BigInteger(bytes, isUnsigned: true);
    }

    private static BigInteger Decimal(ReadOnlySpan<char> text, int digits)
    {
        Span<char> clean = digits <= 512 ? stackalloc char[digits] : new char[digits];
        var n = 0;
        foreach (var c in text)
        {
            if (c != '_')
            {
                clean[n++] = c;
            }
        }

        return n == 0 ? BigInteger.Zero : BigInteger.Parse(clean, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    // a:b:c = ((a * 60) + b) * 60 + c; at most MaxIntDigits parts, each product a few machine words.
    private static BigInteger Sexagesimal(ReadOnlySpan<char> text)
    {
        var value = BigInteger.Zero;
        foreach (var range in text.Split(':'))
        {
            var part = text[range];
            value = (value * 60) + Decimal(part, part.Length);
        }

        return value;
    }
}
