using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Embedded;

/// <summary>The master stops and comes back during a run of requests: clear errors, no hang, then success.</summary>
public sealed class MasterRestartTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("zeromq")]
    [InlineData("tcp")]
    public async Task Requests_in_flight_fail_clearly_and_later_ones_succeed_once_the_master_is_back(string transport)
    {
        WriteUsers(dir.Path);
        var config = MakeConfig(dir.Path, FreePort.Next(), c =>
        {
            ((OrderedDictionary<string, object?>)c["embedded_master"]!)["latency_ms"] = 300L;
            c["transport"] = transport;
        });
        var master = await EmbeddedMaster.SaltMaster.StartAsync(config, NullLoggerFactory.Instance);
        await using var layer = SaltClientLayer.Create(config, NullLoggerFactory.Instance);
        var low = new[] { ("client", (object?)"local"), ("tgt", "ms--*"), ("fun", "test.ping") }.Concat(Eauth()).ToArray();
        var asyncLow = new[] { ("client", (object?)"local_async"), ("tgt", "ms--*"), ("fun", "test.ping") }.Concat(Eauth()).ToArray();
        var runnerLow = new[] { ("client", (object?)"runner"), ("fun", "test.sleep"), ("s_time", 3L) }.Concat(Eauth()).ToArray();

        // Warm: the master answers.
        var first = await layer.Client.RunAsync(Map(low), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ((OrderedDictionary<string, object?>)first[0]!).Count);

        // In flight when the master goes away: a local call waiting for returns and a runner waiting for its event.
        var inFlightLocal = layer.Client.RunAsync(Map(low), CancellationToken.None);
        var inFlightRunner = layer.Client.RunAsync(Map(runnerLow), CancellationToken.None);
        await Task.Delay(100);
        await master.DisposeAsync();

        var e1 = await Assert.ThrowsAnyAsync<SaltApiException>(() => inFlightLocal.WaitAsync(TimeSpan.FromSeconds(30)));
        var e2 = await Assert.ThrowsAnyAsync<SaltApiException>(() => inFlightRunner.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(e1.Kind, new[] { SaltErrorKind.MasterUnavailable, SaltErrorKind.Timeout });
        Assert.Contains(e2.Kind, new[] { SaltErrorKind.MasterUnavailable, SaltErrorKind.Timeout });

        // While it is down: 503 at once, from NetapiClient's check.
        var down = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => layer.Client.RunAsync(Map(asyncLow), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("Salt Master is not available.", down.Message);

        // Back on the same port and sock_dir: the same layer works again without being rebuilt. A pooled socket
        // may still hold a connection to the stopped in-process master that is found dead only when a request is
        // written on it: that request is a 503 at once (never a hang, never sent again), and the next one is served.
        await using var again = await EmbeddedMaster.SaltMaster.StartAsync(config, NullLoggerFactory.Instance);
        IReadOnlyList<object?> afterAsync = null!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                afterAsync = await layer.Client.RunAsync(Map(asyncLow), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                break;
            }
            catch (SaltMasterUnavailableException) when (attempt < 3)
            {
            }
        }

        Assert.Equal(5, ((List<object?>)((OrderedDictionary<string, object?>)afterAsync[0]!)["minions"]!).Count);
        var after = await layer.Client.RunAsync(Map(low), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ((OrderedDictionary<string, object?>)after[0]!).Count);
        Assert.All(((OrderedDictionary<string, object?>)after[0]!).Values, v => Assert.Equal(true, v));
    }

    [Theory]
    [InlineData("zeromq")]
    [InlineData("tcp")]
    public async Task A_master_that_stops_answering_but_leaves_its_files_is_a_503_after_Salts_tries(string transport)
    {
        // workers.ipc and publish_pull.ipc exist, nothing listens on ret_port: the request channel times out.
        var sock = Path.Combine(dir.Path, "s");
        Directory.CreateDirectory(sock);
        File.WriteAllText(Path.Combine(sock, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(sock, "publish_pull.ipc"), "");
        var config = MakeConfig(dir.Path, FreePort.Next(), c => c["transport"] = transport);
        await using var layer = SaltClientLayer.Create(config, NullLoggerFactory.Instance);

        var e = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => layer.Client.RunAsync(
            Map([("client", "local_async"), ("tgt", "*"), ("fun", "test.ping"), .. Eauth()]), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("Salt request timed out. The master is not responding.", e.Message);
    }
}
