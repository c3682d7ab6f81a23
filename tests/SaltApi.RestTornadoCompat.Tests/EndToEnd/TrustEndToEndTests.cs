using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Json;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>
/// One daemon with rest_cherrypy and rest_tornado on one client layer: a logout in one module ends the token's
/// streams in every module and refuses a new one at once; /hook carries the headers a reactor checks.
/// </summary>
public sealed class TrustEndToEndTests(TornadoDaemonFixture fixture) : IClassFixture<TornadoDaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private async Task<string> CherrypyLoginAsync()
    {
        using var content = new StringContent("""{"username": "saltdev", "password": "saltdev", "eauth": "file"}""", Encoding.UTF8, "application/json");
        using var resp = await http.PostAsync(new Uri(fixture.Daemon.Cherrypy, "login"), content);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(Uri uri, string token, string json = "{}", params (string Name, string Value)[] headers)
    {
        using var r = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        r.Headers.Add("X-Auth-Token", token);
        r.Headers.Add("Accept", "application/json");
        foreach (var (name, value) in headers)
        {
            r.Headers.TryAddWithoutValidation(name, value);
        }

        using var resp = await http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Viewing_the_login_prompt_does_not_slow_the_logins_of_its_address()
    {
        // GET /login always answers 401 (the prompt); it checks no credentials, so it is no failed login. Counted as
        // one, three prompts slowed the address (a proxy's, or a health check's) to one login at a time.
        using var from = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.77"), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { Timeout = TimeSpan.FromSeconds(60) };
        for (var i = 0; i < 5; i++)
        {
            using var prompt = await from.GetAsync(new Uri(fixture.Tornado, "login"));
            Assert.Equal(HttpStatusCode.Unauthorized, prompt.StatusCode);
        }

        var logins = await Task.WhenAll(Enumerable.Range(0, 24).Select(async _ =>
        {
            using var content = new StringContent("""{"username": "saltdev", "password": "saltdev", "eauth": "file"}""", Encoding.UTF8, "application/json");
            using var r = await from.PostAsync(new Uri(fixture.Tornado, "login"), content);
            return r.StatusCode;
        }));
        Assert.All(logins, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    /// <summary>A WebSocket that has said "websocket client ready", its messages collected until it closes.</summary>
    private sealed class Stream : IDisposable
    {
        private readonly ClientWebSocket ws = new();
        private readonly ConcurrentQueue<string> messages = new();
        private readonly CancellationTokenSource limit = new(TimeSpan.FromSeconds(90));

        public Task Closed { get; private set; } = Task.CompletedTask;

        public IEnumerable<string> Messages => messages;

        public bool Saw(string text) => messages.Any(m => m.Contains(text, StringComparison.Ordinal));

        public static async Task<Stream> OpenAsync(Uri uri)
        {
            var s = new Stream();
            await s.ws.ConnectAsync(uri, s.limit.Token);
            await s.ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, s.limit.Token);
            s.Closed = Task.Run(s.ReadAsync);
            return s;
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[1 << 20];
            try
            {
                while (true)
                {
                    var count = 0;
                    ValueWebSocketReceiveResult r;
                    do
                    {
                        r = await ws.ReceiveAsync(buffer.AsMemory(count), limit.Token);
                        count += r.Count;
                    }
                    while (!r.EndOfMessage);

                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    messages.Enqueue(Encoding.UTF8.GetString(buffer, 0, count));
                }
            }
            catch (WebSocketException)
            {
                // The server ended the connection.
            }
        }

        public void Dispose()
        {
            limit.Cancel();
            ws.Dispose();
            limit.Dispose();
        }
    }

    // Fires hooks (on another session) until the condition holds; each hook is one more event on the bus.
    private async Task FireUntilAsync(string other, string tag, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var n = 0; !done(); n++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 30 s: {tag}");
            var (status, body) = await PostAsync(new Uri(fixture.Daemon.Cherrypy, $"hook/{tag}/{n}"), other);
            Assert.True(status == HttpStatusCode.OK, body);
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Logout_on_rest_cherrypy_ends_the_token_streams_of_every_module_and_refuses_a_new_one()
    {
        var token = await CherrypyLoginAsync();
        var other = await CherrypyLoginAsync();
        var tornadoWs = $"ws://127.0.0.1:{fixture.Port}";
        using var ws = await Stream.OpenAsync(new Uri($"ws://127.0.0.1:{fixture.Daemon.CherrypyPort}/ws/{token}"));
        using var allEvents = await Stream.OpenAsync(new Uri($"{tornadoWs}/all_events/{token}"));
        using var formatted = await Stream.OpenAsync(new Uri($"{tornadoWs}/formatted_events/{token}"));

        // Every stream flows: the hooks reach the raw ones, the formatted one shows its grains job's minions.
        await FireUntilAsync(other, "rev/before", () => ws.Saw("salt/netapi/hook/rev/before/") && allEvents.Saw("salt/netapi/hook/rev/before/") && formatted.Saw("\"minions\""));

        var (status, body) = await PostAsync(new Uri(fixture.Daemon.Cherrypy, "logout"), token);
        Assert.True(status == HttpStatusCode.OK, body);

        // A new stream on the token, at once: rest_tornado's token cache was told.
        using var again = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => again.ConnectAsync(new Uri($"{tornadoWs}/all_events/{token}"), CancellationToken.None));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);

        // The open streams end at the next batch of events, and none of those events reaches them.
        var all = Task.WhenAll(ws.Closed, allEvents.Closed, formatted.Closed);
        await FireUntilAsync(other, "rev/after", () => all.IsCompleted);
        Assert.False(ws.Saw("salt/netapi/hook/rev/after/"));
        Assert.False(allEvents.Saw("salt/netapi/hook/rev/after/"));

        // The other session's stream still flows.
        using var still = await Stream.OpenAsync(new Uri($"{tornadoWs}/all_events/{other}"));
        await FireUntilAsync(other, "rev/other", () => still.Saw("salt/netapi/hook/rev/other/"));
    }

    [Theory]
    [InlineData("rest_cherrypy")]
    [InlineData("rest_tornado")]
    public async Task A_gitlab_hook_reaches_the_bus_with_its_token_header(string module)
    {
        var token = await CherrypyLoginAsync();
        using var events = await Stream.OpenAsync(new Uri($"ws://127.0.0.1:{fixture.Port}/all_events/{token}"));
        var root = module == "rest_cherrypy" ? fixture.Daemon.Cherrypy : fixture.Tornado;
        var tag = $"gitlab/{module}";

        // As GitLab sends a push hook; the reactor compares X-Gitlab-Token with its shared secret.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!events.Saw($"salt/netapi/hook/{tag}"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the hook event did not arrive");
            var (status, body) = await PostAsync(
                new Uri(root, $"hook/{tag}"),
                token,
                """{"object_kind": "push", "ref": "refs/heads/main"}""",
                ("X-Gitlab-Token", "gitlab-shared-secret"),
                ("X-Gitlab-Event", "Push Hook"),
                ("Cookie", $"session_id={token}; _gitlab_session=abc"),
                ("Remote-Addr", "6.6.6.6"));
            Assert.True(status == HttpStatusCode.OK, body);
            await Task.Delay(200);
        }

        var hook = (OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(events.Messages.First(m => m.Contains($"salt/netapi/hook/{tag}", StringComparison.Ordinal))))!;
        var headers = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)hook["data"]!)["headers"]!;
        Assert.Equal("gitlab-shared-secret", headers["X-Gitlab-Token"]);
        Assert.Equal("Push Hook", headers["X-Gitlab-Event"]);
        Assert.Equal("_gitlab_session=abc", headers["Cookie"]);
        Assert.Equal("127.0.0.1", headers["Remote-Addr"]);
        Assert.False(headers.ContainsKey("X-Auth-Token"));
        var text = SaltJson.Serialize(hook);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        Assert.DoesNotContain("6.6.6.6", text, StringComparison.Ordinal);
    }
}
