using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Client.Auth;
using SaltApi.Client.Batch;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Local;
using SaltApi.Client.Master;
using SaltApi.Client.Netapi;
using SaltApi.Client.Request;
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
    /// <summary>How long a readiness probe waits for the master's answer.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    // A readiness answer serves every check within this long: many balancers probing cost the master one request.
    private static readonly TimeSpan ProbeReuse = TimeSpan.FromSeconds(1);

    private readonly RequestChannel channel;
    private readonly EventBusReader bus;
    private readonly TokenClient tokens;
    private readonly Lock probeGate = new();
    private Task<bool>? probe;
    private long probeStarted;

    private SaltClientLayer(INetapiClient client, EventBusReader bus, RequestChannel channel, TokenClient tokens)
    {
        Client = client;
        this.bus = bus;
        this.channel = channel;
        this.tokens = tokens;
    }

    /// <summary>Salt's NetapiClient.</summary>
    public INetapiClient Client { get; }

    /// <summary>The master event bus, read once and fanned out.</summary>
    public IEventStream Events => bus;

    /// <summary>
    /// Binds the client layer's options (the master's, <c>saltapi_client</c>, the ssh client's) from the top of a
    /// master config; every wrong one is recorded in <paramref name="root"/>'s errors. Returns the master's options.
    /// </summary>
    public static SaltApi.Protocol.Config.MasterConfig CheckOptions(SaltApi.PythonValues.ConfigBinder root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return ClientOptions.Bind(root).Master;
    }

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
        return new SaltClientLayer(client, bus, channel, tokens);
    }

    /// <summary>
    /// Readiness: the master event bus is connected and the master answers a request (a <c>get_token</c> for a
    /// token that cannot exist) within <see cref="ProbeTimeout"/>. One probe at a time; its answer is reused
    /// for a second.
    /// </summary>
    public Task<bool> IsReadyAsync()
    {
        lock (probeGate)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (probe is null || (probe.IsCompleted && System.Diagnostics.Stopwatch.GetElapsedTime(probeStarted, now) > ProbeReuse))
            {
                probeStarted = now;
                probe = ProbeAsync();
            }

            return probe;
        }
    }

    private async Task<bool> ProbeAsync()
    {
        if (!bus.IsConnected)
        {
            return false;
        }

        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            // Salt's localfs token store answers {} for a name that is no file; "0" is no token Salt makes.
            await tokens.GetTokenAsync("0", timeout.Token).ConfigureAwait(false);
            return bus.IsConnected;
        }
        catch (Exception e) when (e is SaltApi.Abstractions.Errors.SaltApiException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await bus.DisposeAsync().ConfigureAwait(false);
        channel.Dispose();
    }
}
