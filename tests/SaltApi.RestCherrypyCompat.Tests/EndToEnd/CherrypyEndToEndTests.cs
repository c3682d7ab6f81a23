using System.Net;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>rest_cherrypy over HTTP against the real daemon and its embedded master (5 minions ms--0..4).</summary>
public sealed class CherrypyEndToEndTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    private static readonly string[] Minions = ["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"];

    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = fixture.Daemon.Cherrypy, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Resp)> SendAsync(HttpMethod method, string path, HttpContent? body = null, string? token = null)
    {
        var r = new HttpRequestMessage(method, path) { Content = body };
        r.Headers.Add("Accept", "application/json");
        if (token is not null)
        {
            r.Headers.Add("X-Auth-Token", token);
        }

        var resp = await http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync(), resp);
    }

    private async Task<string> LoginAsync(string user = "saltdev")
    {
        var (status, body, resp) = await SendAsync(HttpMethod.Post, "login", Json($"{{\"username\": \"{user}\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}"));
        Assert.True(status == HttpStatusCode.OK, $"login: {status} {body}\n{fixture.Daemon.Output}");
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    private static OrderedDictionary<string, object?> Map(object? v) => Assert.IsType<OrderedDictionary<string, object?>>(v);

    [Fact]
    public async Task Login_matches_the_recorded_login_response()
    {
        var (status, body, resp) = await SendAsync(HttpMethod.Post, "login", new StringContent("username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, status);
        var parsed = Shape.Parse(body);
        Shape.AssertLike(Shape.Recorded("cp-01-login-json"), parsed);
        var entry = Map(((List<object?>)Map(parsed)["return"]!)[0]);
        Assert.Equal(["token", "expire", "start", "user", "eauth", "perms"], entry.Keys);
        Assert.Equal(("saltdev", "file"), (entry["user"], entry["eauth"]));
        Assert.Matches("^[0-9a-f]{64}$", (string)entry["token"]!);
        Assert.Equal(entry["token"], resp.Headers.GetValues("X-Auth-Token").Single());
        Assert.Equal("[\".*\", \"@jobs\", \"@runner\", \"@wheel\"]", SaltJson.Serialize(entry["perms"]));
    }

    [Fact]
    public async Task Login_wrong_password_is_401()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "login", Json("{\"username\": \"saltdev\", \"password\": \"wrong\", \"eauth\": \"file\"}"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("<p>Could not authenticate using provided credentials</p>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_local_call_returns_every_minion()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        var parsed = Shape.Parse(body);
        Shape.AssertLike(Shape.Recorded("cp-11-post-root-token-local"), parsed);
        var ret = Map(((List<object?>)Map(parsed)["return"]!)[0]);
        Assert.Equal(Minions, ret.Keys.Order());
        Assert.All(ret.Values, v => Assert.Equal(true, v));
    }

    [Fact]
    public async Task Run_with_eauth_in_the_body_and_the_limited_user_acl()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "run", Json("[{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}]"));
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", body);

        (status, body, _) = await SendAsync(HttpMethod.Post, "run", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("<p>No authentication credentials given</p>", body, StringComparison.Ordinal);

        var limited = await LoginAsync("limited");
        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"cmd.run\", \"arg\": [\"id\"]}]"), limited);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("<p>Authorization error occurred.</p>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Async_call_then_the_job_by_jid()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "minions", Json("[{\"tgt\": \"*\", \"fun\": \"test.ping\", \"tgt_type\": \"glob\"}]"), token);
        Assert.True(status == HttpStatusCode.Accepted, body);
        var parsed = Map(Shape.Parse(body));
        Shape.AssertLike(Shape.Recorded("cp-35-post-minions"), parsed);
        var jid = (string)Map(((List<object?>)parsed["return"]!)[0])["jid"]!;
        Assert.Equal($"{{\"jobs\": [{{\"href\": \"/jobs/{jid}\"}}]}}", SaltJson.Serialize(parsed["_links"]));

        OrderedDictionary<string, object?> job = null!;
        for (var i = 0; i < 50; i++)
        {
            (status, body, _) = await SendAsync(HttpMethod.Get, $"jobs/{jid}", token: token);
            Assert.True(status == HttpStatusCode.OK, body);
            job = Map(Shape.Parse(body));
            if (Map(((List<object?>)job["return"]!)[0]).Count == Minions.Length)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(["info", "return"], job.Keys);
        Assert.Equal(jid, Map(((List<object?>)job["info"]!)[0])["jid"]);
        Assert.Equal(Minions, Map(((List<object?>)job["return"]!)[0]).Keys.Order());
    }

    [Fact]
    public async Task Runner_sync_and_async_and_wheel()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"runner\", \"fun\": \"jobs.list_jobs\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.IsType<OrderedDictionary<string, object?>>(((List<object?>)Map(Shape.Parse(body))["return"]!)[0]);

        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"runner_async\", \"fun\": \"jobs.list_jobs\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        // As RunnerClient.cmd_async: {tag, jid} with the tag of the runner's events.
        var started = Map(((List<object?>)Map(Shape.Parse(body))["return"]!).Single());
        Assert.Equal(["tag", "jid"], started.Keys);
        Assert.Matches("^[0-9]{20}$", (string)started["jid"]!);
        Assert.Equal($"salt/run/{started["jid"]}", started["tag"]);

        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"wheel\", \"fun\": \"key.list_all\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        var wheel = Map(((List<object?>)Map(Shape.Parse(body))["return"]!)[0]);
        Assert.Equal(["tag", "data"], wheel.Keys);
        Assert.Equal(Minions, ((List<object?>)Map(Map(wheel["data"])["return"])["minions"]!).Cast<string>().Order());
    }

    [Fact]
    public async Task Local_batch_is_flattened_one_item_per_minion()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local_batch\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"batch\": \"2\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        var parsed = Shape.Parse(body);
        Shape.AssertLike(Shape.Recorded("cp-19-post-root-token-local_batch"), parsed);
        var items = (List<object?>)Map(parsed)["return"]!;
        Assert.Equal(Minions, items.Select(i => Map(i).Keys.Single()).Order());
    }

    [Fact]
    public async Task Keys_and_minions()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Get, "keys", token: token);
        Assert.True(status == HttpStatusCode.OK, body);
        var keys = Map(Map(Shape.Parse(body))["return"]);
        Assert.Equal(Minions, ((List<object?>)keys["minions"]!).Cast<string>().Order());

        (status, body, _) = await SendAsync(HttpMethod.Get, "minions/ms--1", token: token);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(["ms--1"], Map(((List<object?>)Map(Shape.Parse(body))["return"]!)[0]).Keys);
    }

    [Fact]
    public async Task Events_stream_shows_a_job_and_a_hook()
    {
        var token = await LoginAsync();
        using var r = new HttpRequestMessage(HttpMethod.Get, $"events?salt_token={token}");
        using var resp = await http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 400", await reader.ReadLineAsync());

        var (status, body, _) = await SendAsync(HttpMethod.Post, "hook/e2e/test", Json("{\"n\": 1}"), token);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal("{\"success\": true}", body);
        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local_async\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\"}]"), token);
        Assert.True(status == HttpStatusCode.OK, body);

        var sawHook = false;
        var sawRet = false;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!(sawHook && sawRet))
        {
            var tagLine = await reader.ReadLineAsync(cts.Token);
            Assert.NotNull(tagLine);
            Assert.StartsWith("tag: ", tagLine, StringComparison.Ordinal);
            var dataLine = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("data: ", dataLine, StringComparison.Ordinal);
            Assert.Equal("", await reader.ReadLineAsync(cts.Token));
            var ev = Map(Shape.Parse(dataLine![6..]));
            Assert.Equal(["data", "tag"], ev.Keys);
            Assert.Equal(tagLine[5..], ev["tag"]);
            if (tagLine == "tag: salt/netapi/hook/e2e/test")
            {
                sawHook = true;
                Assert.Equal("{\"n\": 1}", SaltJson.Serialize(Map(ev["data"])["post"]));
            }

            sawRet |= tagLine.StartsWith("tag: salt/job/", StringComparison.Ordinal) && tagLine.EndsWith("/ret/ms--0", StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Recorded_event_stream_lines_parse_like_ours()
    {
        // The real rest_cherrypy's stream: every data line is {"data", "tag"} JSON, as we send, and its tag
        // repeats the line before it.
        var lines = Transcript.Load("cp-52-get-events-sse").Body.Split('\n');
        var data = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("data: ", StringComparison.Ordinal)).ToList();
        Assert.True(data.Count >= 3, "the transcript holds the events of one job");
        foreach (var (line, i) in data)
        {
            var ev = Map(Shape.Parse(line[6..]));
            Assert.Equal(["data", "tag"], ev.Keys);
            Assert.Equal("tag: " + ev["tag"], lines[i - 1]);
        }
    }

    [Fact]
    public async Task Token_then_run_with_the_salt_token()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "token", Json("{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}"));
        Assert.True(status == HttpStatusCode.OK, body);
        var entry = Map(((List<object?>)Shape.Parse(body)!)[0]);
        var token = (string)entry["token"]!;
        (status, body, _) = await SendAsync(HttpMethod.Post, "run", Json($"[{{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"token\": \"{token}\"}}]"));
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", body);
    }

    [Fact]
    public async Task Logout_ends_the_session_and_matches_the_recorded_response()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "logout", token: token);
        Assert.Equal(HttpStatusCode.OK, status);
        Shape.AssertLike(Shape.Recorded("cp-58-post-logout"), Shape.Parse(body));
        (status, _, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\"}]"), token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // The token is deleted on the master too: it no longer works anywhere.
        (status, _, _) = await SendAsync(HttpMethod.Post, "run", Json($"[{{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"token\": \"{token}\"}}]"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // A user without runner rights is logged out of this daemon all the same.
        var limited = await LoginAsync("limited");
        (status, _, _) = await SendAsync(HttpMethod.Post, "logout", token: limited);
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _, _) = await SendAsync(HttpMethod.Get, "jobs", token: limited);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Welcome_lists_local_batch()
    {
        var (status, body, resp) = await SendAsync(HttpMethod.Get, "/");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"local_batch\"", body, StringComparison.Ordinal);
        Assert.True(resp.Headers.Contains("X-Salt-Version"));
    }

    [Fact]
    public async Task Hook_without_a_body_as_the_go_client_sends_it()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "hook/test", token: token);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal("{\"success\": true}", body);
    }

    [Fact]
    public async Task Nothing_matched_and_unknown_jobs_answer_as_salt()
    {
        var token = await LoginAsync();
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[]"), token);
        Assert.Equal((HttpStatusCode.OK, "{\"return\": []}"), (status, body));

        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"nosuchminion\", \"fun\": \"test.ping\"}]"), token);
        Assert.Equal((HttpStatusCode.OK, "{\"return\": [{}]}"), (status, body));

        (status, body, _) = await SendAsync(HttpMethod.Get, "minions/nosuch", token: token);
        Assert.Equal((HttpStatusCode.OK, "{\"return\": [{}]}"), (status, body));

        (status, body, _) = await SendAsync(HttpMethod.Get, "jobs/20000101000000000000", token: token);
        Assert.True(status == HttpStatusCode.OK, body);
        var job = Map(Shape.Parse(body));
        var info = Map(((List<object?>)job["info"]!)[0]);
        Assert.Equal("20000101000000000000", info["jid"]);
        Assert.Equal("{}", SaltJson.Serialize(((List<object?>)job["return"]!)[0]));

        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"foo\", \"fun\": \"test.ping\"}]"), token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("<p>Invalid client specified: 'foo'</p>", body, StringComparison.Ordinal);

        // Deliberate difference: Salt's TypeError is a 500; a lowstate without fun is the caller's error.
        (status, body, _) = await SendAsync(HttpMethod.Post, "/", Json("[{\"client\": \"local\", \"tgt\": \"*\"}]"), token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("<p>cmd() missing 1 required positional argument: 'fun'</p>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Yaml_in_and_out()
    {
        var token = await LoginAsync();
        var r = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("- client: local\n  tgt: ms--0\n  fun: test.ping\n", Encoding.UTF8, "application/x-yaml") };
        r.Headers.Add("Accept", "application/x-yaml");
        r.Headers.Add("X-Auth-Token", token);
        using var resp = await http.SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/x-yaml", resp.Content.Headers.ContentType!.ToString());
        Assert.Equal("return:\n- ms--0: true\n", await resp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_event_reaches_every_events_client()
    {
        var token = await LoginAsync();
        var readers = new List<(HttpResponseMessage Resp, StreamReader Reader)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var r = new HttpRequestMessage(HttpMethod.Get, "events");
                r.Headers.Add("X-Auth-Token", token);
                var resp = await http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
                var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
                Assert.Equal("retry: 400", await reader.ReadLineAsync());
                readers.Add((resp, reader));
            }

            for (var n = 0; n < 5; n++)
            {
                var (status, body, _) = await SendAsync(HttpMethod.Post, $"hook/fanout/{n}", Json("{}"), token);
                Assert.True(status == HttpStatusCode.OK, body);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            foreach (var (_, reader) in readers)
            {
                var seen = new List<string>();
                while (seen.Count < 5)
                {
                    var line = await reader.ReadLineAsync(cts.Token);
                    Assert.NotNull(line);
                    if (line.StartsWith("tag: salt/netapi/hook/fanout/", StringComparison.Ordinal))
                    {
                        seen.Add(line);
                    }
                }

                // Each hook is its own connection to the master's pull socket, so their order is not fixed.
                Assert.Equal(Enumerable.Range(0, 5).Select(n => $"tag: salt/netapi/hook/fanout/{n}"), seen.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            foreach (var (resp, reader) in readers)
            {
                reader.Dispose();
                resp.Dispose();
            }
        }
    }
}
