using System.Net;
using System.Text;
using System.Text.Json;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>The daemon with rest_tornado (websockets and <c>openapi</c> on), shared by <see cref="OpenApiTests"/>.</summary>
public sealed class OpenApiDaemonFixture : IAsyncLifetime
{
    private Daemon? daemon;

    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    public Uri Tornado { get; private set; } = new("http://127.0.0.1/");

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        Tornado = new Uri($"http://127.0.0.1:{port}/");
        daemon = await OpenApiCheck.StartDaemonAsync($"rest_tornado: {{address: 127.0.0.1, port: {port}, disable_ssl: True, websockets: True, openapi: True}}");
        await daemon.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}

/// <summary>rest_tornado's OpenAPI description: generated from its route table, valid, and true of the live module.</summary>
public sealed class OpenApiTests(OpenApiDaemonFixture fixture) : IClassFixture<OpenApiDaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private async Task<string> DescriptionAsync()
    {
        using var resp = await http.GetAsync(new Uri(fixture.Tornado, "openapi.json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/json", resp.Content.Headers.ContentType?.MediaType);
        return await resp.Content.ReadAsStringAsync();
    }

    private async Task<JsonDocument> LoginAsync()
    {
        using var resp = await http.PostAsync(new Uri(fixture.Tornado, "login"), new StringContent($$"""{"username": "saltdev", "password": "{{Daemon.Password}}", "eauth": "file"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
    }

    [OpenApiValidatorFact]
    public async Task The_description_is_valid_OpenAPI_3_1() => await OpenApiCheck.ValidateAsync(await DescriptionAsync());

    [Fact]
    public async Task Every_documented_route_answers_a_documented_status()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "/", "/login", "/minions", "/minions/{mid}", "/jobs", "/jobs/{jid}", "/run", "/events", "/hook", "/hook/{tag}", "/all_events/{token}", "/formatted_events/{token}" }, paths);
        using var login = await LoginAsync();
        var token = login.RootElement.GetProperty("return")[0].GetProperty("token").GetString();
        var sent = await OpenApiCheck.CheckLiveAsync(http, fixture.Tornado, doc.RootElement, token);
        Assert.Contains("POST / (none) -> 302", sent);
        Assert.Contains("POST / (token) -> 200", sent);
        Assert.Contains("GET /login (none) -> 401", sent);
        Assert.Contains("POST /login (none) -> 401", sent);
    }

    [Fact]
    public async Task Login_answers_the_fields_the_description_names()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var ok = doc.RootElement.GetProperty("paths").GetProperty("/login").GetProperty("post").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
        var schema = doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(ok!.Split('/')[^1]);
        var fields = schema.GetProperty("properties").GetProperty("return").GetProperty("items").GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var login = await LoginAsync();
        var entry = login.RootElement.GetProperty("return")[0];
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.True(entry.TryGetProperty(f, out _), $"/login answered no '{f}': {entry}"));
    }

    [Fact]
    public void The_option_is_off_by_default_and_checked_like_the_others()
    {
        Assert.False(TornadoOptions.Bind(new Dictionary<string, object?> { ["port"] = 8002L }).Listener.OpenApi);
        Assert.True(TornadoOptions.Bind(new Dictionary<string, object?> { ["port"] = 8002L, ["openapi"] = true }).Listener.OpenApi);
        // As every boolean of the section, by Python's bool(): a quoted "false" is true, and said at start.
        var quoted = TornadoOptions.Bind(new Dictionary<string, object?> { ["port"] = 8002L, ["openapi"] = "false" });
        Assert.True(quoted.Listener.OpenApi);
        Assert.Contains(quoted.Listener.Warnings, w => w.Key.Contains("openapi", StringComparison.Ordinal));
    }
}
