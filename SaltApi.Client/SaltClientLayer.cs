using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;

namespace SaltApi.Client;

/// <summary>
/// The shared authenticated client layer of the daemon: one request-channel pool and one event-bus
/// subscription, handed to every module as <see cref="INetapiClient"/> and <see cref="IEventStream"/>.
/// </summary>
public sealed class SaltClientLayer : IAsyncDisposable
{
    private SaltClientLayer(INetapiClient client, IEventStream events)
    {
        Client = client;
        Events = events;
    }

    /// <summary>Salt's NetapiClient.</summary>
    public INetapiClient Client { get; }

    /// <summary>The master event bus, read once and fanned out.</summary>
    public IEventStream Events { get; }

    /// <summary>Builds the layer from the loaded master config. Connects lazily; never blocks.</summary>
    public static SaltClientLayer Create(IReadOnlyDictionary<string, object?> masterConfig, ILoggerFactory logging)
    {
        _ = masterConfig;
        _ = logging;
        throw new NotImplementedException("SaltClientLayer is not implemented yet");
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
