using System.Text;
using SaltApi.Hardening.Tests.Http;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>
/// rest_cherrypy (spec/05) under bad input, with a logged-in session where the endpoint needs one:
/// every case gets Salt's 4xx and message (its HTML error page), never a 5xx or a hang, and the daemon
/// answers the next request. Where Salt itself answers 500 for bad input (a YAML syntax error, a
/// body-less /login, local without fun, POST /keys without credentials) a 4xx is expected here.
/// </summary>
public sealed class RestCherrypyBadInputTests(HardeningFixture fixture) : IClassFixture<HardeningFixture>
{
    private static readonly int[] BadRequest = [400];
    private static readonly int[] Unauthorized = [401];
    private static readonly int[] NotFound = [404];
    private static readonly int[] OkOr4xx = [200, 400, 401];

    private static byte[] Root(string? session, string body, string? contentType = "application/json") =>
        Post("/", body, contentType, ("X-Auth-Token", session!), ("Accept", "application/json"));

    private static byte[] Root(string? session, byte[] body, string? contentType = "application/json") =>
        Post("/", body, contentType, ("X-Auth-Token", session!), ("Accept", "application/json"));

    private static byte[] Get(string target, string? session = null, params (string, string)[] headers) =>
        RawHttp.Build("GET", target, [.. session is null ? [] : new[] { ("X-Auth-Token", session) }, ("Accept", "application/json"), .. headers]);

    private static string Chunk(string fields) => $$"""[{"client": "local", {{fields}}}]""";

