using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>
/// Ours in rest_tornado, as in rest_cherrypy: api_acl and authorized_ips from its own section, and no state
/// change from another origin on the session cookie alone.
/// </summary>
public sealed class AccessTests
{
    // limited may call only from 10.255.255.1; everyone else from anywhere.
    private static readonly Dictionary<string, object?> Acl = new()
    {
        ["users"] = new Dictionary<string, object?>
        {
            ["limited"] = new List<object?> { "10.255.255.1" },
            ["*"] = new List<object?> { "*" },
        },
    };

    private static StringContent Ping(string extra = "") => TornadoHost.Json($$"""[{"client": "local", "tgt": "*", "fun": "test.ping"{{extra}}}]""");

    [Fact]
    public async Task Api_acl_refuses_a_user_from_an_address_it_does_not_list_on_every_path()
    {
        await using var host = await TornadoHost.StartAsync(("api_acl", Acl));
        var (status, _, _) = await host.SendAsync(HttpMethod.Post, "/login", TornadoHost.Json("""{"username": "limited", "password": "saltdev", "eauth": "file"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // A token of limited's minted elsewhere (another module, another daemon) opens nothing here.
        var limited = (await host.Client.MakeTokenAsync("file", "limited", "saltdev", CancellationToken.None))!.Token;
        (status, _, var resp) = await host.SendAsync(HttpMethod.Post, "/", Ping(), limited);
        Assert.Equal(HttpStatusCode.Found, status);
        Assert.Equal("/login", resp.Headers.Location?.ToString());
        (status, _, _) = await host.SendAsync(HttpMethod.Get, "/events", token: limited);
        Assert.Equal(HttpStatusCode.Found, status);
        var (_, body, _) = await host.SendAsync(HttpMethod.Post, "/run", Ping($", \"token\": \"{limited}\""));
        Assert.Equal("{\"return\": [\"Failed to authenticate\"]}", body);
        (_, body, _) = await host.SendAsync(HttpMethod.Post, "/run", Ping(", \"eauth\": \"file\", \"username\": \"limited\", \"password\": \"saltdev\""));
        Assert.Equal("{\"return\": [\"Failed to authenticate\"]}", body);
        Assert.Empty(host.Client.Lowstates);
        using var ws = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/all_events/{limited}"), CancellationToken.None));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);

        // Another user is served.
        var saltdev = await host.LoginAsync();
        (status, body, _) = await host.SendAsync(HttpMethod.Post, "/", Ping(), saltdev);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Single(host.Client.Lowstates);
    }

    [Fact]
    public async Task Authorized_ips_refuses_other_addresses_with_403()
    {
        await using var host = await TornadoHost.StartAsync(("authorized_ips", new List<object?> { "127.0.0.2" }));
        var (status, _, _) = await host.SendAsync(HttpMethod.Get, "/");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        (status, _, _) = await host.SendAsync(HttpMethod.Post, "/login", TornadoHost.Json("""{"username": "saltdev", "password": "saltdev", "eauth": "file"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Empty(host.Client.Tokens);

        // From 127.0.0.2 (a loopback address of its own) the same requests are served.
        using var from2 = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = host.Http.BaseAddress };
        using var welcome = await from2.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, welcome.StatusCode);
        using var login = await from2.PostAsync("/login", TornadoHost.Json("""{"username": "saltdev", "password": "saltdev", "eauth": "file"}"""));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/minions")]
    [InlineData("/run")]
    [InlineData("/hook/ci")]
    public async Task A_cookie_session_from_another_origin_changes_nothing(string path)
    {
        await using var host = await TornadoHost.StartAsync();
        var token = await host.LoginAsync();
        async Task<HttpStatusCode> PostAsync(string? origin, string? referer, bool header)
        {
            using var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("client=local_async&tgt=*&fun=test.ping", Encoding.UTF8, "application/x-www-form-urlencoded") };
            r.Headers.Add("Cookie", $"session_id={token}");
            r.Headers.Add("Accept", "application/json");
            if (header)
            {
                r.Headers.Add("X-Auth-Token", token);
            }

            if (origin is not null)
            {
                r.Headers.Add("Origin", origin);
            }

            if (referer is not null)
            {
                r.Headers.Referrer = new Uri(referer);
            }

            using var resp = await host.Http.SendAsync(r);
            return resp.StatusCode;
        }

        var other = $"http://127.0.0.1:{host.Port + 1}";
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(other, null, header: false));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("null", null, header: false));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(null, other + "/form.html", header: false));
        Assert.Empty(host.Client.Lowstates);
        Assert.Empty(host.Client.Fired);

        // The API's own origin, no Origin at all (curl, SDKs), or the token in its header: served.
        Assert.Equal(HttpStatusCode.OK, await PostAsync($"http://127.0.0.1:{host.Port}", null, header: false));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(null, null, header: false));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(other, null, header: true));
    }

    [Fact]
    public async Task A_run_whose_chunks_carry_their_own_token_does_not_use_the_cookie()
    {
        await using var host = await TornadoHost.StartAsync();
        var token = await host.LoginAsync();
        var own = await host.LoginAsync();
        using var r = new HttpRequestMessage(HttpMethod.Post, "/run") { Content = Ping($", \"token\": \"{own}\"") };
        r.Headers.Add("Cookie", $"session_id={token}");
        r.Headers.Add("Origin", $"http://127.0.0.1:{host.Port + 1}");
        r.Headers.Add("Accept", "application/json");
        using var resp = await host.Http.SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Single(host.Client.Lowstates);
    }
}
