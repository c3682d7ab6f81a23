using System.Net;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>
/// CORS as rest_cherrypy's cors_tool answers it (no <c>cors_origin</c>), against the real daemon: a page of another
/// origin that sends the token itself (X-Auth-Token) is answered with its Origin reflected and credentials allowed,
/// preflights included; one that relies on the visitor's <c>session_id</c> cookie alone is refused (403).
/// </summary>
public sealed class CorsEndToEndTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    private const string Evil = "http://evil.example";

    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = fixture.Daemon.Cherrypy, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private string Own => fixture.Daemon.Cherrypy.GetLeftPart(UriPartial.Authority);

    private async Task<string> LoginAsync()
    {
        using var content = new StringContent($"{{\"username\": \"saltdev\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}", Encoding.UTF8, "application/json");
        using var resp = await http.PostAsync("login", content);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    private async Task<(HttpStatusCode Status, HttpResponseMessage Resp)> SendAsync(HttpMethod method, string path, string? origin, string? header = null, string? cookie = null, string? body = null)
    {
        var r = new HttpRequestMessage(method, path);
        r.Headers.Add("Accept", "application/json");
        if (body is not null)
        {
            r.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (origin is not null)
        {
            r.Headers.Add("Origin", origin);
        }

        if (header is not null)
        {
            r.Headers.Add("X-Auth-Token", header);
        }

        if (cookie is not null)
        {
            r.Headers.Add("Cookie", $"session_id={cookie}");
        }

        var resp = await http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead); // /events would stream
        return (resp.StatusCode, resp);
    }

    private static string One(HttpResponseMessage resp, string name) => resp.Headers.GetValues(name).Single();

    [Fact]
    public async Task A_page_of_another_origin_sending_the_token_header_is_answered_as_cors_tool_does()
    {
        var token = await LoginAsync();
        var (status, resp) = await SendAsync(HttpMethod.Get, "minions/ms--0", Evil, header: token);
        using (resp)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(Evil, One(resp, "Access-Control-Allow-Origin"));
            Assert.Equal("true", One(resp, "Access-Control-Allow-Credentials"));
            Assert.Equal("GET, POST", One(resp, "Access-Control-Expose-Headers"));
        }

        // The same page's token with its cookie too (fetch with credentials: "include"): the header decides.
        (status, resp) = await SendAsync(HttpMethod.Post, "/", Evil, header: token, cookie: token, body: """[{"client": "local", "tgt": "ms--0", "fun": "test.ping"}]""");
        using (resp)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("{\"return\": [{\"ms--0\": true}]}", await resp.Content.ReadAsStringAsync());
            Assert.Equal(Evil, One(resp, "Access-Control-Allow-Origin"));
        }
    }

    [Theory]
    [InlineData("/")]
    [InlineData("minions")]
    [InlineData("login")]
    public async Task A_preflight_from_any_origin_is_answered_as_cors_tool_does(string path)
    {
        using var r = new HttpRequestMessage(HttpMethod.Options, path);
        r.Headers.Add("Origin", Evil);
        r.Headers.Add("Access-Control-Request-Method", "POST");
        r.Headers.Add("Access-Control-Request-Headers", "x-auth-token, content-type");
        using var resp = await http.SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode); // Salt: 500 on resources with sessions (#14058)
        Assert.Equal(Evil, One(resp, "Access-Control-Allow-Origin"));
        Assert.Equal("true", One(resp, "Access-Control-Allow-Credentials"));
        Assert.Equal("GET, POST", One(resp, "Access-Control-Allow-Methods"));
        Assert.Equal("Content-Type, X-Auth-Token, X-Requested-With", One(resp, "Access-Control-Allow-Headers"));
        Assert.Equal("1400", One(resp, "Access-Control-Max-Age"));
    }

    [Theory]
    [InlineData("minions")]
    [InlineData("jobs")]
    [InlineData("events")]
    public async Task A_get_on_the_session_cookie_alone_from_another_origin_is_refused(string path)
    {
        var token = await LoginAsync();
        var (status, resp) = await SendAsync(HttpMethod.Get, path, Evil, cookie: token);
        resp.Dispose();
        Assert.Equal(HttpStatusCode.Forbidden, status);

        // Referer stands for a missing Origin.
        using var r = new HttpRequestMessage(HttpMethod.Get, path);
        r.Headers.Add("Cookie", $"session_id={token}");
        r.Headers.Referrer = new Uri(Evil + "/page.html");
        using var byReferer = await http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.Forbidden, byReferer.StatusCode);
    }

    [Fact]
    public async Task The_cookie_from_the_api_s_own_origin_or_with_no_origin_and_requests_without_origin_are_served()
    {
        var token = await LoginAsync();
        foreach (var origin in new[] { Own, null })
        {
            var (status, resp) = await SendAsync(HttpMethod.Get, "minions/ms--0", origin, cookie: token);
            resp.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
            (status, resp) = await SendAsync(HttpMethod.Post, "/", origin, cookie: token, body: """[{"client": "local", "tgt": "ms--0", "fun": "test.ping"}]""");
            resp.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
        }

        // curl, pepper, SDKs: no Origin at all, the token header; Salt's `*` then.
        var (s, r) = await SendAsync(HttpMethod.Get, "minions/ms--0", null, header: token);
        using (r)
        {
            Assert.Equal(HttpStatusCode.OK, s);
            Assert.Equal("*", One(r, "Access-Control-Allow-Origin"));
        }
    }
}
