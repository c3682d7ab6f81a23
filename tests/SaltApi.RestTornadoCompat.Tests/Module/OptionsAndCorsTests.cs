using System.Net;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestTornadoCompat;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>The module's options (checked before start), TLS refusal, CORS, and the Accept matching.</summary>
public sealed class OptionsAndCorsTests
{
    [Fact]
    public void Without_a_port_the_module_is_not_loaded()
    {
        Assert.Equal("Not loading 'rest_tornado'. 'port' not specified in config", new RestTornadoModule().CheckConfig(new Dictionary<string, object?> { ["address"] = "127.0.0.1" }));
    }

    [Fact]
    public void Wrong_options_are_one_error_naming_each()
    {
        var e = Assert.Throws<NetapiConfigException>(() => new RestTornadoModule().CheckConfig(new Dictionary<string, object?>
        {
            ["port"] = "banana",
            ["webhook_url"] = "/",
            ["backlog"] = -1L,
        }));
        Assert.Equal(["rest_tornado.backlog", "rest_tornado.port", "rest_tornado.webhook_url"], e.Problems.Select(p => p.Key).Order());
    }

    [Fact]
    public void Salts_options_are_accepted()
    {
        Assert.Null(new RestTornadoModule().CheckConfig(new Dictionary<string, object?>
        {
            ["port"] = 8002L, ["address"] = "0.0.0.0", ["backlog"] = 128L, ["debug"] = false, ["disable_ssl"] = true,
            ["num_processes"] = 4L, ["websockets"] = true, ["cors_origin"] = new List<object?> { "http://a.example" },
            ["webhook_url"] = "/hook", ["webhook_disable_auth"] = false, ["ssl_crt"] = "/x.crt", ["ssl_key"] = "/x.key",
        }));
    }

    [Fact]
    public async Task Tls_without_a_certificate_logs_and_does_not_listen()
    {
        var port = SaltApi.Testing.FreePort.Next();
        var client = new ScriptedClient();
        var logger = new ListLogger();
        using var stop = new CancellationTokenSource();
        var run = new RestTornadoModule().RunAsync(new NetapiModuleContext(new Dictionary<string, object?> { ["port"] = (long)port, ["address"] = "127.0.0.1" }, new Dictionary<string, object?>(), client, client.Bus, logger, stop.Token));
        await ListLogger.WaitForAsync(logger, "required if SSL is not disabled");
        Assert.Contains(logger.Lines, l => l.Contains("Options 'ssl_crt' and 'ssl_key' are required if SSL is not disabled.", StringComparison.Ordinal));
        using var probe = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    // Tornado's bind_sockets with no address: every interface, IPv6 and IPv4 (Node 17+ resolves localhost to ::1 first).
    [Fact]
    public async Task Without_an_address_every_interface_is_bound_as_tornado_binds()
    {
        var port = SaltApi.Testing.FreePort.Next();
        var client = new ScriptedClient();
        var logger = new ListLogger();
        using var stop = new CancellationTokenSource();
        var run = new RestTornadoModule().RunAsync(new NetapiModuleContext(new Dictionary<string, object?> { ["port"] = (long)port, ["disable_ssl"] = true }, new Dictionary<string, object?>(), client, client.Bus, logger, stop.Token));
        await ListLogger.WaitForAsync(logger, "rest_tornado listening on");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var host in System.Net.Sockets.Socket.OSSupportsIPv6 ? new[] { "127.0.0.1", "[::1]" } : ["127.0.0.1"])
        {
            using var response = await http.GetAsync(new Uri($"http://{host}:{port}/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Num_processes_is_accepted_and_said_to_be_ignored()
    {
        await using var host = await TornadoHost.StartAsync(("num_processes", 4L));
        Assert.Contains(host.Logger.Lines, l => l.Contains("num_processes 4 is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cors_allows_listed_origins_and_answers_the_preflight()
    {
        await using var host = await TornadoHost.StartAsync(("cors_origin", new List<object?> { "http://a.example", "http://b.example" }));
        using var listed = new HttpRequestMessage(HttpMethod.Get, "/");
        listed.Headers.Add("Origin", "http://b.example");
        using var ok = await host.Http.SendAsync(listed);
        Assert.Equal("http://b.example", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var other = new HttpRequestMessage(HttpMethod.Get, "/");
        other.Headers.Add("Origin", "http://evil.example");
        using var no = await host.Http.SendAsync(other);
        Assert.False(no.Headers.Contains("Access-Control-Allow-Origin"));

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/minions");
        preflight.Headers.Add("Origin", "http://a.example");
        preflight.Headers.Add("Access-Control-Request-Headers", "X-Auth-Token,Content-Type");
        using var pre = await host.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, pre.StatusCode);
        Assert.Equal("X-Auth-Token,Content-Type", pre.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Equal("X-Auth-Token", pre.Headers.GetValues("Access-Control-Expose-Headers").Single());
        Assert.Equal("OPTIONS, GET, POST", pre.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("http://a.example", pre.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // Salt fails on a preflight without Access-Control-Request-Headers (None.split): ours is still a 204.
        using var bare = new HttpRequestMessage(HttpMethod.Options, "/");
        using var bareResp = await host.Http.SendAsync(bare);
        Assert.Equal(HttpStatusCode.NoContent, bareResp.StatusCode);
    }

    [Fact]
    public async Task Cors_star_allows_any_origin()
    {
        await using var host = await TornadoHost.StartAsync(("cors_origin", "*"));
        using var r = new HttpRequestMessage(HttpMethod.Get, "/");
        r.Headers.Add("Origin", "http://any.example");
        using var resp = await host.Http.SendAsync(r);
        Assert.Equal("*", resp.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData(null, "application/json")]
    [InlineData("*/*", "application/json")]
    [InlineData("application/x-yaml, application/json", "application/x-yaml")]
    [InlineData("text/html, application/*", "application/json")]
    [InlineData("application/x-y?ml", "application/x-yaml")]
    [InlineData("application/xml", null)]
    [InlineData("", null)]
    public void Accept_is_matched_in_the_clients_order_with_fnmatch(string? accept, string? want)
    {
        Assert.Equal(want, Output.Choose(accept)?.ContentType);
    }

    [Fact]
    public void Glob_with_many_stars_stays_linear()
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", 5000)) + "b";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(Output.Glob(new string('a', 20_000), pattern));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2));
    }
}
