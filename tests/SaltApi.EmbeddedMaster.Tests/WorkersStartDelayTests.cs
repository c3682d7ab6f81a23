using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Protocol.Config;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// <c>embedded_master: workers_start_delay</c>: as a salt-master whose MWorkers are not up yet, the ret port takes a
/// request at once but answers it only when the delay since the start has passed; then at once.
/// </summary>
public sealed class WorkersStartDelayTests
{
    private static OrderedDictionary<string, object?> Ping() => new() { ["cmd"] = "ping", ["n"] = 1L };

    [Fact]
    public async Task A_request_made_at_the_start_is_answered_when_the_workers_are_up_and_later_ones_at_once()
    {
        var started = Stopwatch.StartNew();
        await using var h = await MasterHarness.StartAsync(cfg => ((OrderedDictionary<string, object?>)cfg["embedded_master"]!)["workers_start_delay"] = 2L);

        var reply = await h.SendAsync(Ping());
        Assert.IsType<OrderedDictionary<string, object?>>(reply);
        // A timer may fire a clock tick early; never a whole tick short of the delay.
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(1980), $"answered {started.Elapsed} after the start, before its workers were up");

        var again = Stopwatch.StartNew();
        await h.SendAsync(Ping());
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(1.5), $"a request after the delay waited {again.Elapsed}");
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData("soon")]
    [InlineData(4000L)]
    public async Task A_wrong_delay_fails_the_start(object delay)
    {
        var dir = Directory.CreateTempSubdirectory("saltem-").FullName;
        try
        {
            var cfg = MasterHarness.Config(dir, c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["workers_start_delay"] = delay);
            var e = await Assert.ThrowsAsync<ConfigException>(async () => await SaltMaster.StartAsync(cfg, NullLoggerFactory.Instance));
            Assert.Contains("workers_start_delay", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