    // Aliases that expand to 10^9 nodes if a loader follows them blindly.
    private static readonly string BillionLaughs = string.Join("\n", new[]
    {
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]",
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]",
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]",
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]",
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]",
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]",
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]",
        "client: [*i]",
    });

    /// <summary>Where a /keys mid that climbs out of pki_dir would write: a name of this run's own (no other run's file can fail it).</summary>
    private static readonly string EscapeTarget = Path.Combine(Path.GetTempPath(), "saltapi-key-" + Guid.NewGuid().ToString("N")[..12]);

    private static readonly Dictionary<string, BadCase> Cases = new BadCase[]
    {
        // Malformed and truncated bodies in each format.
        new("json-malformed", s => Root(s, "[{"), BadRequest, "Invalid JSON document"),
        new("json-truncated", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": \"test.pi")), BadRequest, "Invalid JSON document"),
        new("json-trailing-garbage", s => Root(s, "[] x"), BadRequest, "Invalid JSON document"),
        new("json-string", s => Root(s, "\"hello\""), BadRequest, "Lowstates must be a list"),
        new("json-number", s => Root(s, "7"), BadRequest, "Lowstates must be a list"),
        new("empty-body", s => Root(s, ""), BadRequest, "Lowstates must be a list"),
        new("text-plain-garbage", s => Root(s, "not json at all", "text/plain"), BadRequest, "Lowstates must be a list"),
        new("yaml-malformed", s => Root(s, "- client: local\n  tgt: [\n", "application/x-yaml"), BadRequest),
        new("yaml-truncated", s => Root(s, "- {client: local, tgt: 'ms--0", "application/x-yaml"), BadRequest),
        new("yaml-tab-indent", s => Root(s, "- client: local\n\ttgt: x\n", "application/x-yaml"), BadRequest),
        new("yaml-python-tag", s => Root(s, "- !!python/object/apply:os.system [\"touch /tmp/saltapi-pwned\"]\n", "application/x-yaml"), [400]) { Check = _ => Assert.False(File.Exists("/tmp/saltapi-pwned")) },
        new("yaml-billion-laughs", s => Root(s, BillionLaughs, "application/x-yaml"), [400, 413]),
        new("yaml-nested-10k", s => Root(s, Deep(10_000), "application/x-yaml"), BadRequest),
        new("yaml-nested-map-10k", s => Root(s, string.Concat(Enumerable.Repeat("{a: ", 10_000)) + "1" + new string('}', 10_000), "text/yaml"), BadRequest),
        new("yaml-nested-1m", s => Root(s, new string('[', 1_000_000), "application/x-yaml"), BadRequest),
        new("form-kwarg-nested-1m", s => Root(s, "client=local&tgt=ms--0&fun=test.arg&kwarg=" + new string('[', 1_000_000), "application/x-www-form-urlencoded"), BadRequest),
        new("yaml-scalar", s => Root(s, "just a string", "application/x-yaml"), BadRequest, "Lowstates must be a list"),
        new("form-malformed-escapes", s => Root(s, "client=local&tgt=%zz&fun=%&&==&%", "application/x-www-form-urlencoded"), OkOr4xx),
        new("form-kwarg-bad-yaml", s => Root(s, "client=local&tgt=ms--0&fun=test.arg&kwarg={a: [", "application/x-www-form-urlencoded"), OkOr4xx),
        new("form-invalid-utf8", s => Root(s, "client=local&tgt=%ff%fe&fun=test.ping", "application/x-www-form-urlencoded"), OkOr4xx),
        new("form-10k-pairs", s => Root(s, string.Join("&", Enumerable.Range(0, 10_000).Select(i => $"k{i}=v")), "application/x-www-form-urlencoded"), OkOr4xx),
        new("content-type-xml", s => Root(s, "<lowstate/>", "application/xml"), [406], "Content type not supported"),
        new("content-type-multipart", s => Root(s, "--x\r\n\r\n--x--", "multipart/form-data; boundary=x"), [406], "Content type not supported"),
        new("content-type-garbage", s => Root(s, "[]", ";;=\"\""), [400, 406]),

        // Wrong types in every lowstate field.
        new("client-unknown", s => Root(s, "[{\"client\": \"foo\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), BadRequest, "Invalid client specified: 'foo'"),
        new("client-missing", s => Root(s, "[{\"tgt\": \"*\", \"fun\": \"test.ping\"}]"), BadRequest, "Invalid client specified: 'None'"),
        new("client-number", s => Root(s, "[{\"client\": 3, \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), BadRequest, "Invalid client specified"),
        new("client-list", s => Root(s, "[{\"client\": [\"local\"], \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), BadRequest, "Invalid client specified"),
        new("client-ssh-disabled", s => Root(s, "[{\"client\": \"ssh\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), BadRequest, "Client disabled: 'ssh'"),
        new("raw-shell", s => Root(s, Chunk("\"tgt\": \"*\", \"fun\": \"cmd.run\", \"arg\": [\"id\"], \"raw_shell\": true")), Unauthorized, "Raw shell option not allowed."),
        new("tgt-number", s => Root(s, Chunk("\"tgt\": 1, \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-missing", s => Root(s, Chunk("\"fun\": \"test.ping\"")), BadRequest),
        new("fun-missing", s => Root(s, Chunk("\"tgt\": \"ms--0\"")), BadRequest),
        new("fun-list", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": [\"test.ping\"]")), OkOr4xx),
        new("fun-map", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": {\"a\": 1}")), OkOr4xx),
        new("arg-map", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": {\"a\": 1}")), OkOr4xx),
        new("kwarg-list", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"kwarg\": [1]")), OkOr4xx),
        new("timeout-map", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": {}")), OkOr4xx),
        new("nested-10k-arg", s => Root(s, Chunk("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": " + Deep(10_000))), BadRequest, "Invalid JSON document"),
        new("nested-100k-body", s => Root(s, Deep(100_000)), BadRequest, "Invalid JSON document"),
        new("runner-unknown", s => Root(s, "[{\"client\": \"runner\", \"fun\": \"nosuch.runner\"}]"), OkOr4xx),
        new("wheel-unknown", s => Root(s, "[{\"client\": \"wheel\", \"fun\": \"nosuch.fn\"}]"), OkOr4xx),

        // Tokens in the body of /run: Salt's hex check first.
        new("run-token-not-hex", _ => Post("/run", "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": \"xyz\"}]"), Unauthorized, "Invalid token"),
        new("run-token-null", _ => Post("/run", "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": null}]"), Unauthorized, "Invalid token"),
        new("run-token-list", _ => Post("/run", "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\", \"token\": [\"ab\"]}]"), Unauthorized),
        new("run-token-path", _ => Post("/run", "[{\"client\": \"runner\", \"fun\": \"jobs.list_jobs\", \"token\": \"../../etc/passwd\"}]"), Unauthorized, "Invalid token"),
        new("run-no-creds", _ => Post("/run", "[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]"), Unauthorized, "No authentication credentials given"),
        new("run-raw-shell", _ => Post("/run", Chunk($"\"tgt\": \"*\", \"fun\": \"cmd.run\", \"arg\": [\"id\"], \"raw_shell\": true, {Creds}")), Unauthorized, "Raw shell option not allowed."),

        // /login, /token, /keys with bad bodies.
        new("login-empty-body", _ => Post("/login", "", "application/json"), [400, 401]),
        new("login-not-a-map", _ => Post("/login", "\"saltdev\"", "application/json"), [400, 401]),
        new("login-username-map", _ => Post("/login", "{\"username\": {\"a\": 1}, \"password\": \"x\", \"eauth\": \"file\"}", "application/json"), Unauthorized),
        new("login-nested-10k", _ => Post("/login", Deep(10_000), "application/json"), BadRequest),
        new("login-yaml-nested-1m", _ => Post("/login", new string('[', 1_000_000), "application/x-yaml"), BadRequest),
        new("login-yaml-malformed", _ => Post("/login", "username: [", "application/x-yaml"), BadRequest),
        new("token-missing-password", _ => Post("/token", "{\"username\": \"saltdev\", \"eauth\": \"file\"}"), BadRequest, "Require \"username\", \"password\", and \"eauth\" params"),
        new("token-list-of-junk", _ => Post("/token", "[1, 2, 3]"), BadRequest),
        new("keys-post-no-creds", _ => Post("/keys", "mid=ms--9", "application/x-www-form-urlencoded"), [400, 401]),
        new("keys-post-mid-traversal", _ => Post("/keys", $"mid={string.Concat(Enumerable.Repeat("../", 16))}{EscapeTarget[1..]}&" + "username=saltdev&password=saltdev&eauth=file", "application/x-www-form-urlencoded"), [200, 400, 401]) { Check = _ => Assert.False(File.Exists(EscapeTarget + ".pem") || File.Exists(EscapeTarget)) },

        // Sizes (rest_cherrypy enforces max_request_body_size: 1 MiB in this config).
        new("body-over-limit", s => Root(s, "[" + new string(' ', 2 << 20) + "]"), [413, 0]),
        new("content-length-200mib-declared", s => Raw($"POST / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {s}\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\nConnection: close\r\n\r\n[]"), [413, 0]),
        new("header-70k", s => RawHttp.Build("GET", "/", [("X-Big", new string('a', 70_000))]), [431]),
        new("headers-1000", s => RawHttp.Build("GET", "/", [.. Enumerable.Range(0, 1000).Select(i => ($"X-H{i}", "v"))]), [431]),
        new("cookie-100k", s => RawHttp.Build("GET", "/minions", [("Cookie", "session_id=" + new string('a', 100_000))]), [431]),
        new("url-20k", _ => RawHttp.Build("GET", "/jobs/" + new string('1', 20_000)), [414]),
        new("path-1000-segments", s => Get(string.Concat(Enumerable.Repeat("/a", 1000)), s), NotFound),

        // Path traversal in /keys, /hook, /jobs, /minions, static and app paths.
        new("keys-traversal-raw", s => Get("/keys/../../../../etc/passwd", s), [200, 400, 404]) { Check = NoLeak },
        new("keys-traversal-encoded", s => Get("/keys/..%2f..%2f..%2f..%2fetc%2fpasswd", s), [200, 400, 404]) { Check = NoLeak },
        new("jobs-traversal-encoded", s => Get("/jobs/..%2f..%2f..%2f..%2fetc%2fpasswd", s), [200, 400, 404]) { Check = NoLeak },
        new("jobs-jid-garbage", s => Get("/jobs/not-a-jid", s), [200, 400, 404]),
        new("minions-traversal-encoded", s => Get("/minions/..%2f..%2fetc%2fpasswd", s), [200, 400, 404]) { Check = NoLeak },
        new("minions-nul", s => Get("/minions/ms--0%00", s), [200, 400, 404]),
        new("hook-traversal", s => Post("/hook/..%2f..%2f..%2fetc", "{}", "application/json", ("X-Auth-Token", s!)), [200, 400, 404]),
        new("hook-crlf-tag", s => Post("/hook/a%0d%0ab", "{}", "application/json", ("X-Auth-Token", s!)), [200, 400, 404]) { Check = NoInjectedHeader },
        new("static-ok", _ => Get("/static/hello.txt"), [200]) { Check = r => Assert.Equal("hello", r.Text) },
        new("static-traversal-raw", _ => Get("/static/../secret.txt"), [400, 404]) { Check = NoLeak },
        new("static-traversal-encoded", _ => Get("/static/..%2fsecret.txt"), [400, 404]) { Check = NoLeak },
        new("static-traversal-dots-encoded", _ => Get("/static/%2e%2e/secret.txt"), [400, 404]) { Check = NoLeak },
        new("static-traversal-double-encoded", _ => Get("/static/%252e%252e%252fsecret.txt"), [400, 404]) { Check = NoLeak },
        new("static-traversal-backslash", _ => Get("/static/..\\secret.txt"), [400, 404]) { Check = NoLeak },
        new("static-traversal-users", _ => Get("/static/..%2fusers"), [400, 404]) { Check = NoLeak },
        new("static-absolute", _ => Get("/static//etc/passwd"), [400, 404]) { Check = NoLeak },
        new("app-traversal", _ => Get("/app/..%2f..%2f..%2f..%2fetc%2fpasswd"), [200, 404]) { Check = NoLeak },
        new("root-traversal-encoded", _ => Get("/%2e%2e/%2e%2e/etc/passwd"), [400, 404]) { Check = NoLeak },

        // CR/LF in header values and reflected headers.
        new("crlf-in-query", _ => Get("/login?x=%0d%0aSet-Cookie:%20evil=1"), [200]) { Check = NoInjectedHeader },
        new("crlf-in-origin", _ => Raw("GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://a\rSet-Cookie: evil=1\r\nConnection: close\r\n\r\n"), BadRequest) { Check = NoInjectedHeader },
        new("lf-in-origin", _ => Raw("GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://a\nSet-Cookie: evil=1\r\nConnection: close\r\n\r\n"), [200, 400]) { Check = NoInjectedHeader },
        new("encoded-crlf-in-origin", _ => Get("/", null, ("Origin", "http://a%0d%0aSet-Cookie:%20evil=1")), [200]) { Check = NoInjectedHeader },
        new("nul-in-header", _ => Raw("GET / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ab\0cd\r\nConnection: close\r\n\r\n"), BadRequest),
        new("x-auth-token-not-hex", _ => Get("/minions", "not-hex-at-all"), Unauthorized, "No permission -- see authorization schemes"),
        new("x-auth-token-huge-hex", _ => Get("/minions", new string('a', 8000)), Unauthorized),
        new("cookie-traversal", _ => RawHttp.Build("GET", "/minions", [("Cookie", "session_id=../../etc/passwd")]), Unauthorized),
        new("events-token-not-hex", _ => Get("/events?token=../../etc/passwd"), Unauthorized),
        new("events-token-huge", _ => Get("/events?token=" + new string('f', 10_000)), [401, 414]),
        new("ws-token-traversal", _ => Get("/ws/..%2f..%2fetc%2fpasswd"), [400, 401, 404]),

        // Negotiation, methods, unknown paths.
        new("accept-unacceptable", _ => RawHttp.Build("GET", "/", [("Accept", "application/ms-word")]), [406], "Your client sent this Accept header: application/ms-word."),
        new("accept-garbage", _ => RawHttp.Build("GET", "/", [("Accept", ";;;,,,q=x;;")]), [200, 400, 406]),
        new("accept-10k-types", _ => RawHttp.Build("GET", "/", [("Accept", string.Join(",", Enumerable.Range(0, 2000).Select(i => $"a/b{i};q=0.{i % 9}")))]), [200, 406]),
        new("method-delete-login", _ => RawHttp.Build("DELETE", "/login", [], []), [405], "Specified method is invalid for this resource"),
        new("method-trace", _ => RawHttp.Build("TRACE", "/", []), [405]),
        new("method-get-hook", s => Get("/hook", s), [405]),
        new("unknown-path", _ => Get("/nosuch"), NotFound, "The path '/nosuch' was not found."),

        // Framing lies and slow senders.
        new("content-length-invalid", s => Raw($"POST / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {s}\r\nContent-Type: application/json\r\nContent-Length: 1x\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("chunked-bad-size", s => Raw($"POST / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {s}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n[]\r\n0\r\n\r\n"), BadRequest),
        new("request-line-garbage", _ => Raw("\u0001\u0002\u0003 garbage\r\n\r\n"), BadRequest),
        new("slow-headers", _ => Get("/"), [200]) { Pieces = [.. Enumerable.Repeat((3, TimeSpan.FromMilliseconds(50)), 30)] },
        new("slow-body-stalls", s => Raw($"POST / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {s}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n["), [408]) { Limit = TimeSpan.FromSeconds(40) },
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static TheoryData<string> CaseNames() => [.. Cases.Values.Select(c => c.Name)];


    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Bad_input_gets_a_clear_4xx_and_the_daemon_keeps_serving(string name)
    {
        var session = await fixture.SessionAsync();
        await CaseRunner.RunAsync(fixture.Daemon, "rest_cherrypy", fixture.Daemon.CherrypyPort, Cases[name], session, GoodRequestAsync);
    }

    [Fact]
    public async Task After_the_bad_input_a_real_job_still_runs()
    {
        var session = await fixture.SessionAsync();
        var response = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Root(session, "[{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\"}]"), TimeSpan.FromSeconds(30));
        Assert.Equal(200, response.Status);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", response.Text);
    }

    private async Task GoodRequestAsync()
    {
        var response = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, Get("/"), TimeSpan.FromSeconds(10));
        Assert.True(response.Status == 200 && response.Text.Contains("\"Welcome\"", StringComparison.Ordinal), $"the next good request failed: {response}");
    }

    private static void NoLeak(RawResponse r)
    {
        Assert.DoesNotContain("root:", r.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", r.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("saltdev:saltdev", r.Text, StringComparison.Ordinal);
    }

    private static void NoInjectedHeader(RawResponse r) => RestWsgiBadInputTests.NoInjectedHeader(r);
}
