using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>The module over real HTTP: unknown routes, preflight, /stats, body limits and the session cache.</summary>
public sealed partial class ModuleHttpTests
{
    [Fact]
    public async Task Unknown_paths_methods_and_preflight()
    {
        var (s, body, _) = await SendAsync(Req(HttpMethod.Get, "nosuch"));
        Assert.Equal((HttpStatusCode.NotFound, "The path '/nosuch' was not found."), (s, PageMessage(body)));
        (s, body, _) = await SendAsync(Req(HttpMethod.Delete, "login"));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, "Specified method is invalid for this resource"), (s, PageMessage(body)));
        (s, _, _) = await SendAsync(Req(HttpMethod.Get, "login/extra/segments"));
        Assert.Equal(HttpStatusCode.NotFound, s);

        var r = Req(HttpMethod.Options, "/");
        r.Headers.Add("Origin", "http://example.invalid");
        r.Headers.Add("Access-Control-Request-Method", "POST");
        (s, body, var resp) = await SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, s); // Salt: 500 (#14058), with the same headers (cp-57)
        Assert.Equal("", body);
        var recorded = Transcript.Load("cp-57-options-root");
        foreach (var name in new[] { "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age" })
        {
            Assert.Equal(recorded.Header(name), resp.Headers.GetValues(name).Single());
        }
    }

    [Fact]
    public async Task Stats_needs_a_session_and_has_cherrypy_shape()
    {
        var (s, _, _) = await SendAsync(Req(HttpMethod.Get, "stats"));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
        var token = await host.LoginAsync();
        (s, var body, _) = await SendAsync(Req(HttpMethod.Get, "stats", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        var apps = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["CherryPy Applications"]!;
        Assert.True(apps["Total Requests"] is long n && n >= 1);
        Assert.Equal(true, apps["Enabled"]);
        // The counters of CherryPy's cpstats "CherryPy Applications" that clients read, with their types.
        foreach (var key in new[] { "Bytes Read/Request", "Bytes Read/Second", "Bytes Written/Request", "Bytes Written/Second", "Current Time", "Requests/Second", "Start Time", "Total Time", "Uptime" })
        {
            Assert.True(apps[key] is double or long, $"{key}: {apps[key]}");
        }

        foreach (var key in new[] { "Current Requests", "Total Bytes Read", "Total Bytes Written", "Total Requests" })
        {
            Assert.True(apps[key] is long, $"{key}: {apps[key]}");
        }

        Assert.IsType<string>(apps["Server Version"]);
        Assert.IsType<OrderedDictionary<string, object?>>(apps["Requests"]);
    }

    [Fact]
    public async Task Bodies_past_1_MiB_are_413_without_a_valid_session_and_taken_with_one()
    {
        var token = await host.LoginAsync();
        var big = "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.echo\", \"arg\": [\"" + new string('x', 1_100_000) + "\"]}]";
        foreach (var (path, session, expected) in new[] { ("run", null, 413), ("login", null, 413), ("/", null, 401), ("/", new string('a', 64), 401) })
        {
            // As curl does for large bodies: Expect: 100-continue, so the answer comes before the upload. A resource
            // that needs a session answers 401 first, as salt_auth runs before CherryPy reads the body.
            var r = Req(HttpMethod.Post, path, Json(big), session);
            r.Headers.ExpectContinue = true;
            var (s, body, _) = await SendAsync(r);
            Assert.Equal((HttpStatusCode)expected, s);
            Assert.Contains(expected == 413 ? "413 Request Entity Too Large" : "401 Unauthorized", body, StringComparison.Ordinal);
        }

        // A valid session lifts the limit to max_request_body_size (100 MiB by default, as CherryPy's).
        var ok = Req(HttpMethod.Post, "/", Json(big), token);
        var (status, _, _) = await SendAsync(ok);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Sessions_are_checked_with_the_master_and_cached_briefly()
    {
        var token = await host.LoginAsync();
        var before = host.Client.GetTokenCalls;
        for (var i = 0; i < 5; i++)
        {
            var (s, _, _) = await SendAsync(Req(HttpMethod.Get, "minions", token: token));
            Assert.Equal(HttpStatusCode.OK, s);
        }

        Assert.True(host.Client.GetTokenCalls - before <= 1);
        var (s2, _, _) = await SendAsync(Req(HttpMethod.Get, "minions", token: (token[0] == 'a' ? "b" : "a") + token[1..]));
        Assert.Equal(HttpStatusCode.Unauthorized, s2);
    }

    [Fact]
    public async Task WebSocket_raw_format()
    {
        var token = await host.LoginAsync();
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/ws/{token}"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("server received message", await ReceiveAsync(ws));
        while (host.Client.Bus.Subscribers == 0)
        {
            await Task.Delay(10);
        }

        host.Client.Bus.Publish(new SaltEvent("salt/key", new Dictionary<string, object?> { ["id"] = "m", ["act"] = "accept" }));
        Assert.Equal("data: {\"data\": {\"id\": \"m\", \"act\": \"accept\"}, \"tag\": \"salt/key\"}\n\n", await ReceiveAsync(ws));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    [Fact]
    public async Task WebSocket_format_events_and_auth()
    {
        var token = await host.LoginAsync();
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("X-Auth-Token", token);
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/ws?format_events"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("server received message", await ReceiveAsync(ws));
        while (host.Client.Bus.Subscribers == 0)
        {
            await Task.Delay(10);
        }

        host.Client.Bus.Publish(new SaltEvent("salt/key", new Dictionary<string, object?> { ["id"] = "m", ["act"] = "accept" }));
        Assert.Equal("{\"minions\": {\"m\": {\"id\": \"m\"}}}", await ReceiveAsync(ws));

        using var anonymous = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => anonymous.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/ws"), CancellationToken.None));
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket ws)
    {
        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var r = await ws.ReceiveAsync(buffer, cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, r.Count);
    }

    [Fact]
    public async Task App_serves_the_built_in_page()
    {
        var (s, body, resp) = await SendAsync(Req(HttpMethod.Get, "app/anything"));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("text/html", resp.Content.Headers.ContentType!.ToString());
        Assert.Contains("<html>", body, StringComparison.Ordinal);
    }
}
