using System.Text;

namespace SaltApi.NetapiKit.Formats;

/// <summary>Form bodies and query strings as Python reads them (<c>urllib.parse</c>), and the media type of a request.</summary>
public static class FormData
{
    /// <summary>The media type of a Content-Type header, parameters left out, lower case; empty when there is none.</summary>
    public static string MediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return "";
        }

        var semi = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semi >= 0 ? contentType[..semi] : contentType).Trim().ToLowerInvariant();
    }

    /// <summary>
    /// Adds the <c>name=value</c> pairs of <paramref name="text"/> (split at <c>&amp;</c> and <c>;</c>, each part
    /// unquoted as <see cref="UnquotePlus"/>) to <paramref name="map"/>: a pair with an empty value is left out, a
    /// repeated name becomes a list. <paramref name="stripValues"/> trims each value (Tornado's arguments), and
    /// then a pair with an empty name is left out too.
    /// </summary>
    public static void AddPairs(OrderedDictionary<string, object?> map, string text, bool stripValues)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(text);
        foreach (var pair in text.Split('&', ';'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = UnquotePlus(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : UnquotePlus(pair[(eq + 1)..]);
            value = stripValues ? value.Trim() : value;
            if (value.Length == 0 || (stripValues && key.Length == 0))
            {
                continue;
            }

            if (!map.TryGetValue(key, out var existing))
            {
                map[key] = value;
            }
            else if (existing is List<object?> list)
            {
                list.Add(value);
            }
            else
            {
                map[key] = new List<object?> { existing, value };
            }
        }
    }

    /// <summary>Python's <c>unquote_plus</c>: <c>+</c> is a space, <c>%XX</c> decoded as UTF-8 with replacement.</summary>
    public static string UnquotePlus(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.AsSpan().IndexOfAny('+', '%') < 0)
        {
            return s;
        }

        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
