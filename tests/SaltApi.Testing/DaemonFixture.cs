using Xunit;

namespace SaltApi.Testing;

/// <summary>One daemon on the default test config, shared by the tests of a class.</summary>
public sealed class DaemonFixture : IAsyncLifetime
{
    private Daemon? daemon;

    /// <summary>The running daemon.</summary>
    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    /// <inheritdoc/>
    public async Task InitializeAsync() => daemon = await Daemon.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}
