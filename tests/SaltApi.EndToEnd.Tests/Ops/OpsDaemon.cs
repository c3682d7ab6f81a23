using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests.Ops;

/// <summary>A daemon with rest_wsgi, rest_cherrypy, rest_tornado and the <c>saltapi_ops</c> listener, and the calls the ops tests make.</summary>
internal sealed class OpsDaemon : IAsyncDisposable
{
    private OpsDaemon(Daemon daemon, int tornadoPort, int opsPort)
    {
        Daemon = daemon;
        Tornado = new Uri($"http://127.0.0.1:{tornadoPort}/");
        Ops = new Uri($"http://127.0.0.1:{opsPort}/");
    }

    public Daemon Daemon { get; }

    public Uri Tornado { get; }

    public Uri Ops { get; }

    public static async Task<OpsDaemon> StartAsync(bool metrics = true, string cherrypyKeys = "")
    {
        var (tornado, ops) = (FreePort.Next(), FreePort.Next());
        var daemon = await Daemon.StartAsync(
            $"""
            rest_tornado:
              address: 127.0.0.1
              port: {tornado}
              disable_ssl: true
            saltapi_ops:
              host: 127.0.0.1
              port: {ops}
              metrics: {(metrics ? "true" : "false")}
            """,
            configure: cherrypyKeys.Length == 0 ? null : dir => File.WriteAllText(Path.Combine(dir, "master"), File.ReadAllText(Path.Combine(dir, "master")).Replace("  host: 127.0.0.1\n  disable_ssl: true\n", "  host: 127.0.0.1\n  disable_ssl: true\n" + cherrypyKeys, StringComparison.Ordinal)));
        try
        {
            await daemon.WaitForPortAsync(tornado, TimeSpan.FromSeconds(60));
            await daemon.WaitForPortAsync(ops, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }

        return new OpsDaemon(daemon, tornado, ops);
    }

    public static HttpClient NewClient() => new() { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Logs in on a rest_cherrypy or rest_tornado base; the token.</summary>
    public static async Task<string> LoginAsync(HttpClient http, Uri baseUri, string password = Daemon.Password)
    {
        using var r = await http.PostAsync(new Uri(baseUri, "login"), Json(new { username = "saltdev", password, eauth = "file" }));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"login: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("return")[0].GetProperty("token").GetString()!;
    }

    /// <summary>POSTs a lowstate list with an optional token.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, Uri uri, object lowstate, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = Json(lowstate) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        return await http.SendAsync(request);
    }

    public static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    public async Task<PrometheusText> ScrapeAsync(HttpClient http)
    {
        using var r = await http.GetAsync(new Uri(Ops, "metrics"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"/metrics: {(int)r.StatusCode} {text}");
        Assert.StartsWith("text/plain", r.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Equal("0.0.4", r.Content.Headers.ContentType?.Parameters.FirstOrDefault(p => p.Name == "version")?.Value);
        return PrometheusText.Parse(text);
    }

    public async Task<string> ScrapeTextAsync(HttpClient http) => await http.GetStringAsync(new Uri(Ops, "metrics"));

    public ValueTask DisposeAsync() => Daemon.DisposeAsync();
}
