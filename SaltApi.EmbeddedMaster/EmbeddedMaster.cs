using Microsoft.Extensions.Logging;

namespace SaltApi.EmbeddedMaster;

/// <summary>
/// A Salt master in-process: the request channel (ROUTER on <c>interface:ret_port</c>), the event bus
/// (unix sockets in <c>sock_dir</c>), eauth, ACLs, tokens, a job cache, runners, wheel and simulated
/// minions. Started by the daemon when the master config has an <c>embedded_master</c> section.
/// </summary>
public sealed class EmbeddedMaster : IAsyncDisposable
{
    /// <summary>The master-config key that enables the embedded master (ours; Salt has no such key).</summary>
    public const string ConfigKey = "embedded_master";

    private EmbeddedMaster()
    {
    }

    /// <summary>The port the request channel is bound to (useful when <c>ret_port</c> is 0).</summary>
    public int RetPort { get; private set; }

    /// <summary>Binds every socket and starts the minions. Throws when a socket cannot be bound.</summary>
    public static Task<EmbeddedMaster> StartAsync(IReadOnlyDictionary<string, object?> masterConfig, ILoggerFactory logging, CancellationToken cancellationToken = default)
    {
        _ = masterConfig;
        _ = logging;
        _ = cancellationToken;
        throw new NotImplementedException("EmbeddedMaster is not implemented yet");
    }

    /// <summary>Stops serving and releases the sockets; the job cache and tokens stay on disk.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
