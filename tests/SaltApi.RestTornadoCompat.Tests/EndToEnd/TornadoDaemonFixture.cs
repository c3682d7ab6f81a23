using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>The real daemon on the test config with rest_tornado added (websockets on), shared by a class.</summary>
public sealed class TornadoDaemonFixture : IAsyncLifetime
{
    private Daemon? daemon;

    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    public int Port { get; private set; }

    public Uri Tornado => new($"http://127.0.0.1:{Port}/");

    public async Task InitializeAsync()
    {
        Port = FreePort.Next();
        daemon = await Daemon.StartAsync($"rest_tornado: {{address: 127.0.0.1, port: {Port}, disable_ssl: True, websockets: True}}");
        await daemon.WaitForPortAsync(Port, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}
