using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>The module over real HTTP with a scripted client: routing, formats, statuses, headers.</summary>
public sealed partial class ModuleHttpTests : IAsyncLifetime
{
    private ModuleHost host = null!;

    public async Task InitializeAsync() => host = await ModuleHost.StartAsync(("collect_stats", true));

    public async Task DisposeAsync() => await host.DisposeAsync();

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    private static HttpRequestMessage Req(HttpMethod method, string path, HttpContent? body = null, string? token = null, string? accept = null)
    {
        var r = new HttpRequestMessage(method, path) { Content = body };
        if (token is not null)
        {
            r.Headers.Add("X-Auth-Token", token);
        }

        if (accept is not null)
        {
            r.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return r;
    }

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Resp)> SendAsync(HttpRequestMessage r)
    {
        var resp = await host.Http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync(), resp);
    }

    private static string PageMessage(string html) =>
        html[(html.IndexOf("<p>", StringComparison.Ordinal) + 3)..html.IndexOf("</p>", StringComparison.Ordinal)];

    [Fact]
    public async Task Get_root_is_welcome_with_every_client()
    {
        var (status, body, resp) = await SendAsync(Req(HttpMethod.Get, "/", accept: "application/json"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Transcript.Load("cp-09-get-root").ExactBody, body);
        Assert.Equal("application/json", resp.Content.Headers.ContentType!.ToString());
        Assert.Equal("GET, HEAD, POST", string.Join(", ", resp.Content.Headers.Allow));
        Assert.Equal("3006.0", resp.Headers.GetValues("X-Salt-Version").Single());

        // As cors_tool (cp-09): without an Origin, `*`, with Salt's Expose-Headers value and credentials.
        Assert.Equal("*", resp.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("GET, POST", resp.Headers.GetValues("Access-Control-Expose-Headers").Single());
        Assert.Equal("true", resp.Headers.GetValues("Access-Control-Allow-Credentials").Single());
    }

    [Fact]
    public async Task Head_root_has_the_version_header_and_no_body()
    {
        var (status, body, resp) = await SendAsync(Req(HttpMethod.Head, "/"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("", body);
        Assert.Equal("3006.0", resp.Headers.GetValues("X-Salt-Version").Single());
    }

    [Fact]
    public async Task Get_root_yaml_and_not_acceptable()
    {
        var (_, yaml, resp) = await SendAsync(Req(HttpMethod.Get, "/", accept: "application/x-yaml"));
        Assert.Equal("application/x-yaml", resp.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("clients:\n- local\n", yaml, StringComparison.Ordinal);
        Assert.EndsWith("return: Welcome\n", yaml, StringComparison.Ordinal);

        var (status, page, resp2) = await SendAsync(Req(HttpMethod.Get, "/", accept: "text/html"));
        Assert.Equal(HttpStatusCode.NotAcceptable, status);
        Assert.Equal(Transcript.Load("cp-10-get-root-html").ExactBody, page);
        Assert.Equal("text/html; charset=utf-8", resp2.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Login_hands_out_the_salt_token_as_session()
    {
        var (status, body, resp) = await SendAsync(Req(HttpMethod.Post, "login", Json("{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}")));
        Assert.Equal(HttpStatusCode.OK, status);
        var ret = (List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["return"]!;
        var entry = (OrderedDictionary<string, object?>)ret[0]!;
        Assert.Equal(["token", "expire", "start", "user", "eauth", "perms"], entry.Keys);
        var token = (string)entry["token"]!;
        Assert.Equal(64, token.Length);
        Assert.Equal(token, resp.Headers.GetValues("X-Auth-Token").Single());
        var cookie = resp.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"session_id={token}; expires=", cookie, StringComparison.Ordinal);
        Assert.Contains("; Path=/; HttpOnly; SameSite=Lax", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain("Secure", cookie, StringComparison.Ordinal);
        Assert.Equal("[\".*\", \"@runner\"]", SaltJson.Serialize(entry["perms"]));
    }

    [Fact]
    public async Task Login_form_limited_user_has_empty_perms_object()
    {
        var (status, body, _) = await SendAsync(Req(HttpMethod.Post, "login", new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "limited", ["password"] = "saltdev", ["eauth"] = "file" })));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.EndsWith("\"user\": \"limited\", \"eauth\": \"file\", \"perms\": {}}]}", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"username\": \"saltdev\", \"password\": \"wrong\", \"eauth\": \"file\"}")]
    [InlineData("{\"username\": \"saltdev\", \"password\": \"saltdev\"}")]
    public async Task Login_refused_is_401_page(string creds)
    {
        var (status, body, resp) = await SendAsync(Req(HttpMethod.Post, "login", Json(creds)));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Could not authenticate using provided credentials", PageMessage(body));
        Assert.False(resp.Headers.Contains("X-Auth-Token"));
    }

    [Fact]
    public async Task Login_without_body_is_a_401_not_salts_500()
    {
        var (status, body, _) = await SendAsync(Req(HttpMethod.Post, "login", new ByteArrayContent([])));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Could not authenticate using provided credentials", PageMessage(body));
    }

    [Fact]
    public async Task Get_login_asks_to_log_in()
    {
        var (status, body, resp) = await SendAsync(Req(HttpMethod.Get, "login"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"status\": null, \"return\": \"Please log in\"}", body);
        Assert.Equal("Session", resp.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Post_root_needs_a_session_and_uses_its_token()
    {
        var (status, body, _) = await SendAsync(Req(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]")));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("No permission -- see authorization schemes", PageMessage(body));

        var token = await host.LoginAsync();
        (status, body, var resp) = await SendAsync(Req(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": \"bad\"}]"), token));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"return\": [{\"ms--0\": true, \"ms--1\": true}]}", body);
        Assert.Equal("private", resp.Headers.CacheControl!.ToString());
        Assert.Equal(token, host.Client.Lowstates.Last()["token"]);

        // The cookie alone authenticates too.
        var r = Req(HttpMethod.Post, "/", Json("{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}"));
        r.Headers.Add("Cookie", $"session_id={token}");
        (status, _, _) = await SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("application/json", "[{", 400, "Invalid JSON document")]
    [InlineData("application/xml", "<x/>", 406, "Content type not supported")]
    [InlineData("application/json", "\"hello\"", 400, "Lowstates must be a list")]
    [InlineData("application/json", "[{\"client\": \"foo\", \"fun\": \"test.ping\"}]", 400, "Invalid client specified: 'foo'")]
    [InlineData("application/json", "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.acl\"}]", 401, "Authorization error occurred.")]
    [InlineData("application/json", "[{\"client\": \"runner\", \"fun\": \"test.down\"}]", 503, "Salt Master is not available.")]
    [InlineData("application/json", "[{\"client\": \"runner\", \"fun\": \"test.timeout\"}]", 504, "The gateway server did not receive a timely response")]
    public async Task Post_root_errors_are_cherrypy_pages(string contentType, string body, int status, string message)
    {
        var token = await host.LoginAsync();
        var (s, page, resp) = await SendAsync(Req(HttpMethod.Post, "/", new StringContent(body, Encoding.UTF8, contentType), token));
        Assert.Equal(status, (int)s);
        Assert.Equal(message, PageMessage(page));
        Assert.Equal("text/html; charset=utf-8", resp.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Post_root_without_fun_is_the_generic_500_in_yaml_when_asked()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\"}]"), token, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.InternalServerError, s);
        Assert.Equal("return: An unexpected error occurred\nstatus: 500\n", body);
    }

    [Fact]
    public async Task Local_batch_results_are_flattened_and_text_plain_is_json()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Post, "/", new StringContent("[{\"client\": \"local_batch\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"batch\": \"1\"}]", Encoding.UTF8, "text/plain"), token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": [{\"ms--0\": true}, {\"ms--1\": true}]}", body);
    }

    [Fact]
    public async Task Form_post_shapes_one_chunk_with_arg_list()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Post, "/", new StringContent("client=runner&fun=test.arg&arg=a&arg=2", Encoding.UTF8, "application/x-www-form-urlencoded"), token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": [{\"args\": [\"a\", 2], \"kwargs\": {}}]}", body);
    }

    [Fact]
    public async Task Run_takes_credentials_from_the_body_only()
    {
        var (s, body, _) = await SendAsync(Req(HttpMethod.Post, "run", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"pam\"}]")));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": [{\"ms--0\": true, \"ms--1\": true}]}", body);

        var token = await host.LoginAsync();
        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "run", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), token));
        Assert.Equal((HttpStatusCode.Unauthorized, "No authentication credentials given"), (s, PageMessage(body)));

        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "run", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": \"xyz\"}]")));
        Assert.Equal((HttpStatusCode.Unauthorized, "Invalid token"), (s, PageMessage(body)));

        (s, _, _) = await SendAsync(Req(HttpMethod.Post, "run", Json($"[{{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": \"{token}\"}}]")));
        Assert.Equal(HttpStatusCode.OK, s);
    }

    [Fact]
    public async Task Token_returns_a_bare_list_of_salt_tokens()
    {
        var (s, body, _) = await SendAsync(Req(HttpMethod.Post, "token", Json("{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}")));
        Assert.Equal(HttpStatusCode.OK, s);
        var list = (List<object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!;
        Assert.Equal(["start", "expire", "name", "eauth", "groups", "token"], ((OrderedDictionary<string, object?>)list[0]!).Keys);

        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "token", Json("{\"username\": \"saltdev\", \"eauth\": \"file\"}")));
        Assert.Equal((HttpStatusCode.BadRequest, "Require \"username\", \"password\", and \"eauth\" params"), (s, PageMessage(body)));

        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "token", Json("{\"username\": \"saltdev\", \"password\": \"x\", \"eauth\": \"file\"}")));
        Assert.Equal((HttpStatusCode.Unauthorized, "Authentication failure of type \"eauth\" occurred for user saltdev."), (s, PageMessage(body)));
    }

    [Fact]
    public async Task Minions_get_and_post()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Get, "minions/ms--0", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": [{\"ms--0\": {\"id\": \"ms--0\"}}]}", body);
        var low = host.Client.Lowstates.Last();
        Assert.Equal(("local", "ms--0", "grains.items"), (low["client"], low["tgt"], low["fun"]));

        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "minions", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), token));
        Assert.Equal(HttpStatusCode.Accepted, s);
        Assert.Equal("{\"return\": [{\"jid\": \"20261126171352452203\", \"minions\": [\"ms--0\", \"ms--1\"]}], \"_links\": {\"jobs\": [{\"href\": \"/jobs/20261126171352452203\"}]}}", body);
        Assert.Equal("local_async", host.Client.Lowstates.Last()["client"]);

        (s, _, _) = await SendAsync(Req(HttpMethod.Get, "minions"));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
    }

    [Fact]
    public async Task Jobs_list_and_one_job()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Get, "jobs", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": [{\"20261126171352452203\": {\"Function\": \"test.ping\"}}]}", body);

        (s, body, _) = await SendAsync(Req(HttpMethod.Get, "jobs/20261126171352452203", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"info\": [{\"jid\": \"20261126171352452203\", \"Function\": \"test.ping\", \"Result\": {\"ms--0\": {\"return\": true, \"retcode\": 0, \"success\": true}}}], \"return\": [{\"ms--0\": true}]}", body);
    }

    [Fact]
    public async Task Keys_list_finger_and_generated_tarball()
    {
        var token = await host.LoginAsync();
        var (s, body, _) = await SendAsync(Req(HttpMethod.Get, "keys", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": {\"minions\": [\"ms--0\"]}}", body);

        (s, body, _) = await SendAsync(Req(HttpMethod.Get, "keys"));
        Assert.Equal((HttpStatusCode.Unauthorized, "No authentication credentials given"), (s, PageMessage(body)));

        (s, body, _) = await SendAsync(Req(HttpMethod.Get, "keys/ms--3", token: token));
        Assert.Equal("{\"return\": {\"minions\": {\"ms--3\": \"aa:bb\"}}}", body);

        var form = new StringContent("mid=jerry&username=saltdev&password=saltdev&eauth=pam", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var resp = await host.Http.PostAsync("keys", form);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/x-tar", resp.Content.Headers.ContentType!.ToString());
        Assert.Equal("attachment; filename=\"saltkeys-jerry.tar\"", resp.Content.Headers.ContentDisposition!.ToString());
        var tar = await resp.Content.ReadAsByteArrayAsync();
        Assert.Equal(10240, tar.Length);
        Assert.Equal("jerry", host.Client.Lowstates.Last()["id_"]);

        // Salt answers every failure of POST /keys with a 500 page; bad credentials are a 401 here.
        (s, body, _) = await SendAsync(Req(HttpMethod.Post, "keys", new StringContent("mid=x&username=saltdev&password=bad&eauth=pam", Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
    }

    [Fact]
    public async Task Events_stream_every_event_in_salt_sse_format()
    {
        var token = await host.LoginAsync();
        using var r = Req(HttpMethod.Get, $"events?token={token}");
        using var resp = await host.Http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("text/event-stream; charset=utf-8", resp.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-cache", resp.Headers.CacheControl!.ToString());
        using var stream = await resp.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        Assert.Equal("retry: 400", await reader.ReadLineAsync());
        while (host.Client.Bus.Subscribers == 0)
        {
            await Task.Delay(10);
        }

        host.Client.Bus.Publish(new SaltEvent("salt/job/1/new", new Dictionary<string, object?> { ["jid"] = "1" }));
        host.Client.Bus.Publish(new SaltEvent("salt/job/1/ret/ms--0", new Dictionary<string, object?> { ["return"] = true }));
        Assert.Equal("tag: salt/job/1/new", await reader.ReadLineAsync());
        Assert.Equal("data: {\"data\": {\"jid\": \"1\"}, \"tag\": \"salt/job/1/new\"}", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Equal("tag: salt/job/1/ret/ms--0", await reader.ReadLineAsync());
    }

    [Theory]
    [InlineData("events")]
    [InlineData("events?token=xyz")]
    [InlineData("events?salt_token=00ff")]
    public async Task Events_without_a_valid_token_is_401(string path)
    {
        var (s, _, _) = await SendAsync(Req(HttpMethod.Get, path));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
    }

    [Fact]
    public async Task Hook_fires_the_event_with_body_post_and_headers()
    {
        var token = await host.LoginAsync();
        var r = Req(HttpMethod.Post, "hook/my/app", Json("{\"foo\": \"bar\", \"n\": 1}"), token);
        r.Headers.Add("X-Custom", "yes");
        var (s, body, _) = await SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"success\": true}", body);
        var (tag, data) = host.Client.Fired.Last();
        Assert.Equal("salt/netapi/hook/my/app", tag);
        Assert.Equal("{\"foo\": \"bar\", \"n\": 1}", data["body"]);
        Assert.Equal("{\"foo\": \"bar\", \"n\": 1}", SaltJson.Serialize(data["post"]));
        var headers = (OrderedDictionary<string, object?>)data["headers"]!;
        Assert.Equal("Remote-Addr", headers.Keys.First());
        Assert.Equal("yes", headers["X-Custom"]);

        (s, _, _) = await SendAsync(Req(HttpMethod.Post, "hook", new StringContent("a=1&b=2&b=3&arg=x", Encoding.UTF8, "application/x-www-form-urlencoded"), token));
        Assert.Equal(HttpStatusCode.OK, s);
        (tag, data) = host.Client.Fired.Last();
        Assert.Equal("salt/netapi/hook", tag);
        Assert.Equal("", data["body"]);
        Assert.Equal("{\"a\": \"1\", \"b\": [\"2\", \"3\"], \"arg\": [\"x\"]}", SaltJson.Serialize(data["post"]));

        (s, _, _) = await SendAsync(Req(HttpMethod.Post, "hook/x", Json("{}")));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
        (s, _, var resp) = await SendAsync(Req(HttpMethod.Get, "hook", token: token));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, s);
        Assert.Equal("POST", string.Join(", ", resp.Content.Headers.Allow));
    }

    [Fact]
    public async Task Logout_ends_the_session()
    {
        var token = await host.LoginAsync("limited");
        var (s, body, resp) = await SendAsync(Req(HttpMethod.Post, "logout", token: token));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("{\"return\": \"Your token has been cleared\"}", body);
        Assert.StartsWith("session_id=; expires=", resp.Headers.GetValues("Set-Cookie").Single(), StringComparison.Ordinal);
        (s, _, _) = await SendAsync(Req(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), token));
        Assert.Equal(HttpStatusCode.Unauthorized, s);
    }
}
