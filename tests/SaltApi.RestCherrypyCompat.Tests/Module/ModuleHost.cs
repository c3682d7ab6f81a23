using System.Net;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestCherrypyCompat;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>The module alone on a loopback port with a scripted client.</summary>
internal sealed class ModuleHost : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task run;

    private ModuleHost(int port, Dictionary<string, object?> section)
    {
        Port = port;
        Context = new NetapiModuleContext(section, new Dictionary<string, object?>(), Client, Client.Bus, Logger, stop.Token);
        run = Task.Run(() => new RestCherrypyModule().RunAsync(Context));
        Http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public ScriptedClient Client { get; } = new();

    public ListLogger Logger { get; } = new();

    public NetapiModuleContext Context { get; }

    public HttpClient Http { get; }

    public Task Run => run;

    public static async Task<ModuleHost> StartAsync(params (string Key, object? Value)[] extra)
    {
        var port = FreePort.Next();
        var section = new Dictionary<string, object?> { ["port"] = (long)port, ["host"] = "127.0.0.1", ["disable_ssl"] = true };
        foreach (var (k, v) in extra)
        {
            section[k] = v;
        }

        var host = new ModuleHost(port, section);
        if (section["disable_ssl"] is true)
        {
            await host.WaitAsync();
        }

        return host;
    }

    private async Task WaitAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            if (run.IsFaulted)
            {
                await run;
            }

            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(25);
            }
        }

        throw new TimeoutException("module did not listen");
    }

    public async Task<string> LoginAsync(string user = "saltdev")
    {
        using var resp = await Http.PostAsync("login", new StringContent($"{{\"username\": \"{user}\", \"password\": \"saltdev\", \"eauth\": \"file\"}}", System.Text.Encoding.UTF8, "application/json"));
        resp.EnsureSuccessStatusCode();
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await stop.CancelAsync();
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }
}
