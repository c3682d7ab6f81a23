using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Embedded;

/// <summary>
/// The master stops and comes back during a run of requests, as a real master's restart does: its ROUTER closes, its
/// files stay in sock_dir (workers.ipc, publish_pull.ipc, the bus socket), nothing listens for a while. Every request
/// ends with a 503 within <see cref="Bound"/> (the client gives a request with no connection
/// <see cref="RequestChannel.NoConnectionWait"/>), never a timeout, and the first request once the master is back succeeds.
/// </summary>
public sealed class MasterRestartTests : IDisposable
{
    // The product ends such a request after NoConnectionWait (1.5 s); Salt's tries would take 5 s x 3 (publish) or
    // 60 s x 3 (runner). Generous for a loaded machine, far below what a hang takes.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private static async Task<(SaltMasterUnavailableException Error, TimeSpan Took)> UnavailableAsync(Func<Task<IReadOnlyList<object?>>> call)
    {
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => call().WaitAsync(TimeSpan.FromSeconds(60)));
        return (e, sw.Elapsed);
    }

    [Theory]
    [InlineData("zeromq")]
    [InlineData("tcp")]
    public async Task Requests_in_flight_and_while_down_are_503_within_the_bound_and_the_first_one_after_the_restart_succeeds(string transport)
    {
        WriteUsers(dir.Path);
        var config = MakeConfig(dir.Path, FreePort.Next(), c =>
        {
            ((OrderedDictionary<string, object?>)c["embedded_master"]!)["latency_ms"] = 300L;
            c["transport"] = transport;
            c["timeout"] = 5L; // Salt's default: main's client waited it out 3 times for a request it could not send
        });
        var master = await EmbeddedMaster.SaltMaster.StartAsync(config, NullLoggerFactory.Instance);
        await using var layer = SaltClientLayer.Create(config, NullLoggerFactory.Instance);
        var low = new[] { ("client", (object?)"local"), ("tgt", "ms--*"), ("fun", "test.ping") }.Concat(Eauth()).ToArray();
        var asyncLow = new[] { ("client", (object?)"local_async"), ("tgt", "ms--*"), ("fun", "test.ping") }.Concat(Eauth()).ToArray();
        // A minion function that outlasts the master's stop, so the call is surely still waiting when it goes away.
        var sleepLow = new[] { ("client", (object?)"local"), ("tgt", "ms--*"), ("fun", "test.sleep"), ("arg", new List<object?> { 3L }) }.Concat(Eauth()).ToArray();
        var runnerLow = new[] { ("client", (object?)"runner"), ("fun", "test.sleep"), ("s_time", 3L) }.Concat(Eauth()).ToArray();
        var listJobs = new[] { ("client", (object?)"runner"), ("fun", "jobs.list_jobs") }.Concat(Eauth()).ToArray();

        // Warm: the master answers.
        var first = await layer.Client.RunAsync(Map(low), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ((OrderedDictionary<string, object?>)first[0]!).Count);

        // In flight when the master goes away: a local call waiting for returns and a runner waiting for its event.
        var inFlightLocal = layer.Client.RunAsync(Map(sleepLow), CancellationToken.None);
        var inFlightRunner = layer.Client.RunAsync(Map(runnerLow), CancellationToken.None);
        await Task.Delay(100);
        Assert.False(inFlightLocal.IsCompleted);
        Assert.False(inFlightRunner.IsCompleted);
        var stopped = Stopwatch.StartNew();
        await master.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(dir.Path, "s", "workers.ipc")), "a stopped master leaves its files, as Salt's does");

        await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => inFlightLocal.WaitAsync(TimeSpan.FromSeconds(60)));
        await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => inFlightRunner.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(stopped.Elapsed < Bound, $"the requests in flight took {stopped.Elapsed} to fail");

        // While it is down (its files still there, nothing listening): each call a 503 within the bound, whether it
        // waits for the request channel (local_async) or first for the event bus (local, runner).
        foreach (var call in new[] { asyncLow, low, listJobs })
        {
            var (down, took) = await UnavailableAsync(() => layer.Client.RunAsync(Map(call), CancellationToken.None));
            Assert.Equal("Salt Master is not available.", down.Message);
            Assert.True(took < Bound, $"{call[0].Item2}: 503 after {took}");
        }

        // Back on the same port and sock_dir: the same layer serves the very next request, without being rebuilt.
        await using var again = await EmbeddedMaster.SaltMaster.StartAsync(config, NullLoggerFactory.Instance);
        var afterAsync = await layer.Client.RunAsync(Map(asyncLow), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ((List<object?>)((OrderedDictionary<string, object?>)afterAsync[0]!)["minions"]!).Count);
        var after = await layer.Client.RunAsync(Map(low), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ((OrderedDictionary<string, object?>)after[0]!).Count);
        Assert.All(((OrderedDictionary<string, object?>)after[0]!).Values, v => Assert.Equal(true, v));
    }

    [Theory]
    [InlineData("zeromq", "dealer")]
    [InlineData("zeromq", "req")]
    [InlineData("tcp", "dealer")]
    public async Task A_master_that_left_its_files_and_does_not_listen_is_a_503_after_NoConnectionWait(string transport, string requestSocket)
    {
        // workers.ipc and publish_pull.ipc exist, nothing listens on ret_port: a request is never sent, and fails.
        var sock = Path.Combine(dir.Path, "s");
        Directory.CreateDirectory(sock);
        File.WriteAllText(Path.Combine(sock, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(sock, "publish_pull.ipc"), "");
        var config = MakeConfig(dir.Path, FreePort.Next(), c =>
        {
            c["transport"] = transport;
            c["timeout"] = 5L;
            c["saltapi_client"] = Map(("request_socket", requestSocket));
        });
        await using var layer = SaltClientLayer.Create(config, NullLoggerFactory.Instance);

        var (e, took) = await UnavailableAsync(() => layer.Client.RunAsync(
            Map([("client", "local_async"), ("tgt", "*"), ("fun", "test.ping"), .. Eauth()]), CancellationToken.None));
        Assert.Equal("Salt Master is not available.", e.Message);
        Assert.True(took >= RequestChannel.NoConnectionWait && took < Bound, $"503 after {took}");
    }
}
