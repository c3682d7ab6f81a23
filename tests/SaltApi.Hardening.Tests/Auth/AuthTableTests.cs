using System.Net;
using System.Text.Json;
using SaltApi.Hardening.Tests.Http;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>
/// Every client × every kind of bad credential, on every way in (rest_wsgi body, rest_cherrypy /run
/// body, rest_cherrypy session): the same refusal for all nine clients. Salt's CVE history is the
/// reason: ssh (CVE-2020-25592), wheel_async (CVE-2021-25281) and local_batch once skipped the check.
/// </summary>
public sealed class AuthTableTests(AuthFixture fixture) : IClassFixture<AuthFixture>
{
    public static TheoryData<string, string> Table()
    {
        var data = new TheoryData<string, string>();
        foreach (var way in new[] { "wsgi", "run" })
        {
            foreach (var creds in new[] { "none", "wrong-password", "unknown-user", "bad-token", "expired-token", "restricted-user" })
            {
                data.Add(way, creds);
            }
        }

        foreach (var creds in new[] { "none", "not-hex", "bad-token", "expired-token", "restricted-user" })
        {
            data.Add("session", creds);
        }

        return data;
    }

    /// <summary>A lowstate chunk for the client; <paramref name="forbidden"/> picks a function the restricted user may not call.</summary>
    private static string Chunk(string client, string creds, bool forbidden = false) => client switch
    {
        "local" or "local_async" or "ssh" => $$"""{"client": "{{client}}", "tgt": "ms--0", "fun": "{{(forbidden ? "cmd.run" : "test.ping")}}", "arg": {{(forbidden ? "[\"id\"]" : "[]")}}{{creds}}}""",
        "local_batch" => $$"""{"client": "local_batch", "tgt": "ms--0", "fun": "{{(forbidden ? "cmd.run" : "test.ping")}}", "batch": "1"{{creds}}}""",
        "local_subset" => $$"""{"client": "local_subset", "tgt": "*", "fun": "{{(forbidden ? "cmd.run" : "test.ping")}}", "subset": 1{{creds}}}""",
        "runner" or "runner_async" => $$"""{"client": "{{client}}", "fun": "jobs.list_jobs"{{creds}}}""",
        "wheel" or "wheel_async" => $$"""{"client": "{{client}}", "fun": "key.list_all"{{creds}}}""",
        _ => throw new ArgumentOutOfRangeException(nameof(client)),
    };

    private static string Eauth(string user, string password) => $", \"eauth\": \"file\", \"username\": \"{user}\", \"password\": \"{password}\"";

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Every_client_refuses_the_same_way(string way, string creds)
    {
        var results = await RunRowAsync(way, creds);
        var report = string.Join("\n", results.Select(r => $"{r.Client}: {r.Response}"));
        // ssh included: _authorize_ssh checks the restricted user's auth list before salt-ssh starts.
        var wrong = results.Where(r => r.Response.Status != 401).ToList();
        Assert.True(wrong.Count == 0, $"{way}/{creds}: every client must answer 401\n{report}");

        if (creds == "none" && way != "session")
        {
            Assert.All(results, r => Assert.Contains("No authentication credentials given", WebUtility.HtmlDecode(r.Response.Text), StringComparison.Ordinal));
        }
    }

    private async Task<(string Client, RawResponse Response)[]> RunRowAsync(string way, string creds)
    {
        var bodyCreds = creds switch
        {
            "none" or "not-hex" => "",
            "wrong-password" => Eauth("saltdev", AuthFixture.WrongPassword),
            "unknown-user" => Eauth("nosuchuser", AuthFixture.WrongPassword),
            "bad-token" => ", \"token\": \"" + new string('a', 64) + "\"",
            "expired-token" => ", \"token\": \"" + await fixture.ExpiredTokenAsync() + "\"",
            "restricted-user" => Eauth("limited", "saltdev"),
            _ => throw new ArgumentOutOfRangeException(nameof(creds)),
        };

        string? session = (way, creds) switch
        {
            ("session", "none") => null,
            ("session", "not-hex") => "zz-not-a-session",
            ("session", "bad-token") => new string('b', 64),
            ("session", "expired-token") => await fixture.ExpiredTokenAsync(),
            ("session", "restricted-user") => await fixture.LoginAsync("limited", "saltdev"),
            _ => null,
        };

        var forbidden = creds == "restricted-user";
        var results = await Task.WhenAll(AuthFixture.Clients.Select(async client =>
        {
            var body = "[" + Chunk(client, way == "session" ? "" : bodyCreds, forbidden) + "]";
            var request = way switch
            {
                "wsgi" => Post("/", body),
                "run" => Post("/run", body, "application/json", ("Accept", "application/json")),
                _ => session is null
                    ? Post("/", body, "application/json", ("Accept", "application/json"))
                    : Post("/", body, "application/json", ("Accept", "application/json"), ("X-Auth-Token", session)),
            };
            var port = way == "wsgi" ? fixture.Daemon.WsgiPort : fixture.Daemon.CherrypyPort;
            var response = await RawHttp.SendAsync(port, request, TimeSpan.FromSeconds(30));
            return (client, response);
        }));
        return results;
    }

