using System.Net;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>api_acl in both modules: saltdev may call only from 10.255.255.1; everyone else from anywhere.</summary>
public sealed class ApiAclFixture : HardeningFixture
{
    private const string Acl = "  api_acl:\n    users:\n      saltdev:\n        - 10.255.255.1\n      '*':\n        - '*'\n";

    protected override string WsgiKeys => base.WsgiKeys + Acl;

    protected override string CherrypyKeys(string dir) => base.CherrypyKeys(dir) + Acl;

    public int TornadoPort { get; } = SaltApi.Testing.FreePort.Next();

    public Uri Tornado => new($"http://127.0.0.1:{TornadoPort}/");

    protected override string ExtraYaml => $"rest_tornado:\n  address: 127.0.0.1\n  port: {TornadoPort}\n  disable_ssl: True\n" + Acl;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Daemon.WaitForPortAsync(TornadoPort, TimeSpan.FromSeconds(30));
    }
}

/// <summary>
/// api_acl on every path that takes credentials (Salt checks it at /login only): /token, /run, POST /keys,
/// an eauth lowstate on / and rest_wsgi refuse saltdev from 127.0.0.1; another user is served.
/// </summary>
public sealed class ApiAclTests(ApiAclFixture fixture) : IClassFixture<ApiAclFixture>
{
    private const string Saltdev = """, "eauth": "file", "username": "saltdev", "password": "saltdev" """;
    private const string Limited = """, "eauth": "file", "username": "limited", "password": "saltdev" """;

    private Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string json, Uri? root = null) =>
        TokenRequests.PostAsync(fixture, new Uri(root ?? fixture.Daemon.Cherrypy, path), json);

    [Theory]
    [InlineData("login", """{"username": "saltdev", "password": "saltdev", "eauth": "file"}""")]
    [InlineData("token", """{"username": "saltdev", "password": "saltdev", "eauth": "file"}""")]
    [InlineData("run", """[{"client": "local", "tgt": "ms--0", "fun": "test.ping" """ + Saltdev + "}]")]
    [InlineData("keys", """{"mid": "aclbox" """ + Saltdev + "}")]
    public async Task Rest_cherrypy_refuses_a_user_from_an_address_api_acl_does_not_list(string path, string json)
    {
        var (status, body) = await PostAsync(path, json);
        Assert.True(status == HttpStatusCode.Unauthorized, $"/{path}: {(int)status} {body}");
    }

    [Fact]
    public async Task Rest_wsgi_refuses_a_user_from_an_address_api_acl_does_not_list()
    {
        var (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, """[{"client": "local", "tgt": "ms--0", "fun": "test.ping" """ + Saltdev + "}]");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{(int)status} {body}");
    }

    [Fact]
    public async Task Rest_tornado_reads_api_acl_from_its_own_section()
    {
        // A client of its own without cookies: a session_id cookie set for 127.0.0.1 would reach every port.
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
        async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string json)
        {
            using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(fixture.Tornado, path), content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var (status, body) = await PostAsync("login", """{"username": "saltdev", "password": "saltdev", "eauth": "file"}""");
        Assert.True(status == HttpStatusCode.Unauthorized, $"/login: {(int)status} {body}");
        (status, body) = await PostAsync("run", """[{"client": "local", "tgt": "ms--0", "fun": "test.ping" """ + Saltdev + "}]");
        Assert.True(status == HttpStatusCode.OK && body == """{"return": ["Failed to authenticate"]}""", $"/run: {(int)status} {body}");

        // Another user is served.
        (status, body) = await PostAsync("run", """[{"client": "local", "tgt": "ms--0", "fun": "test.ping" """ + Limited + "}]");
        Assert.True(status == HttpStatusCode.OK && body.Contains("\"ms--0\": true", StringComparison.Ordinal), $"/run: {(int)status} {body}");
    }

    [Fact]
    public async Task A_user_api_acl_allows_is_served_on_every_path()
    {
        var ping = """[{"client": "local", "tgt": "ms--0", "fun": "test.ping" """ + Limited + "}]";
        var (status, body) = await PostAsync("run", ping);
        Assert.True(status == HttpStatusCode.OK, $"/run: {(int)status} {body}");
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, ping);
        Assert.True(status == HttpStatusCode.OK, $"rest_wsgi: {(int)status} {body}");
        var token = await TokenRequests.LoginAsync(fixture, "limited");
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, TokenRequests.Ping(token));
        Assert.True(status == HttpStatusCode.OK, $"rest_wsgi token: {(int)status} {body}");
        (status, body) = await PostAsync("token", """{"username": "limited", "password": "saltdev", "eauth": "file"}""");
        Assert.True(status == HttpStatusCode.OK, $"/token: {(int)status} {body}");
    }
}
