using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>
/// A session cookie is not enough from another origin: a request of any method, or a /ws upgrade, that only
/// the cookie authenticates is refused when its Origin (or Referer) is not the API's own or in cors_origin.
/// </summary>
public sealed class CrossOriginTests : IAsyncLifetime
{
    private ModuleHost host = null!;

    public async Task InitializeAsync() => host = await ModuleHost.StartAsync(("cors_origin", "https://gui.example"));

    public async Task DisposeAsync() => await host.DisposeAsync();

    private string Own => $"http://127.0.0.1:{host.Port}";

    private string Other => $"http://127.0.0.1:{host.Port + 1}";

    private async Task<HttpStatusCode> PostAsync(string path, string token, string? origin, string? referer = null, bool header = false, string type = "application/x-www-form-urlencoded")
    {
        using var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("client=local&tgt=*&fun=test.ping", Encoding.UTF8, type) };
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

    [Theory]
    [InlineData("/")]
    [InlineData("/minions")]
    [InlineData("/hook/ci")]
    [InlineData("/logout")]
    public async Task A_form_post_on_the_cookie_alone_from_another_origin_is_refused(string path)
    {
        var token = await host.LoginAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(path, token, Other));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(path, token, Other, type: "text/plain"));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(path, token, "null"));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(path, token, null, Other + "/page.html"));
        Assert.Empty(host.Client.Lowstates);
        Assert.Empty(host.Client.Fired);
    }

    [Fact]
    public async Task The_api_s_own_origin_cors_origin_no_origin_and_the_token_header_are_served()
    {
        var token = await host.LoginAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync("/", token, Own));
        Assert.Equal(HttpStatusCode.OK, await PostAsync("/", token, "https://gui.example"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync("/", token, null));
        Assert.Equal(HttpStatusCode.OK, await PostAsync("/", token, null, Own + "/app/index.html"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync("/", token, Other, header: true));
        Assert.Equal(4 + 1, host.Client.Lowstates.Count);
    }

    [Theory]
    [InlineData("minions")]
    [InlineData("jobs")]
    [InlineData("stats")]
    [InlineData("keys")]
    public async Task A_get_on_the_cookie_alone_from_another_origin_is_refused_and_a_listed_origin_is_served(string path)
    {
        var token = await host.LoginAsync();
        async Task<HttpStatusCode> GetAsync(string? origin, bool header = false)
        {
            using var r = new HttpRequestMessage(HttpMethod.Get, path);
            r.Headers.Add("Cookie", $"session_id={token}");
            r.Headers.Add("Accept", "application/json");
            if (origin is not null)
            {
                r.Headers.Add("Origin", origin);
            }

            if (header)
            {
                r.Headers.Add("X-Auth-Token", token);
            }

            using var resp = await host.Http.SendAsync(r);
            return resp.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(Other));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("null"));
        Assert.NotEqual(HttpStatusCode.Forbidden, await GetAsync("https://gui.example"));
        Assert.NotEqual(HttpStatusCode.Forbidden, await GetAsync(Own));
        Assert.NotEqual(HttpStatusCode.Forbidden, await GetAsync(null));
        Assert.NotEqual(HttpStatusCode.Forbidden, await GetAsync(Other, header: true));
    }

    private async Task<WebSocketException?> UpgradeAsync(string path, string? origin, string? cookie)
    {
        using var ws = new ClientWebSocket();
        if (origin is not null)
        {
            ws.Options.SetRequestHeader("Origin", origin);
        }

        if (cookie is not null)
        {
            ws.Options.SetRequestHeader("Cookie", $"session_id={cookie}");
        }

        try
        {
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}{path}"), CancellationToken.None);
            return null;
        }
        catch (WebSocketException e)
        {
            return e;
        }
    }

    [Fact]
    public async Task A_ws_upgrade_on_the_cookie_checks_its_origin_as_rest_tornado_does()
    {
        var token = await host.LoginAsync();
        var refused = await UpgradeAsync("/ws", Other, token);
        Assert.NotNull(refused);
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        Assert.Null(await UpgradeAsync("/ws", Own, token));
        Assert.Null(await UpgradeAsync("/ws", "https://gui.example", token));
        Assert.Null(await UpgradeAsync("/ws", null, token));

        // The token in the path is no ambient credential: any page needs the token itself.
        Assert.Null(await UpgradeAsync($"/ws/{token}", Other, null));
    }
}
