using System.Security.Cryptography;

namespace SaltApi.EmbeddedMaster.Values;

/// <summary>Salt's <c>hash_type</c> option: <c>hashlib.new(hash_type)</c> for the names it takes.</summary>
internal static class HashType
{
    /// <summary>The digest of <paramref name="data"/> by <paramref name="name"/> (md5, sha1, sha256, sha384, sha512); null for another name.</summary>
    public static byte[]? Digest(string name, byte[] data) => name switch
    {
#pragma warning disable CA5350, CA5351 // Salt lets the operator choose md5/sha1: names, fingerprints and eauth files; never a secret's only guard
        "md5" => MD5.HashData(data),
        "sha1" => SHA1.HashData(data),
#pragma warning restore CA5350, CA5351
        "sha256" => SHA256.HashData(data),
        "sha384" => SHA384.HashData(data),
        "sha512" => SHA512.HashData(data),
        _ => null,
    };
}
