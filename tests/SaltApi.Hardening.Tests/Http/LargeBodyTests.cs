using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SaltApi.Hardening.Tests.Auth;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>Both modules with their default body limits (no <c>max_request_body_size</c> in the config).</summary>
public sealed class LargeBodyFixture : HardeningFixture
{
    protected override string WsgiKeys => "";

    protected override string CherrypyKeys(string dir) => "";
}

/// <summary>
/// Bodies as large as salt-api takes (CherryPy's 100 MiB) from a request whose token is checked valid before
/// its body is read; without one, 1 MiB, as before (credentials in the body never lift the limit).
/// </summary>
public sealed class LargeBodyTests(LargeBodyFixture fixture) : IClassFixture<LargeBodyFixture>
{
    private const int Large = 5 * 1024 * 1024;

    private Daemon Daemon => fixture.Daemon;

    private static string Lowstate(string extra = "") =>
        $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.arg", "arg": ["{{new string('x', Large)}}"]{{extra}}}]""";

    private static HttpRequestMessage Post(Uri uri, string body, string? token, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        // A refused body is answered before it is read: the client need not send it.
        request.Headers.ExpectContinue = true;
        return request;
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpRequestMessage request)
    {
        // No cookies: a session cookie is a token too.
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
        using (request)
        {
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Rest_cherrypy_takes_a_5_MiB_lowstate_with_a_valid_session_and_1_MiB_without()
    {
        var token = await fixture.SessionAsync();
        var (status, body) = await SendAsync(Post(Daemon.Cherrypy, Lowstate(), token));
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body[..Math.Min(body.Length, 300)]}");
        Assert.Contains("\"jid\"", body, StringComparison.Ordinal);

        // No session, or one that is not valid: POST / needs one, so 401 before anything is read, as salt-api's
        // salt_auth tool answers before CherryPy reads the body.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(Post(Daemon.Cherrypy, Lowstate(), null))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(Post(Daemon.Cherrypy, Lowstate(), new string('a', 64)))).Status);

        // Credentials in the body are not a checked token: /login and /run keep 1 MiB.
        var creds = $$""", "username": "saltdev", "password": "saltdev", "eauth": "file" """;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Post(new Uri(Daemon.Cherrypy, "run"), Lowstate(creds), null))).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Post(new Uri(Daemon.Cherrypy, "login"), Lowstate(creds)[1..^1], null))).Status);

        // Under 1 MiB nothing changes.
        var small = $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.arg", "arg": ["{{new string('x', 500_000)}}"]}]""";
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(Post(Daemon.Cherrypy, small, token))).Status);
    }

    [Fact]
    public async Task Rest_wsgi_takes_a_5_MiB_lowstate_with_a_valid_X_Auth_Token_and_1_MiB_without()
    {
        var token = await fixture.SessionAsync();
        var inChunk = $$""", "token": "{{token}}" """;
        var (status, body) = await SendAsync(Post(Daemon.Wsgi, Lowstate(inChunk), token));
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body[..Math.Min(body.Length, 300)]}");
        Assert.Contains("\"jid\"", body, StringComparison.Ordinal);

        // The token in the chunk alone is only known once the body is in: 1 MiB.
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Post(Daemon.Wsgi, Lowstate(inChunk), null))).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Post(Daemon.Wsgi, Lowstate(inChunk), new string('b', 64)))).Status);
    }

    [Fact]
    public async Task Rest_wsgi_keeps_1_MiB_for_a_token_logged_out_on_rest_cherrypy_at_once()
    {
        // The user "limited" may not run auth.del_token: the master keeps the token, and only the daemon's
        // revocation signal makes rest_wsgi's token check (which has just seen the token live) refuse it.
        var token = await TokenRequests.LoginAsync(fixture, "limited");
        var inChunk = $$""", "token": "{{token}}" """;
        var (status, body) = await SendAsync(Post(Daemon.Wsgi, Lowstate(inChunk), token));
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body[..Math.Min(body.Length, 300)]}");

        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(Daemon.Cherrypy, "logout"), "{}", token);
        Assert.True(status == HttpStatusCode.OK, $"logout: {(int)status} {body}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Post(Daemon.Wsgi, Lowstate(inChunk), token))).Status);
    }
}
