using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SaltApi.Client.Auth;

/// <summary>
/// Tokens a logout could not delete on the master (a token store out of reach, no right to run
/// <c>auth.del_token</c>): the client layer refuses them on every path until they expire, so every module of
/// this daemon answers as the master does for a token it does not know. Bounded without ever dropping a live
/// revocation: expired entries make room, and a list full of live ones refuses the new one (false), so that
/// the logout can say so instead of pretending the token is gone. Entries are keyed by the token's SHA-256:
/// a lookup compares digests, never the token, so its time tells nothing about a revoked token.
/// </summary>
internal sealed class RevokedTokens(TimeProvider time, int capacity = RevokedTokens.DefaultCapacity)
{
    public const int DefaultCapacity = 10_000;

    private readonly Dictionary<Digest, double> revoked = [];
    private readonly Lock gate = new();
    private int count;

    /// <summary>Seconds since the epoch, now.</summary>
    public double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Whether the token is revoked and has not expired yet. No lock and no hashing while the list is empty.</summary>
    public bool Contains(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (Volatile.Read(ref count) == 0)
        {
            return false;
        }

        var key = Digest.Of(token);
        lock (gate)
        {
            if (!revoked.TryGetValue(key, out var until))
            {
                return false;
            }

            if (until > Now)
            {
                return true;
            }

            revoked.Remove(key); // expired: the master refuses it on its own
            Volatile.Write(ref count, revoked.Count);
            return false;
        }
    }

    /// <summary>
    /// Refuses the token until <paramref name="expire"/> (seconds since the epoch); a token already listed
    /// takes the new expiry. True when the token is refused from now on (or has expired already); false when
    /// the list is full of live revocations.
    /// </summary>
    public bool Add(string token, double expire)
    {
        ArgumentNullException.ThrowIfNull(token);
        var now = Now;
        var key = Digest.Of(token);
        lock (gate)
        {
            if (expire <= now)
            {
                revoked.Remove(key);
                Volatile.Write(ref count, revoked.Count);
                return true;
            }

            if (!revoked.ContainsKey(key) && revoked.Count >= capacity)
            {
                foreach (var (k, until) in revoked)
                {
                    if (until <= now)
                    {
                        revoked.Remove(k); // allowed while enumerating a Dictionary since .NET Core 3.0
                    }
                }

                if (revoked.Count >= capacity)
                {
                    Volatile.Write(ref count, revoked.Count);
                    return false;
                }
            }

            revoked[key] = expire;
            Volatile.Write(ref count, revoked.Count);
            return true;
        }
    }

    /// <summary>Forgets the token: the master refuses it itself now (its token was deleted there).</summary>
    public void Remove(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (Volatile.Read(ref count) == 0)
        {
            return;
        }

        var key = Digest.Of(token);
        lock (gate)
        {
            revoked.Remove(key);
            Volatile.Write(ref count, revoked.Count);
        }
    }

    /// <summary>A token's SHA-256.</summary>
    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        public static Digest Of(string token)
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(MemoryMarshal.AsBytes(token.AsSpan()), hash);
            var words = MemoryMarshal.Cast<byte, ulong>(hash);
            return new(words[0], words[1], words[2], words[3]);
        }
    }
}
