using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Config;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>The ZeroMQ request threads on a NetMQPoller (<c>request_poller: netmq</c>): the same behaviour as the hand poller.</summary>
public sealed class RequestPollerTests
{
    private static ClientOptions Options(int port) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = 2L, ["request_socket"] = "req", ["request_poller"] = "netmq" },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    [Fact]
    public void Other_pollers_are_refused() =>
        Assert.Equal("saltapi_client.request_poller", Assert.Throws<ConfigException>(() => ClientOptions.From(new Dictionary<string, object?>
        {
            [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_poller"] = "epoll" },
        })).Key);

    [Theory]
    [InlineData("dealer", "netmq", true)]
    [InlineData("req", "netmq", false)]
    [InlineData("dealer", "hand", false)]
    public async Task The_netmq_poller_with_the_dealer_socket_is_warned_about_at_start(string socket, string poller, bool warned)
    {
        var logs = new WarningLog();
        await using (SaltClientLayer.Create(
            new Dictionary<string, object?>
            {
                ["interface"] = "127.0.0.1",
                ["ret_port"] = (long)FreePort.Next(),
                [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_socket"] = socket, ["request_poller"] = poller },
            },
            logs))
        {
        }

        Assert.Equal(warned, logs.Warnings.Any(w => w.Contains("request_poller", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Concurrent_requests_get_their_own_replies_and_dispose_closes_every_socket()
    {
        using var peer = new RouterPeer((_, _) => true);
        var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(10), 3, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal((long)i, ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)replies[i]!)["load"]!)["n"]);
        }

        Assert.True(channel.OpenSockets > 0);
        channel.Dispose();
        Assert.Equal(0, channel.OpenSockets);
    }

    [Fact]
    public async Task Requests_in_flight_fail_at_once_when_the_masters_connection_drops()
    {
        var peer = new RouterPeer((_, _) => false);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        var calls = Enumerable.Range(0, 8).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        var wait = Stopwatch.StartNew();
        while (peer.Received.Count < 8)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(20));
            await Task.Delay(10);
        }

        var sw = Stopwatch.StartNew();
        peer.Dispose();
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Seen at once, not after the 30 s request timeout: a bound that a loaded machine keeps, far below it.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }
}

/// <summary>The warnings logged, for the start-up checks.</summary>
internal sealed class WarningLog : ILoggerFactory, ILogger
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> warnings = new();

    public IEnumerable<string> Warnings => warnings;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Warning)
        {
            warnings.Enqueue(formatter(state, exception));
        }
    }

    public void Dispose()
    {
    }
}
