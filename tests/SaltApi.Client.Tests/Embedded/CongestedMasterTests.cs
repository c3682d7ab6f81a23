using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Embedded;

/// <summary>
/// A congested master (a real one under load stalls for seconds, every worker at once) answers a publish later than
/// one attempt's timeout but within all of them: the client waits for it as Salt's LocalClient does (its timeout
/// times its tries), and the publish is sent once. On every request transport.
/// </summary>
public sealed class CongestedMasterTests : IDisposable
{
    private const int Calls = 8;

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("zeromq", "dealer")]
    [InlineData("zeromq", "req")]
    [InlineData("tcp", "dealer")]
    public async Task Publishes_answered_after_one_attempts_timeout_but_within_all_of_them_succeed_and_run_once(string transport, string requestSocket)
    {
        WriteUsers(dir.Path);
        var config = MakeConfig(dir.Path, 0, c =>
        {
            c["transport"] = transport;
            // One attempt 2 s, three of them 6 s: the master answers each publish after 3.5 s.
            c["timeout"] = 2L;
            ((OrderedDictionary<string, object?>)c["embedded_master"]!)["publish_delay_ms"] = 3500L;
            c["saltapi_client"] = Map(("request_socket", requestSocket));
        });
        await using var master = await EmbeddedMaster.SaltMaster.StartAsync(config, NullLoggerFactory.Instance);
        config["ret_port"] = (long)master.RetPort;
        await using var layer = SaltClientLayer.Create(config, NullLoggerFactory.Instance);

        // Several in flight at once, as under load: none fails when the first attempt's time is out.
        var sw = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, Calls).Select(_ => layer.Client.RunAsync(
            Map([("client", "local_async"), ("tgt", "ms--*"), ("fun", "test.ping"), .. Eauth()]), CancellationToken.None)).ToList();
        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(3.4), $"answered after {sw.Elapsed}: the master's delay did not apply");
        var jids = replies.Select(r => (string)((OrderedDictionary<string, object?>)r[0]!)["jid"]!).ToList();
        Assert.Equal(Calls, jids.Distinct().Count());

        // Each publish reached the master once: no more jobs than calls (a publish sent again would be a second job).
        var jobs = await layer.Client.RunAsync(Map([("client", "runner"), ("fun", "jobs.list_jobs"), .. Eauth()]), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var listed = (OrderedDictionary<string, object?>)jobs[0]!;
        Assert.Equal(jids.Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
    }
}
