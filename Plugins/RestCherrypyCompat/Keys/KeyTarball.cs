using System.Text;

namespace SaltApi.Plugins.RestCherrypyCompat.Keys;

/// <summary>
/// The tar that <c>POST /keys</c> returns, as Python's tarfile writes it: ustar headers,
/// <c>minion.pub</c> then <c>minion.pem</c>, mode 0644, owner 0/0, mtime 0, padded to a 10240-byte record.
/// </summary>
internal static class KeyTarball
{
    private const int Block = 512;
    private const int Record = 20 * Block;

    public static byte[] Build(string pub, string priv)
    {
        using var ms = new MemoryStream();
        AddFile(ms, "minion.pub", Encoding.UTF8.GetBytes(pub));
        AddFile(ms, "minion.pem", Encoding.UTF8.GetBytes(priv));
        ms.Write(new byte[2 * Block]);
        var rem = ms.Length % Record;
        if (rem != 0)
        {
            ms.Write(new byte[Record - rem]);
        }

        return ms.ToArray();
    }

    private static void AddFile(MemoryStream ms, string name, byte[] data)
    {
        var h = new byte[Block];
        Put(h, 0, name, 100);
        Put(h, 100, "0000644\0", 8);
        Put(h, 108, "0000000\0", 8);
        Put(h, 116, "0000000\0", 8);
        Put(h, 124, Convert.ToString(data.Length, 8).PadLeft(11, '0') + "\0", 12);
        Put(h, 136, "00000000000\0", 12);
        Put(h, 148, "        ", 8);
        h[156] = (byte)'0';
        Put(h, 257, "ustar\0", 6);
        Put(h, 263, "00", 2);
        Put(h, 329, "0000000\0", 8);
        Put(h, 337, "0000000\0", 8);
        var sum = h.Sum(b => b);
        Put(h, 148, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", 8);
        ms.Write(h);
        ms.Write(data);
        var pad = data.Length % Block;
        if (pad != 0)
        {
            ms.Write(new byte[Block - pad]);
        }
    }

    private static void Put(byte[] h, int offset, string text, int max)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Array.Copy(bytes, 0, h, offset, Math.Min(bytes.Length, max));
    }
}