    // The control: the same chunks with good credentials are not refused (so the table above can fail).
    [Theory]
    [InlineData("wsgi")]
    [InlineData("run")]
    public async Task Good_credentials_pass_for_every_client_but_ssh(string way)
    {
        var results = await Task.WhenAll(AuthFixture.Clients.Where(c => c != "ssh").Select(async client =>
        {
            var body = "[" + Chunk(client, Eauth("saltdev", "saltdev")) + "]";
            var request = way == "wsgi" ? Post("/", body) : Post("/run", body, "application/json", ("Accept", "application/json"));
            var response = await RawHttp.SendAsync(way == "wsgi" ? fixture.Daemon.WsgiPort : fixture.Daemon.CherrypyPort, request, TimeSpan.FromSeconds(30));
            return (client, response);
        }));
        var report = string.Join("\n", results.Select(r => $"{r.client}: {r.response}"));
        Assert.All(results, r => Assert.True(r.response.Status == 200, report));
    }

    // CVE-2021-25281: wheel_async ran wheel functions without credentials. The attack is refused with
    // Salt's 401 on both ways in, and the key it aims at stays accepted, while the same request with good
    // credentials rejects a key of its own (the control: the attack could have taken effect, and would show).
    [Theory]
    [InlineData("")]
    [InlineData(", \"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"Wr0ng-Pa55-6d2e7a\"")]
    [InlineData(", \"token\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")]
    [InlineData(", \"eauth\": \"file\", \"username\": \"limited\", \"password\": \"saltdev\"")]
    public async Task Wheel_async_with_bad_credentials_does_not_run(string creds)
    {
        // Throw-away accepted keys, so that a successful attack harms no other test.
        var id = Guid.NewGuid().ToString("N")[..8];
        var (target, control) = ($"cve-{id}", $"cve-control-{id}");
        try
        {
            foreach (var key in new[] { target, control })
            {
                Assert.Equal(200, (await WheelAsync($"\"fun\": \"key.gen_accept\", \"id_\": \"{key}\"")).Status);
            }

            // key.reject moves an accepted key only with include_accepted (salt.wheel.key.reject).
            string Reject(string match, string withCreds) => $$"""[{"client": "wheel_async", "fun": "key.reject", "match": "{{match}}", "include_accepted": true{{withCreds}}}]""";
            var wsgi = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", Reject(target, creds)), TimeSpan.FromSeconds(30));
            var run = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/run", Reject(target, creds), "application/json", ("Accept", "application/json")), TimeSpan.FromSeconds(30));
            Assert.True(wsgi.Status == 401, wsgi.ToString());
            Assert.True(run.Status == 401, run.ToString());

            var good = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", Reject(control, Eauth("saltdev", "saltdev"))), TimeSpan.FromSeconds(30));
            Assert.True(good.Status == 200, good.ToString());
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var (accepted, rejected) = await KeysAsync();
            while (!rejected.Contains(control))
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"the control's key.reject did not take effect: {string.Join(", ", rejected)}");
                await Task.Delay(50);
                (accepted, rejected) = await KeysAsync();
            }

