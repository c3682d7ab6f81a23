using System.Net;
using System.Text;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary><c>/events</c> (Server-Sent Events) and <c>/hook</c> over real HTTP with a scripted bus.</summary>
public sealed class EventsAndHookTests : IAsyncLifetime
{
    private TornadoHost host = null!;

    public async Task InitializeAsync() => host = await TornadoHost.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    private static OrderedDictionary<string, object?> M(params (string K, object? V)[] kv) => ScriptedClient.M(kv);

    /// <summary>Opens <c>/events</c> and returns the response and a reader past the headers.</summary>
    private async Task<(HttpResponseMessage Resp, StreamReader Reader)> OpenAsync(string token)
    {
        var r = new HttpRequestMessage(HttpMethod.Get, "/events");
        r.Headers.Add("X-Auth-Token", token);

        // What every browser's EventSource sends (Salt answers it 406).
        r.Headers.Add("Accept", "text/event-stream");
        var resp = await host.Http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        return (resp, reader);
    }

    private async Task WaitForSubscribersAsync(int n)
    {
        for (var i = 0; i < 200 && host.Client.Bus.Subscribers < n; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(n, host.Client.Bus.Subscribers);
    }

    private static async Task<string> ReadRecordAsync(StreamReader reader)
    {
        var sb = new StringBuilder();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await reader.ReadLineAsync(limit.Token) is { } line)
        {
            if (line.Length == 0)
            {
                return sb.ToString();
            }

            sb.Append(line).Append('\n');
        }

        return sb.ToString();
    }

    [Fact]
    public async Task Events_streams_each_bus_event_as_saltnado_writes_it()
    {
        var token = await host.LoginAsync();
        var (resp, reader) = await OpenAsync(token);
        using (resp)
        using (reader)
        {
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Equal("text/event-stream", resp.Content.Headers.ContentType!.ToString());
            Assert.Equal("no-cache", resp.Headers.CacheControl!.ToString());
            Assert.Equal("retry: 400", await reader.ReadLineAsync());
            await WaitForSubscribersAsync(1);
            host.Client.Bus.Publish(new SaltEvent("salt/job/20261126171352452203/new", M(("jid", "20261126171352452203"), ("minions", new List<object?> { "ms--0" }))));
            host.Client.Bus.Publish(new SaltEvent("evil\ndata: forged", M(("x", 1L))));
            Assert.Equal(
                "tag: salt/job/20261126171352452203/new\ndata: {\"data\": {\"jid\": \"20261126171352452203\", \"minions\": [\"ms--0\"]}, \"tag\": \"salt/job/20261126171352452203/new\"}\n",
                await ReadRecordAsync(reader));

            // A tag with a line break stays on its line: no forged field or event.
            Assert.Equal("tag: evil\\ndata: forged\ndata: {\"data\": {\"x\": 1}, \"tag\": \"evil\\ndata: forged\"}\n", await ReadRecordAsync(reader));
        }
    }

    [Fact]
    public async Task Events_end_when_the_token_expires()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var token = new SaltToken(new string('e', 64), "saltdev", "file", now, now + 3, null);
        host.Client.Tokens[token.Token] = token;
        var (resp, reader) = await OpenAsync(token.Token);
        using (resp)
        using (reader)
        {
            Assert.Equal("retry: 400", await reader.ReadLineAsync());
            await WaitForSubscribersAsync(1);
            await Task.Delay(3200);
            host.Client.Bus.Publish(new SaltEvent("after/expiry", M()));
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal("", await reader.ReadToEndAsync(limit.Token));
        }

        await WaitForSubscribersAsync(0);
    }

    [Fact]
    public async Task Hook_fires_every_header_but_the_token_and_the_session_cookie()
    {
        var token = await host.LoginAsync();
        using var r = new HttpRequestMessage(HttpMethod.Post, "/hook/my/app?branch=main&x=1&x=2") { Content = new StringContent("{\"revision\": \"aa22a3c4b2e7\", \"result\": true}", Encoding.UTF8, "application/json") };
        r.Headers.Add("X-Auth-Token", token);
        r.Headers.Add("Cookie", $"session_id={token}; theme=dark");
        r.Headers.Add("X-Gitlab-Token", "gitlab-secret");
        r.Headers.Add("x-my-header", "kept");
        r.Headers.Add("Remote-Addr", "6.6.6.6");
        r.Headers.Add("Accept", "application/json");
        using var resp = await host.Http.SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("{\"success\": true}", await resp.Content.ReadAsStringAsync());
        var (tag, data) = Assert.Single(host.Client.Fired);
        Assert.Equal("salt/netapi/hook/my/app", tag);
        Assert.Equal("{\"revision\": \"aa22a3c4b2e7\", \"result\": true}", SaltJson.Serialize(data["post"]));
        Assert.Equal("{\"branch\": \"main\", \"x\": [\"1\", \"2\"]}", SaltJson.Serialize(data["get"]));
        var headers = Assert.IsType<OrderedDictionary<string, object?>>(data["headers"]);
        Assert.Equal("kept", headers["X-My-Header"]);
        Assert.Equal("application/json; charset=utf-8", headers["Content-Type"]);

        // As Salt: a reactor checks its shared secret in the headers (GitLab's X-Gitlab-Token).
        Assert.Equal("gitlab-secret", headers["X-Gitlab-Token"]);
        Assert.Equal("theme=dark", headers["Cookie"]);

        // As rest_cherrypy: Remote-Addr is the client's address, never the one the client sent.
        Assert.Equal("127.0.0.1", headers["Remote-Addr"]);
        Assert.DoesNotContain("6.6.6.6", SaltJson.Serialize(data), StringComparison.Ordinal);
        Assert.False(headers.ContainsKey("X-Auth-Token"));
        Assert.DoesNotContain(token, SaltJson.Serialize(data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hook_needs_a_token_and_refuses_control_characters()
    {
        var (status, _, resp) = await host.SendAsync(HttpMethod.Post, "/hook", new StringContent("a=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Found, status);
        Assert.Equal("/login", resp.Headers.Location!.ToString());

        var token = await host.LoginAsync();
        (status, _, _) = await host.SendAsync(HttpMethod.Post, "/hook/a%0d%0adata:%20x", new StringContent("a=1", Encoding.UTF8, "application/x-www-form-urlencoded"), token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Empty(host.Client.Fired);
    }

    [Fact]
    public async Task Hook_without_a_body_posts_an_empty_map()
    {
        var token = await host.LoginAsync();
        var (status, body, _) = await host.SendAsync(HttpMethod.Post, "/hook", null, token);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"success\": true}", body);
        var (tag, data) = Assert.Single(host.Client.Fired);
        Assert.Equal("salt/netapi/hook", tag);
        Assert.Equal("{}", SaltJson.Serialize(data["post"]));
    }

    [Fact]
    public async Task Webhook_url_and_webhook_disable_auth_are_honoured()
    {
        await using var other = await TornadoHost.StartAsync(("webhook_url", "/api/hook"), ("webhook_disable_auth", true));
        var (status, _, _) = await other.SendAsync(HttpMethod.Post, "/api/hook/ci", new StringContent("ok=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("salt/netapi/hook/ci", Assert.Single(other.Client.Fired).Tag);
        (status, _, _) = await other.SendAsync(HttpMethod.Post, "/hook/ci", new StringContent("ok=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.NotFound, status);
    }
}
