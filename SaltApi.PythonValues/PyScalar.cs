using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace SaltApi.PythonValues;

/// <summary>
/// Python's rules for scalar values, as Salt's answers carry them: a float's repr as json.dumps writes it, a
/// non-string map key's text, and <c>bool()</c>. The one home of these rules: the wire (SaltApi.Protocol) and
/// the netapi contract (SaltApi.Abstractions) both use them.
/// </summary>
public static class PyScalar
{
    /// <summary>Python's <c>bool(value)</c>: so <c>"false"</c> and <c>"0"</c> are true, as in a lowstate read by Salt.</summary>
    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        ulong u => u != 0,
        int i => i != 0,
        BigInteger big => !big.IsZero,
        double d => d != 0, // NaN is true, as in Python
        string s => s.Length > 0,
        byte[] bytes => bytes.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>Python's json turns non-string keys into text: <c>1</c> → "1", True → "true", None → "null".</summary>
    public static string KeyText(object? key) => key switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        double d => JsonFloat(d),
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        _ => Convert.ToString(key, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Python's <c>repr(float)</c> as json.dumps writes it (NaN and Infinity bare).</summary>
    public static string JsonFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        // Shortest round-trip digits and decimal exponent, then Python's layout rules.
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string mantissa;
        var exp = 0;
        var ePos = shortest.IndexOf('E', StringComparison.Ordinal);
        if (ePos >= 0)
        {
            mantissa = shortest[..ePos];
            exp = int.Parse(shortest[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        else
        {
            mantissa = shortest;
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        // value = 0.<intPart+fracPart> * 10^(intPart.Length + exp); normalise to d.ddd * 10^e10
        var e10 = intPart.Length + exp - 1 - leadingZeros;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        var sb = new StringBuilder(32);
        if (d < 0)
        {
            sb.Append('-');
        }

        if (e10 is >= -4 and < 16)
        {
            if (e10 >= 0)
            {
                var whole = digits.Length > e10 + 1 ? digits[..(e10 + 1)] : digits.PadRight(e10 + 1, '0');
                var frac = digits.Length > e10 + 1 ? digits[(e10 + 1)..] : "0";
                sb.Append(whole).Append('.').Append(frac);
            }
            else
            {
                sb.Append("0.").Append('0', -e10 - 1).Append(digits);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            sb.Append('e').Append(e10 < 0 ? '-' : '+').Append(Math.Abs(e10).ToString("00", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
