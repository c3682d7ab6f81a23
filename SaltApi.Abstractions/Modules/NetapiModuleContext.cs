using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;

namespace SaltApi.Abstractions.Modules;

/// <summary>Everything a module gets from the host. A module needs nothing else of SaltApi.</summary>
public sealed class NetapiModuleContext
{
    /// <summary>Creates a context; the host does this, tests of a module may too.</summary>
    public NetapiModuleContext(
        IReadOnlyDictionary<string, object?> section,
        IReadOnlyDictionary<string, object?> masterConfig,
        INetapiClient client,
        IEventStream events,
        ILogger logger,
        CancellationToken stopping)
    {
        Section = section;
        MasterConfig = masterConfig;
        Client = client;
        Events = events;
        Logger = logger;
        Stopping = stopping;
    }

    /// <summary>The module's own config section (for example the <c>rest_cherrypy</c> map).</summary>
    public IReadOnlyDictionary<string, object?> Section { get; }

    /// <summary>The whole master config after includes and defaults, read-only.</summary>
    public IReadOnlyDictionary<string, object?> MasterConfig { get; }

    /// <summary>The shared authenticated client layer (Salt's NetapiClient).</summary>
    public INetapiClient Client { get; }

    /// <summary>The master event bus, shared by every module.</summary>
    public IEventStream Events { get; }

    /// <summary>A logger named after the module. Never log passwords or tokens.</summary>
    public ILogger Logger { get; }

    /// <summary>Cancelled when the daemon stops.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>
    /// The host's stop bound: how long the module has, once <see cref="Stopping"/> is cancelled, to drain
    /// in-flight requests and return. The host stops waiting after that; a module's drain honours it.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = DefaultStopTimeout;

    /// <summary>
    /// Called by the module once its listener accepts connections (<see cref="Hosting.NetapiWebHost"/> does it
    /// when the web application has started). The host reports itself ready (systemd's <c>READY=1</c>, the end
    /// of <c>salt-api -d</c>) once every module has listened or failed; null when nobody waits.
    /// </summary>
    public Action? Listening { get; init; }

    /// <summary>Raised when the daemon is asked to reload (SIGHUP): a module re-reads its certificates.</summary>
    public ReloadSignal Reload { get; init; } = new();

    /// <summary>The stop bound when the host gives none: 10 s.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);
}
