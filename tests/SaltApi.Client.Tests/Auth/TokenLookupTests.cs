using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Auth;

/// <summary>
/// Overlapping get_token lookups of one token share one call to the master (a bare ROUTER that answers the
/// captured reply 300 ms late, so that the lookups overlap).
/// </summary>
public sealed class TokenLookupTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly object? reply = SaltMsgpack.Deserialize(TestData.VectorBytes("rep-get_token-get_token-events"));

    public TokenLookupTests()
    {
        // NetapiClient's "master running" check looks for these files.
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private string Token => (string)((OrderedDictionary<string, object?>)reply!)["token"]!;

    private RouterPeer SlowMaster() => new((p, r) =>
    {
        _ = Task.Delay(300).ContinueWith(_ => p.Reply(r, reply), TaskScheduler.Default);
        return false;
    });

    private SaltClientLayer Layer(int port) => SaltClientLayer.Create(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
    }, NullLoggerFactory.Instance);

    [Fact]
    public async Task Overlapping_lookups_of_one_token_make_one_get_token_call()
    {
        using var peer = SlowMaster();
        await using var layer = Layer(peer.Port);

        var found = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => layer.Client.GetTokenAsync(Token, CancellationToken.None)));

        Assert.All(found, t => Assert.Equal(Token, t?.Token));
        Assert.Single(peer.Received);
        Assert.Equal("get_token", Assert.Single(peer.Received).Load["cmd"]);

        // Nothing is kept once answered: the next lookup asks the master again.
        Assert.Equal(Token, (await layer.Client.GetTokenAsync(Token, CancellationToken.None))?.Token);
        Assert.Equal(2, peer.Received.Count);
    }

    [Fact]
    public async Task A_caller_that_stops_waiting_leaves_the_shared_lookup_to_the_others()
    {
        using var peer = SlowMaster();
        await using var layer = Layer(peer.Port);
        using var impatient = new CancellationTokenSource();

        var gone = layer.Client.GetTokenAsync(Token, impatient.Token);
        var stays = layer.Client.GetTokenAsync(Token, CancellationToken.None);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        Assert.Equal(Token, (await stays)?.Token);
        Assert.Single(peer.Received);
    }
}
