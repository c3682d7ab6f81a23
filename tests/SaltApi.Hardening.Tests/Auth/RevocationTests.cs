using System.Net;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>Shared requests of the revocation tests.</summary>
internal static class TokenRequests
{
    public static async Task<(HttpStatusCode Status, string Body)> PostAsync(HardeningFixture fixture, Uri uri, string json, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        if (session is not null)
        {
            request.Headers.Add("X-Auth-Token", session);
        }

        using var response = await fixture.Daemon.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<string> LoginAsync(HardeningFixture fixture, string user)
    {
        var (status, body) = await PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "login"), $$"""{"username": "{{user}}", "password": "saltdev", "eauth": "file"}""");
        Assert.True(status == HttpStatusCode.OK, $"login: {(int)status} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString()!;
    }

    public static string Ping(string token) => $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "token": "{{token}}"}]""";
}

/// <summary>
/// /logout ends the token on the master, the source of truth, so every path of every daemon refuses it:
/// the token in a /run body, a rest_wsgi lowstate, the session. The user (limited: test.* only) may not
/// run auth.del_token, which is all a logout did before.
/// </summary>
public sealed class RevocationTests(HardeningFixture fixture) : IClassFixture<HardeningFixture>
{
    [Fact]
    public async Task A_logged_out_token_is_refused_by_run_by_rest_wsgi_and_as_a_session()
    {
        var token = await TokenRequests.LoginAsync(fixture, "limited");
        var (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "run"), TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.OK, $"before logout: {(int)status} {body}");

        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "logout"), "{}", token);
        Assert.True(status == HttpStatusCode.OK, $"logout: {(int)status} {body}");
        Assert.False(File.Exists(Path.Combine(fixture.Daemon.CacheDir, "tokens", token)), "the token file is still on the master");

        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "run"), TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.Unauthorized, $"/run after logout: {(int)status} {body}");
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.Unauthorized, $"rest_wsgi after logout: {(int)status} {body}");
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Cherrypy, """[{"client": "local", "tgt": "ms--0", "fun": "test.ping"}]""", token);
        Assert.True(status == HttpStatusCode.Unauthorized, $"session after logout: {(int)status} {body}");
    }
}

/// <summary>
/// A daemon whose master keeps tokens where the API cannot delete them (eauth_tokens not localfs), with
/// rest_tornado beside rest_wsgi and rest_cherrypy.
/// </summary>
public sealed class RemoteTokenStoreFixture : HardeningFixture
{
    public int TornadoPort { get; } = FreePort.Next();

    public Uri Tornado => new($"http://127.0.0.1:{TornadoPort}/");

    protected override string ExtraYaml => $"eauth_tokens: rediscluster\nrest_tornado: {{address: 127.0.0.1, port: {TornadoPort}, disable_ssl: True}}\n";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Daemon.WaitForPortAsync(TornadoPort, TimeSpan.FromSeconds(30));
    }
}

/// <summary>
/// When the master keeps the token (another token store, no right to run auth.del_token), the daemon
/// refuses it itself, on every path that takes a token and in every module: a logout on rest_cherrypy ends
/// the token for rest_wsgi and rest_tornado too, each answering exactly as it does for a token nobody issued.
/// </summary>
public sealed class InProcessRevocationTests(RemoteTokenStoreFixture fixture) : IClassFixture<RemoteTokenStoreFixture>
{
    private static async Task<(HttpStatusCode Status, string Body)> TornadoRootAsync(RemoteTokenStoreFixture fixture, string token)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Tornado)
        {
            Content = new StringContent("""[{"client": "local", "tgt": "ms--0", "fun": "test.ping"}]""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, $"{response.Headers.Location} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_token_the_master_kept_is_refused_in_a_run_body_after_logout()
    {
        var token = await TokenRequests.LoginAsync(fixture, "limited");
        var (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "logout"), "{}", token);
        Assert.True(status == HttpStatusCode.OK, $"logout: {(int)status} {body}");
        Assert.True(File.Exists(Path.Combine(fixture.Daemon.CacheDir, "tokens", token)), "this master keeps the token");

        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "run"), TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.Unauthorized, $"/run after logout: {(int)status} {body}");
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Cherrypy, $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "token": "{{token}}"}]""");
        Assert.True(status == HttpStatusCode.Unauthorized, $"session after logout: {(int)status} {body}");
    }

    [Fact]
    public async Task A_token_logged_out_on_rest_cherrypy_is_refused_by_rest_wsgi_and_rest_tornado()
    {
        var token = await TokenRequests.LoginAsync(fixture, "limited");
        var tornadoRun = new Uri(fixture.Tornado, "run");
        var (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.OK, $"rest_wsgi before logout: {(int)status} {body}");
        (status, body) = await TokenRequests.PostAsync(fixture, tornadoRun, TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.OK && body.Contains("\"ms--0\": true", StringComparison.Ordinal), $"rest_tornado /run before logout: {(int)status} {body}");

        // What each module answers for a token nobody issued.
        var unknown = new string('f', token.Length);
        var wsgiUnknown = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, TokenRequests.Ping(unknown));
        Assert.Equal((HttpStatusCode.Unauthorized, """{"return": "Authentication error occurred."}"""), wsgiUnknown);
        var tornadoRunUnknown = await TokenRequests.PostAsync(fixture, tornadoRun, TokenRequests.Ping(unknown));
        Assert.Equal((HttpStatusCode.OK, """{"return": ["Failed to authenticate"]}"""), tornadoRunUnknown);
        var tornadoRootUnknown = await TornadoRootAsync(fixture, unknown);
        Assert.Equal(HttpStatusCode.Found, tornadoRootUnknown.Status);

        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "logout"), "{}", token);
        Assert.True(status == HttpStatusCode.OK, $"logout: {(int)status} {body}");
        Assert.True(File.Exists(Path.Combine(fixture.Daemon.CacheDir, "tokens", token)), "this master keeps the token");

        Assert.Equal(wsgiUnknown, await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, TokenRequests.Ping(token)));
        Assert.Equal(tornadoRunUnknown, await TokenRequests.PostAsync(fixture, tornadoRun, TokenRequests.Ping(token)));
        Assert.Equal(tornadoRootUnknown, await TornadoRootAsync(fixture, token));
    }
}
