using System.Buffers.Binary;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// Deterministic byte mutations (a seed and a count give the same input every time, so a failure
/// found by FsCheck replays): bit flips, msgpack/JSON header bytes, boundary lengths, insertions,
/// deletions, truncation, duplication, splices between seeds and nesting prefixes.
/// </summary>
internal static class Mutator
{
    // Bytes that change how a decoder reads what follows.
    private static readonly byte[] Interesting =
    [
        0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
        0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
        0xde, 0xdf, 0xe0, 0xff, (byte)'[', (byte)']', (byte)'{', (byte)'}', (byte)'"', (byte)'\\',
        (byte)',', (byte)':', (byte)'\n', (byte)'e', (byte)'-', (byte)'u', 0xed, 0xf4, 0xf8, 0x4f, 0x4e,
    ];

    private static readonly uint[] InterestingLengths = [0, 1, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

    public static byte[] Mutate(byte[] seed, IReadOnlyList<byte[]> others, int rngSeed, int count)
    {
        var rng = new Random(rngSeed);
        var data = new List<byte>(seed);
        for (var i = 0; i < count; i++)
        {
            Apply(data, others, rng);
        }

        return [.. data];
    }

    private static void Apply(List<byte> d, IReadOnlyList<byte[]> others, Random rng)
    {
        var at = d.Count == 0 ? 0 : rng.Next(d.Count);
        switch (rng.Next(12))
        {
            case 0 when d.Count > 0:
                d[at] ^= (byte)(1 << rng.Next(8));
                break;
            case 1 when d.Count > 0:
                d[at] = (byte)rng.Next(256);
                break;
            case 2 when d.Count > 0:
                d[at] = Interesting[rng.Next(Interesting.Length)];
                break;
            case 3:
                d.Insert(at, Interesting[rng.Next(Interesting.Length)]);
                break;
            case 4 when d.Count > 0:
                d.RemoveRange(at, Math.Min(d.Count - at, rng.Next(1, 16)));
                break;
            case 5 when d.Count > 0:
                d.RemoveRange(at, d.Count - at); // truncation
                break;
            case 6 when d.Count > 0:
            {
                var len = Math.Min(d.Count - at, rng.Next(1, 64));
                d.InsertRange(rng.Next(d.Count), d.GetRange(at, len)); // duplication
                break;
            }

            case 7 when d.Count >= 4:
            {
                // A length field of a header overwritten with a boundary value.
                var n = Math.Min(d.Count - at, rng.Next(2) == 0 ? 2 : 4);
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(b, InterestingLengths[rng.Next(InterestingLengths.Length)]);
                for (var i = 0; i < n; i++)
                {
                    d[at + i] = b[4 - n + i];
                }

                break;
            }

            case 8 when others.Count > 0:
            {
                var other = others[rng.Next(others.Count)];
                if (other.Length > 0)
                {
                    var from = rng.Next(other.Length);
                    var len = Math.Min(other.Length - from, rng.Next(1, 128));
                    d.InsertRange(at, other.AsSpan(from, len).ToArray()); // splice
                }

                break;
            }

            case 9:
            {
                // Nesting: a run of array/map openers (msgpack and JSON).
                var opener = new byte[] { 0x91, 0x81, 0xdc, (byte)'[', (byte)'{' }[rng.Next(5)];
                d.InsertRange(at, Enumerable.Repeat(opener, rng.Next(1, 600)));
                break;
            }

            case 10:
                d.Insert(at, (byte)rng.Next(256));
                break;
            default:
                if (d.Count > 1)
                {
                    // Swap two bytes.
                    var j = rng.Next(d.Count);
                    (d[at], d[j]) = (d[j], d[at]);
                }

                break;
        }
    }
}
