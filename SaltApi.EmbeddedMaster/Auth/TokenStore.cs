using System.Security.Cryptography;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// Salt's <c>localfs</c> token backend (spec/03 §9): one msgpack file per token under
/// <c>{cachedir}/tokens</c>, mode 0600, written to <c>.tmp</c> then renamed; expired or corrupt
/// tokens are deleted when looked up.
/// </summary>
internal sealed class TokenStore(string dir, string hashType)
{
    public string Dir { get; } = dir;

    private string FullDir { get; } = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

    /// <summary>Creates and stores a token for the data (start, expire, name, eauth, [auth_list], [groups]).</summary>
    public OrderedDictionary<string, object?> Make(OrderedDictionary<string, object?> tdata)
    {
        UnixFiles.EnsurePrivateDir(Dir, out _);
        while (true)
        {
            var tok = NewToken();
            var path = Path.Combine(Dir, tok);
            if (File.Exists(path))
            {
                continue; // as Salt: a collision draws again
            }

            tdata["token"] = tok;
            UnixFiles.WriteAtomic(path, SaltMsgpack.Serialize(tdata, MsgpackDialect.Request));
            return tdata;
        }
    }

    private string NewToken()
    {
        var random = RandomNumberGenerator.GetBytes(512);
        // Token values only need to be random text of Salt's length (sha224's: 28 bytes), not a secure hash.
        var digest = hashType == "sha224" ? SHA256.HashData(random)[..28] : HashType.Digest(hashType, random) ?? SHA256.HashData(random);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Salt's get_tok: the token map, or null when unknown, outside the store, corrupt or expired.</summary>
    public OrderedDictionary<string, object?>? Get(string tok)
    {
        if (tok.Length == 0 || tok.Length > 256 || tok.IndexOfAny(['/', '\\', '\0']) >= 0 || tok is "." or "..")
        {
            return null;
        }

        // Per lookup: one path, one open, one read (a lookup is made for every request with a token).
        var full = Path.GetFullPath(Path.Join(FullDir, tok));
        if (!full.StartsWith(FullDir, StringComparison.Ordinal) || full.Length <= FullDir.Length || full[FullDir.Length] != Path.DirectorySeparatorChar)
        {
            return null;
        }

        OrderedDictionary<string, object?>? tdata;
        try
        {
            using var handle = File.OpenHandle(full);
            var length = RandomAccess.GetLength(handle);
            if (length > 1024 * 1024)
            {
                Remove(tok);
                return null;
            }

            var bytes = new byte[length];
            var read = 0;
            int got;
            while (read < bytes.Length && (got = RandomAccess.Read(handle, bytes.AsSpan(read), read)) > 0)
            {
                read += got;
            }

            tdata = SaltMsgpack.Deserialize(bytes.AsMemory(0, read)) as OrderedDictionary<string, object?>;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        catch (SaltProtocolException)
        {
            Remove(tok);
            return null;
        }

        // Not a map, empty, or expired: the file goes (a map without an expire time expired at 0).
        var expire = tdata?.Get("expire") switch
        {
            double d => d,
            long l => l,
            _ => 0,
        };
        if (tdata is null || tdata.Count == 0 || expire < Now())
        {
            Remove(tok);
            return null;
        }

        return tdata;
    }

    /// <summary>Deletes a token file.</summary>
    public void Remove(string tok)
    {
        try
        {
            File.Delete(Path.Combine(Dir, tok));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Python's <c>time.time()</c>.</summary>
    public static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;
}
