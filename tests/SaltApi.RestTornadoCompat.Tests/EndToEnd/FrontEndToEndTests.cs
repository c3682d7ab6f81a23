using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>
/// rest_tornado behind the contract's HttpFront, as the other modules: <c>trusted_proxies</c> decides whose
/// <c>X-Forwarded-For</c> counts, and <c>log_access_file</c> gets one CherryPy-format line per request with no token.
/// </summary>
public sealed class FrontEndToEndTests : IAsyncLifetime
{
    private readonly string accessLog = Path.Combine(Path.GetTempPath(), $"saltapi-tornado-access-{Guid.NewGuid():N}.log");
    private Daemon? daemon;
    private int port;

    public async Task InitializeAsync()
    {
        port = FreePort.Next();
        daemon = await Daemon.StartAsync(
            $"rest_tornado: {{address: 127.0.0.1, port: {port}, disable_ssl: True, websockets: True, trusted_proxies: [127.0.0.1], log_access_file: '{accessLog}'}}");
        await daemon.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }

        File.Delete(accessLog);
    }

    [Fact]
    public async Task The_access_log_has_the_forwarded_client_from_a_trusted_proxy_only_and_no_token()
    {
        // From 127.0.0.1, a trusted proxy: the forwarded client counts.
        using var trusted = Client(IPAddress.Loopback);
        var token = await LoginAsync(trusted, "203.0.113.7");

        // From 127.0.0.2, not trusted: its forged header changes nothing.
        using var untrusted = Client(IPAddress.Parse("127.0.0.2"));
        await LoginAsync(untrusted, "198.51.100.9");

        using (var ws = new ClientWebSocket())
        {
            ws.Options.SetRequestHeader("X-Forwarded-For", "203.0.113.8");
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/all_events/{token}"), CancellationToken.None);
            await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        var lines = await WaitForLinesAsync(3);
        Assert.Contains(lines, l => l.StartsWith("203.0.113.7 - - [", StringComparison.Ordinal) && l.Contains("\"POST /login HTTP/1.1\" 200 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("127.0.0.2 - - [", StringComparison.Ordinal) && l.Contains("\"POST /login HTTP/1.1\" 200 ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("198.51.100.9", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("203.0.113.8 - - [", StringComparison.Ordinal) && l.Contains("\"GET /all_events/*** HTTP/1.1\" 101 ", StringComparison.Ordinal));
        Assert.DoesNotContain(token, string.Join('\n', lines), StringComparison.Ordinal);
    }

    private HttpClient Client(IPAddress source) => new(new SocketsHttpHandler
    {
        UseCookies = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<string> LoginAsync(HttpClient http, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "login")
        {
            Content = new StringContent($"{{\"username\": \"saltdev\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var resp = await http.SendAsync(request);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        var ret = (List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["return"]!;
        return (string)((OrderedDictionary<string, object?>)ret[0]!)["token"]!;
    }

    // The writer flushes in the background: wait (bounded) until the lines are there.
    private async Task<string[]> WaitForLinesAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string[] lines = [];
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(accessLog))
            {
                using var stream = new FileStream(accessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length >= count)
                {
                    return lines;
                }
            }

            await Task.Delay(100);
        }

        return lines;
    }
}
