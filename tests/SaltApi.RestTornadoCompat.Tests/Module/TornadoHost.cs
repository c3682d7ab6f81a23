using System.Net;
using System.Text;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestTornadoCompat;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>The module alone on a loopback port with a scripted client.</summary>
internal sealed class TornadoHost : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();

    private TornadoHost(int port, Dictionary<string, object?> section)
    {
        Port = port;
        Context = new NetapiModuleContext(section, new Dictionary<string, object?>(), Client, Client.Bus, Logger, stop.Token);
        Run = Task.Run(() => new RestTornadoModule().RunAsync(Context));
        Http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public ScriptedClient Client { get; } = new();

    public ListLogger Logger { get; } = new();

    public NetapiModuleContext Context { get; }

    public HttpClient Http { get; }

    public Task Run { get; }

    public static async Task<TornadoHost> StartAsync(params (string Key, object? Value)[] extra)
    {
        var port = FreePort.Next();
        var section = new Dictionary<string, object?> { ["port"] = (long)port, ["address"] = "127.0.0.1", ["disable_ssl"] = true, ["websockets"] = true };
        foreach (var (k, v) in extra)
        {
            section[k] = v;
        }

        var host = new TornadoHost(port, section);
        await host.WaitAsync();
        return host;
    }

    private async Task WaitAsync()
    {
        for (var i = 0; i < 400; i++)
        {
            if (Run.IsCompleted)
            {
                await Run;
                throw new InvalidOperationException("the module returned before listening: " + string.Join("\n", Logger.Lines));
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

    public static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    public async Task<string> LoginAsync(string user = "saltdev")
    {
        using var resp = await Http.PostAsync("login", Json($"{{\"username\": \"{user}\", \"password\": \"saltdev\", \"eauth\": \"file\"}}"));
        resp.EnsureSuccessStatusCode();
        var cookie = resp.Headers.GetValues("Set-Cookie").Single();
        return cookie["session_id=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
    }

    /// <summary>Sends a request; the answer's status, body and headers.</summary>
    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Resp)> SendAsync(HttpMethod method, string path, HttpContent? body = null, string? token = null, string? accept = "application/json", string? cookie = null)
    {
        using var r = new HttpRequestMessage(method, path) { Content = body };
        if (token is not null)
        {
            r.Headers.Add("X-Auth-Token", token);
        }

        if (cookie is not null)
        {
            r.Headers.Add("Cookie", cookie);
        }

        if (accept is not null)
        {
            r.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var resp = await Http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync(), resp);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await stop.CancelAsync();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }
}
