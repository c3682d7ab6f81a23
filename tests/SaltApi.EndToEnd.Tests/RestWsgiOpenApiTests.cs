using System.Net;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>The daemon with rest_wsgi's <c>openapi: true</c>, shared by <see cref="RestWsgiOpenApiTests"/>.</summary>
public sealed class WsgiOpenApiFixture : IAsyncLifetime
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

/// <summary>rest_wsgi's OpenAPI description: generated from its route table, valid, and true of the live module.</summary>
public sealed class RestWsgiOpenApiTests(WsgiOpenApiFixture fixture) : IClassFixture<WsgiOpenApiFixture>
{
    private async Task<string> DescriptionAsync()
    {
        using var resp = await fixture.Daemon.Http.GetAsync(new Uri(fixture.Daemon.Wsgi, "openapi.json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return await resp.Content.ReadAsStringAsync();
    }

    [OpenApiValidatorFact]
    public async Task The_description_is_valid_OpenAPI_3_1() => await OpenApiCheck.ValidateAsync(await DescriptionAsync());

    [Fact]
    public async Task Every_documented_route_answers_a_documented_status()
    {
        using var doc = JsonDocument.Parse(await DescriptionAsync());
        var root = doc.RootElement;
        Assert.Equal(["/", "/{path}"], root.GetProperty("paths").EnumerateObject().Select(p => p.Name));

        // The token is in the body: the description has no security scheme, and the chunk's schema names `token` and eauth.
        Assert.False(root.GetProperty("components").TryGetProperty("securitySchemes", out _));
        var chunk = root.GetProperty("components").GetProperty("schemas").GetProperty("LowstateChunk").GetProperty("properties");
        Assert.All(new[] { "token", "username", "password", "eauth", "client" }, p => Assert.True(chunk.TryGetProperty(p, out _), p));

        var sent = await OpenApiCheck.CheckLiveAsync(fixture.Daemon.Http, fixture.Daemon.Wsgi, root, token: null);
        Assert.Contains("GET / (none) -> 200", sent);
        Assert.Contains("POST / (none) -> 401", sent);
    }
}