            Assert.Contains(target, accepted);
            Assert.DoesNotContain(target, rejected);
        }
        finally
        {
            await WheelAsync($"\"fun\": \"key.delete\", \"match\": \"cve-*{id}\"");
        }
    }

    private async Task<RawResponse> WheelAsync(string fields) =>
        await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[{\"client\": \"wheel\", " + fields + Eauth("saltdev", "saltdev") + "}]"), TimeSpan.FromSeconds(30));

    private async Task<(List<string?> Accepted, List<string?> Rejected)> KeysAsync()
    {
        var keys = await WheelAsync("\"fun\": \"key.list_all\"");
        Assert.True(keys.Status == 200, keys.ToString());
        using var doc = JsonDocument.Parse(keys.Text);
        var ret = doc.RootElement.GetProperty("return")[0].GetProperty("data").GetProperty("return");
        return ([.. ret.GetProperty("minions").EnumerateArray().Select(e => e.GetString())], [.. ret.GetProperty("minions_rejected").EnumerateArray().Select(e => e.GetString())]);
    }

    [Fact]
    public async Task Passwords_and_tokens_never_reach_the_log()
    {
        // Use every way a secret enters: login, /token, eauth bodies (good and wrong), tokens in bodies,
        // headers, cookies and query strings, then search everything the daemon wrote.
        var session = await fixture.LoginAsync(AuthFixture.SecretUser, AuthFixture.SecretPassword);
        var token = await fixture.SaltTokenAsync(AuthFixture.SecretUser, AuthFixture.SecretPassword);
        var good = Eauth(AuthFixture.SecretUser, AuthFixture.SecretPassword);
        var wrong = Eauth(AuthFixture.SecretUser, AuthFixture.WrongPassword);
        foreach (var client in AuthFixture.Clients)
        {
            await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[" + Chunk(client, good) + "]"), TimeSpan.FromSeconds(30));
            await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[" + Chunk(client, wrong) + "]"), TimeSpan.FromSeconds(30));
            await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/run", "[" + Chunk(client, $", \"token\": \"{token}\"") + "]"), TimeSpan.FromSeconds(30));
            await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/", "[" + Chunk(client, "") + "]", "application/json", ("X-Auth-Token", session)), TimeSpan.FromSeconds(30));
        }

        await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/minions/ms--0", [("Cookie", "session_id=" + session)]), TimeSpan.FromSeconds(30));
        await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/hook/secret", "{\"a\": 1}", "application/json", ("X-Auth-Token", session)), TimeSpan.FromSeconds(30));
        using (var events = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try
            {
                await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/events?token=" + token), TimeSpan.FromSeconds(2), cancellationToken: events.Token);
            }
            catch (Exception e) when (e is HangException or OperationCanceledException)
            {
                // The stream stays open; two seconds of it are enough.
            }
        }

        await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/login", JsonSerializer.Serialize(new { username = AuthFixture.SecretUser, password = AuthFixture.WrongPassword, eauth = "file" })), TimeSpan.FromSeconds(30));
        await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/logout", "", "application/json", ("X-Auth-Token", session)), TimeSpan.FromSeconds(30));
        await Task.Delay(500);

        var log = fixture.Daemon.Output;
        Assert.True(log.Length > 0, "the daemon logged nothing at debug level");
        Assert.DoesNotContain(AuthFixture.SecretPassword, log, StringComparison.Ordinal);
        Assert.DoesNotContain(AuthFixture.WrongPassword, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token, log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(session, log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(token[..16], log, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Session_cookie_is_HttpOnly_and_SameSite()
    {
        var response = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}"), TimeSpan.FromSeconds(30));
        Assert.Equal(200, response.Status);
        var cookie = Assert.Single(response.All("Set-Cookie"), c => c.StartsWith("session_id=", StringComparison.Ordinal));
        Assert.Contains("HttpOnly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SameSite=", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SameSite=None", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Path=/", cookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logged_out_session_is_refused()
    {
        var session = await fixture.LoginAsync("saltdev", "saltdev");
        var before = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/jobs", [("X-Auth-Token", session), ("Accept", "application/json")]), TimeSpan.FromSeconds(30));
        Assert.Equal(200, before.Status);
        var logout = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Post("/logout", "", "application/json", ("X-Auth-Token", session)), TimeSpan.FromSeconds(30));
        Assert.Equal(200, logout.Status);
        var after = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, RawHttp.Build("GET", "/jobs", [("X-Auth-Token", session), ("Accept", "application/json")]), TimeSpan.FromSeconds(30));
        Assert.Equal(401, after.Status);
    }
}
