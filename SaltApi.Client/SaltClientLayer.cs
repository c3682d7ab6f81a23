using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Client.Auth;
using SaltApi.Client.Batch;
using SaltApi.Client.Bus;
using SaltApi.Client.Request;
using SaltApi.Client.Config;
using SaltApi.Client.Local;
using SaltApi.Client.Netapi;
using SaltApi.Client.Runner;
using SaltApi.Client.Ssh;
using SaltApi.Client.Wheel;

namespace SaltApi.Client;

/// <summary>
/// The shared authenticated client layer of the daemon: one request-channel pool and one event-bus
/// subscription, handed to every module as <see cref="INetapiClient"/> and <see cref="IEventStream"/>.
/// </summary>
public sealed class SaltClientLayer : IAsyncDisposable
{
    private readonly RequestChannel channel;
    private readonly EventBusReader bus;

    private SaltClientLayer(INetapiClient client, EventBusReader bus, RequestChannel channel)
    {
        Client = client;
        Events = bus;
        this.bus = bus;
        this.channel = channel;
    }

    /// <summary>Salt's NetapiClient.</summary>
    public INetapiClient Client { get; }

    /// <summary>The master event bus, read once and fanned out.</summary>
    public IEventStream Events { get; }

    /// <summary>Builds the layer from the loaded master config. Connects lazily; never blocks.</summary>
    /// <exception cref="SaltApi.Protocol.Config.ConfigException">An option has the wrong type or range.</exception>
    public static SaltClientLayer Create(IReadOnlyDictionary<string, object?> masterConfig, ILoggerFactory logging)
    {
        ArgumentNullException.ThrowIfNull(masterConfig);
        ArgumentNullException.ThrowIfNull(logging);
        var options = ClientOptions.From(masterConfig);
        var channelLog = logging.CreateLogger("SaltApi.Client.RequestChannel");
        if (options.RequestSocket == "dealer" && options.RequestPoller == "netmq")
        {
            // request_poller chooses how the REQ pool's threads wait; a DEALER thread always polls its three sockets itself.
            channelLog.LogWarning("saltapi_client.request_poller: netmq applies to request_socket: req only; ignored with request_socket: dealer");
        }

        var channel = new RequestChannel(options, channelLog);
        var bus = new EventBusReader(options, logging.CreateLogger("SaltApi.Client.EventBus"));

        // The master went away with its bus: the requests waiting on it get no reply; fail them now (503).
        bus.MasterLost += channel.FailInFlight;
        bus.Start();
        var master = new MasterCalls(channel, options);
        var local = new LocalClient(master, bus, options);
        var tokens = new TokenClient(master);
        var listFunGate = new ListFunGate(options, tokens, logging.CreateLogger("SaltApi.Client.ListFunGate"));
        var client = new NetapiClient(
            options,
            local,
            new BatchClient(local, options),
            new RunnerClient(master, bus, options),
            new WheelClient(master, logging.CreateLogger("SaltApi.Client.Wheel")),
            tokens,
            new EventFirer(options, logging.CreateLogger("SaltApi.Client.EventFirer")),
            listFunGate,
            new SshClient(options, tokens, listFunGate, logging.CreateLogger("SaltApi.Client.Ssh")));
        return new SaltClientLayer(client, bus, channel);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await bus.DisposeAsync().ConfigureAwait(false);
        channel.Dispose();
    }
}
