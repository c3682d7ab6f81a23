using System.Net;
using System.Text;
using System.Text.Json;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>The daemon with rest_cherrypy's <c>openapi: true</c>, shared by <see cref="OpenApiTests"/>.</summary>
public sealed class OpenApiDaemonFixture : IAsyncLifetime
{
    private Daemon? daemon;

    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => daemon = await OpenApiCheck.StartDaemonAsync();

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}

/// <summary>rest_cherrypy's OpenAPI description: generated from its route table, valid, and true of the live module.</summary>
public sealed class OpenApiTests(OpenApiDaemonFixture fixture) : IClassFixture<OpenApiDaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private async Task<string> DescriptionAsync()
    {
        using var resp = await http.GetAsync(new Uri(fixture.Daemon.Cherrypy, "openapi.json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/json", resp.Content.Headers.ContentType?.MediaType);
        return await resp.Content.ReadAsStringAsync();
    }

    private async Task<string> LoginAsync()
    {
        using var resp = await http.PostAsync(new Uri(fixture.Daemon.Cherrypy, "login"), new StringContent($$"""{"username": "saltdev", "password": "{{Daemon.Password}}", "eauth": "file"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    [OpenApiValidatorFact]
    public async Task The_description_is_valid_OpenAPI_3_1() => await OpenApiCheck.ValidateAsync(await DescriptionAsync());

    [OpenApiValidatorFact]
    public async Task The_validator_refuses_a_broken_description()
    {
        // The check can fail: the same description with a response status that is not one.
        var broken = (await DescriptionAsync()).Replace("\"401\": {", "\"4o1\": {", StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => OpenApiCheck.ValidateAsync(broken));
    }

    [Fact]
    public async Task Every_documented_route_answers_a_documented_status()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Superset(new HashSet<string> { "/", "/login", "/logout", "/minions", "/minions/{mid}", "/jobs", "/jobs/{jid}", "/run", "/token", "/keys", "/keys/{mid}", "/events", "/ws", "/stats", "/hook", "/hook/{tag}" }, paths.ToHashSet());
        var sent = await OpenApiCheck.CheckLiveAsync(http, fixture.Daemon.Cherrypy, doc.RootElement, await LoginAsync());
        Assert.Contains("POST /login (none) -> 401", sent);
        Assert.Contains("POST / (none) -> 401", sent);
        Assert.Contains("POST / (token) -> 200", sent);
        Assert.Contains("GET /minions/{mid} (token) -> 200", sent);
    }

    [Fact]
    public async Task Login_answers_the_fields_the_description_names()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var login = doc.RootElement.GetProperty("paths").GetProperty("/login").GetProperty("post");
        Assert.Equal("#/components/schemas/Credentials", login.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var ok = login.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
        var schema = doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(ok!.Split('/')[^1]);
        var fields = schema.GetProperty("properties").GetProperty("return").GetProperty("items").GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToList();

        using var resp = await http.PostAsync(new Uri(fixture.Daemon.Cherrypy, "login"), new StringContent($$"""{"username": "saltdev", "password": "{{Daemon.Password}}", "eauth": "file"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        using var answer = JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
        var entry = answer.RootElement.GetProperty("return")[0];
        Assert.Equal(["token", "expire", "start", "user", "eauth", "perms"], fields);
        Assert.All(fields, f => Assert.True(entry.TryGetProperty(f, out _), $"/login answered no '{f}': {entry}"));
    }

    [Fact]
    public async Task The_description_says_how_each_route_authenticates()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var root = doc.RootElement;
        var schemes = root.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal(("header", "X-Auth-Token"), (schemes.GetProperty("AuthToken").GetProperty("in").GetString(), schemes.GetProperty("AuthToken").GetProperty("name").GetString()));
        Assert.Equal(("cookie", "session_id"), (schemes.GetProperty("SessionCookie").GetProperty("in").GetString(), schemes.GetProperty("SessionCookie").GetProperty("name").GetString()));
        string Security(string path, string method) => root.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("security").ToString();
        Assert.Equal("[]", Security("/token", "post"));
        Assert.Equal("[]", Security("/run", "post"));
        Assert.Contains("{}", Security("/login", "post"), StringComparison.Ordinal);
        Assert.Contains("AuthToken", Security("/minions", "get"), StringComparison.Ordinal);
        Assert.DoesNotContain("{}", Security("/minions", "get"), StringComparison.Ordinal);
        Assert.Contains("{}", Security("/keys", "get"), StringComparison.Ordinal);
        Assert.Equal("/", root.GetProperty("servers")[0].GetProperty("url").GetString());
    }

    [Fact]
    public void The_option_is_off_by_default_and_checked_like_the_others()
    {
        Assert.False(CherrypyOptions.Bind(new Dictionary<string, object?> { ["port"] = 8000L }).Listener.OpenApi);
        Assert.True(CherrypyOptions.Bind(new Dictionary<string, object?> { ["port"] = 8000L, ["openapi"] = true }).Listener.OpenApi);
        // As every boolean of the section, by Python's bool(): a quoted "false" is true, and said at start.
        var quoted = CherrypyOptions.Bind(new Dictionary<string, object?> { ["port"] = 8000L, ["openapi"] = "false" });
        Assert.True(quoted.Listener.OpenApi);
        Assert.Contains(quoted.Listener.Warnings, w => w.Key.Contains("openapi", StringComparison.Ordinal));
        Assert.Throws<NetapiConfigException>(() => CherrypyOptions.Bind(new Dictionary<string, object?> { ["port"] = 8000L, ["openapi"] = true, ["thread_pool"] = "many" }));
    }

    [Fact]
    public async Task Without_the_option_nothing_is_served_there()
    {
        using var resp = await fixture.Daemon.Http.GetAsync(new Uri(fixture.Daemon.Wsgi, "openapi.json"));
        // rest_wsgi has the option on here: its description, not its greeting.
        Assert.Contains("\"openapi\": \"3.1.0\"", await resp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var plain = await Daemon.StartAsync();
        using var off = await plain.Http.GetAsync(new Uri(plain.Cherrypy, "openapi.json"));
        Assert.True(off.StatusCode == HttpStatusCode.NotFound, $"{off.StatusCode}: {await off.Content.ReadAsStringAsync()}");
    }
}
