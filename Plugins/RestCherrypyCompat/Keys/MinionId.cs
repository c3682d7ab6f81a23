using System.Numerics;
using System.Text;

namespace SaltApi.Plugins.RestCherrypyCompat.Keys;

/// <summary>Minion ids as <c>POST /keys</c> takes them, checked before anything reaches the master.</summary>
internal static class MinionId
{
    /// <summary>Longer ids are refused (a file name under <c>pki_dir</c> cannot be longer).</summary>
    public const int MaxLength = 255;

    /// <summary>
    /// The id as text when it is one Salt accepts: as salt/utils/verify.py <c>valid_id</c> (no <c>/</c>,
    /// <c>\</c> or NUL, and <c>clean_path</c> keeps it a plain file name under pki_dir: not empty, not
    /// <c>.</c> or <c>..</c>). Deliberate difference: control characters (CR/LF among them) are refused
    /// too; Salt would accept the key and then fail building the <c>Content-Disposition</c> header.
    /// </summary>
    public static string? Valid(object? mid)
    {
        var id = mid switch
        {
            string s => s,
            long or int or BigInteger => Convert.ToString(mid, System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        if (id is null || id.Length is 0 or > MaxLength || id is "." or "..")
        {
            return null;
        }

        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (c is '/' or '\\' || char.IsControl(c))
            {
                return null;
            }

            if (char.IsSurrogate(c))
            {
                // Only whole pairs: a lone surrogate is not text.
                if (!char.IsSurrogatePair(id, i))
                {
                    return null;
                }

                i++;
            }
        }

        return id;
    }

    /// <summary>
    /// <c>attachment; filename="saltkeys-{id}.tar"</c> as Salt sends it, ASCII only so it can never fail:
    /// a non-ASCII id gets an ASCII fallback name and RFC 6266's <c>filename*</c> with the id in UTF-8.
    /// </summary>
    public static string ContentDisposition(string id)
    {
        var name = "saltkeys-" + id + ".tar";
        var ascii = new StringBuilder(name.Length);
        var plain = true;
        foreach (var c in name)
        {
            if (c is >= ' ' and < (char)0x7f and not '"' and not '\\')
            {
                ascii.Append(c);
            }
            else
            {
                plain = false;
                ascii.Append('_');
            }
        }

        if (plain)
        {
            return $"attachment; filename=\"{name}\"";
        }

        return $"attachment; filename=\"{ascii}\"; filename*=UTF-8''{Uri.EscapeDataString(name)}";
    }
}
