using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>The crypt(3) alphabet shared by the MD5 and SHA crypt schemes.</summary>
internal static class Crypt64
{
    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static void Append(StringBuilder sb, int value, int n)
    {
        for (var i = 0; i < n; i++)
        {
            sb.Append(Alphabet[value & 0x3f]);
            value >>= 6;
        }
    }
}

/// <summary>MD5-crypt (<c>$1$</c>) and Apache's variant (<c>$apr1$</c>), as htpasswd writes them.</summary>
internal static class Md5Crypt
{
#pragma warning disable CA5351 // the htpasswd format is MD5-based; we verify existing files
    public static string Hash(string password, string salt, string magic)
    {
        if (salt.Length > 8)
        {
            salt = salt[..8];
        }

        var pw = Encoding.UTF8.GetBytes(password);
        var s = Encoding.UTF8.GetBytes(salt);
        var m = Encoding.UTF8.GetBytes(magic);
        var alt = MD5.HashData([.. pw, .. s, .. pw]);
        var ctx = new List<byte>(pw.Length * 4);
        ctx.AddRange(pw);
        ctx.AddRange(m);
        ctx.AddRange(s);
        for (var i = pw.Length; i > 0; i -= 16)
        {
            ctx.AddRange(alt.AsSpan(0, Math.Min(16, i)).ToArray());
        }

        for (var i = pw.Length; i > 0; i >>= 1)
        {
            ctx.Add((i & 1) != 0 ? (byte)0 : (pw.Length > 0 ? pw[0] : (byte)0));
        }

        var final = MD5.HashData(ctx.ToArray());
        for (var i = 0; i < 1000; i++)
        {
            var c = new List<byte>(64);
            c.AddRange((i & 1) != 0 ? pw : final);
            if (i % 3 != 0)
            {
                c.AddRange(s);
            }

            if (i % 7 != 0)
            {
                c.AddRange(pw);
            }

            c.AddRange((i & 1) != 0 ? final : pw);
            final = MD5.HashData(c.ToArray());
        }

        var sb = new StringBuilder(magic).Append(salt).Append('$');
        int[][] groups = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]];
        foreach (var g in groups)
        {
            Crypt64.Append(sb, (final[g[0]] << 16) | (final[g[1]] << 8) | final[g[2]], 4);
        }

        Crypt64.Append(sb, final[11], 2);
        return sb.ToString();
    }
#pragma warning restore CA5351
}

/// <summary>SHA-crypt (<c>$5$</c> SHA-256, <c>$6$</c> SHA-512), Drepper's scheme.</summary>
internal static class ShaCrypt
{
    public static bool Verify(string password, string hash)
    {
        var parts = hash.Split('$');
        // "", "5", ["rounds=N"], salt, digest
        if (parts.Length < 4)
        {
            return false;
        }

        var id = parts[1];
        var rounds = 5000;
        var idx = 2;
        var explicitRounds = false;
        if (parts[2].StartsWith("rounds=", StringComparison.Ordinal))
        {
            if (!int.TryParse(parts[2][7..], NumberStyles.Integer, CultureInfo.InvariantCulture, out rounds))
            {
                return false;
            }

            rounds = Math.Clamp(rounds, 1000, 999_999_999);
            explicitRounds = true;
            idx = 3;
        }

        if (parts.Length < idx + 2 || rounds > 5_000_000)
        {
            return false;
        }

        var computed = Hash(password, parts[idx], rounds, explicitRounds, id == "6");
        return computed is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(hash));
    }

    private static byte[] H(bool sha512, byte[] data) => sha512 ? SHA512.HashData(data) : SHA256.HashData(data);

    private static string? Hash(string password, string salt, int rounds, bool explicitRounds, bool sha512)
    {
        if (salt.Length > 16)
        {
            salt = salt[..16];
        }

        var p = Encoding.UTF8.GetBytes(password);
        var s = Encoding.UTF8.GetBytes(salt);
        var n = sha512 ? 64 : 32;
        var b = H(sha512, [.. p, .. s, .. p]);
        var a = new List<byte>();
        a.AddRange(p);
        a.AddRange(s);
        for (var i = p.Length; i > 0; i -= n)
        {
            a.AddRange(b.AsSpan(0, Math.Min(n, i)).ToArray());
        }

        for (var i = p.Length; i > 0; i >>= 1)
        {
            a.AddRange((i & 1) != 0 ? b : p);
        }

        var aDigest = H(sha512, a.ToArray());
        // DP: the password once per byte of it, streamed (p.Length² bytes were built in memory).
        using var dpHash = IncrementalHash.CreateHash(sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
        for (var i = 0; i < p.Length; i++)
        {
            dpHash.AppendData(p);
        }

        var dp = dpHash.GetHashAndReset();
        var pSeq = Repeat(dp, p.Length);
        var dsInput = new List<byte>();
        for (var i = 0; i < 16 + aDigest[0]; i++)
        {
            dsInput.AddRange(s);
        }

        var ds = H(sha512, dsInput.ToArray());
        var sSeq = Repeat(ds, s.Length);
        var c = aDigest;
        for (var i = 0; i < rounds; i++)
        {
            var ctx = new List<byte>(n * 2 + p.Length * 2 + s.Length);
            ctx.AddRange((i & 1) != 0 ? pSeq : c);
            if (i % 3 != 0)
            {
                ctx.AddRange(sSeq);
            }

            if (i % 7 != 0)
            {
                ctx.AddRange(pSeq);
            }

            ctx.AddRange((i & 1) != 0 ? c : pSeq);
            c = H(sha512, ctx.ToArray());
        }

        var sb = new StringBuilder(sha512 ? "$6$" : "$5$");
        if (explicitRounds)
        {
            sb.Append("rounds=").Append(rounds.ToString(CultureInfo.InvariantCulture)).Append('$');
        }

        sb.Append(salt).Append('$');
        if (sha512)
        {
            int[][] order = [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41]];
            foreach (var o in order)
            {
                Crypt64.Append(sb, (c[o[0]] << 16) | (c[o[1]] << 8) | c[o[2]], 4);
            }

            Crypt64.Append(sb, c[63], 2);
        }
        else
        {
            int[][] order = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]];
            foreach (var o in order)
            {
                Crypt64.Append(sb, (c[o[0]] << 16) | (c[o[1]] << 8) | c[o[2]], 4);
            }

            Crypt64.Append(sb, (c[31] << 8) | c[30], 3);
        }

        return sb.ToString();
    }

    private static byte[] Repeat(byte[] digest, int length)
    {
        var r = new byte[length];
        for (var i = 0; i < length; i++)
        {
            r[i] = digest[i % digest.Length];
        }

        return r;
    }
}
