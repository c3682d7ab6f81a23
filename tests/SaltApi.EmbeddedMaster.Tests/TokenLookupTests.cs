using SaltApi.EmbeddedMaster.Auth;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The localfs token lookup made for every request: the same answers, with one open and one read.</summary>
public sealed class TokenLookupTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("saltapi-tok-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static OrderedDictionary<string, object?> Data(double expire) => new(StringComparer.Ordinal)
    {
        ["start"] = TokenStore.Now(),
        ["expire"] = expire,
        ["name"] = "saltdev",
        ["eauth"] = "file",
    };

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    public void A_live_token_is_found_and_others_are_not(string trailing)
    {
        var store = new TokenStore(Path.Combine(root, "tokens") + trailing, "sha256");
        var tok = (string)store.Make(Data(TokenStore.Now() + 3600))["token"]!;

        Assert.Equal("saltdev", store.Get(tok)?["name"]);
        Assert.Null(store.Get("0" + tok[1..] == tok ? "1" + tok[1..] : "0" + tok[1..]));
        Assert.Null(store.Get(".."));
        Assert.Null(store.Get("../tokens/" + tok));
        Assert.Null(store.Get(""));

        // A directory where a token would be is no token.
        Directory.CreateDirectory(Path.Combine(store.Dir, "adir"));
        Assert.Null(store.Get("adir"));
    }

    [Fact]
    public void Expired_and_corrupt_tokens_are_deleted_when_looked_up()
    {
        var store = new TokenStore(Path.Combine(root, "tokens"), "sha256");
        var expired = (string)store.Make(Data(TokenStore.Now() - 1))["token"]!;
        File.WriteAllBytes(Path.Combine(store.Dir, "corrupt"), [0xc1]);

        Assert.Null(store.Get(expired));
        Assert.Null(store.Get("corrupt"));
        Assert.False(File.Exists(Path.Combine(store.Dir, expired)));
        Assert.False(File.Exists(Path.Combine(store.Dir, "corrupt")));
    }

    [Fact]
    public void A_lookup_allocates_the_token_and_little_else()
    {
        var store = new TokenStore(Path.Combine(root, "tokens"), "sha256");
        var tok = (string)store.Make(Data(TokenStore.Now() + 3600))["token"]!;
        store.Get(tok);
        var before = GC.GetAllocatedBytesForCurrentThread();
        store.Get(tok);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The file's bytes and the map read from them (~1,060 bytes); the paths built twice, an existence check and a
        // FileInfo made it ~1,660.
        Assert.InRange(allocated, 1, 1_300);
    }
}
