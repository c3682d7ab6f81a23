using System.Net;
using System.Text;
using SaltApi.Hardening.Tests.Http;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>
/// rest_wsgi (POST / of a JSON lowstate list) under bad input: every case gets a clear 4xx with the
/// module's JSON error body, never a 5xx or a hang, and the daemon answers the next request.
/// Statuses are this implementation's (spec/04 §3 plus its deliberate differences: 400 for a body that
/// is not a list of maps, 401 for refused credentials, 413 above max_request_body_size).
/// </summary>
public sealed class RestWsgiBadInputTests(HardeningFixture fixture) : IClassFixture<HardeningFixture>
{
    private static readonly int[] BadRequest = [400];
    private static readonly int[] Unauthorized = [401];
    private static readonly int[] Ok = [200];
    private static readonly int[] OkOr4xx = [200, 400, 401];

    private static readonly Dictionary<string, BadCase> Cases = new BadCase[]
    {
        // Malformed and truncated JSON.
        new("malformed-json", _ => Post("/", "[{\"client\": \"local\", tgt}]"), BadRequest, "400: Expecting"),
        new("empty-body", _ => Post("/", ""), BadRequest, "400: Expecting value: line 1 column 1 (char 0)"),
        new("truncated-1", _ => Post("/", Valid[..1]), BadRequest, "400: "),
        new("truncated-half", _ => Post("/", Valid[..(Valid.Length / 2)]), BadRequest, "400: "),
        new("truncated-last-byte", _ => Post("/", Valid[..^1]), BadRequest, "400: "),
        new("truncated-in-escape", _ => Post("/", "[{\"fun\": \"\\u12"), BadRequest, "400: "),
        new("trailing-garbage", _ => Post("/", Valid + " x"), BadRequest, "400: Extra data"),
        new("single-quotes", _ => Post("/", "[{'client': 'local'}]"), BadRequest, "400: Expecting property name enclosed in double quotes"),
        new("nan-literal", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": NaN")), OkOr4xx),
        new("number-overflow", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": 1e400")), OkOr4xx),
        new("huge-integer", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": 123456789012345678901234567890")), OkOr4xx),

        // Not a list of maps.
        new("object-not-list", _ => Post("/", "{\"client\": \"local\"}"), BadRequest, "400: "),
        new("scalar-body", _ => Post("/", "42"), BadRequest, "400: "),
        new("string-body", _ => Post("/", "\"lowstate\""), BadRequest, "400: "),
        new("null-body", _ => Post("/", "null"), BadRequest, "400: "),
        new("list-of-strings", _ => Post("/", "[\"client\", \"local\"]"), BadRequest, "400: "),
        new("list-of-lists", _ => Post("/", "[[1, 2]]"), BadRequest, "400: "),
        new("wide-list-100k", _ => Post("/", "[" + string.Join(",", Enumerable.Repeat("1", 100_000)) + "]"), BadRequest, "400: "),
        new("many-empty-chunks", _ => Post("/", "[" + string.Join(",", Enumerable.Repeat("{}", 10_000)) + "]"), BadRequest, "Too many lowstate chunks"),

        // Wrong types in every lowstate field.
        new("client-missing", _ => Post("/", $$"""[{"tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified: 'None'"),
        new("client-unknown", _ => Post("/", $$"""[{"client": "foo", "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified: 'foo'"),
        new("client-number", _ => Post("/", $$"""[{"client": 1, "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified"),
        new("client-list", _ => Post("/", $$"""[{"client": ["local"], "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified"),
        new("client-map", _ => Post("/", $$"""[{"client": {"local": 1}, "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified"),
        new("client-null", _ => Post("/", $$"""[{"client": null, "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Invalid client specified: 'None'"),
        new("client-ssh-disabled", _ => Post("/", $$"""[{"client": "ssh", "tgt": "*", "fun": "test.ping", {{Creds}}}]"""), BadRequest, "Client disabled: 'ssh'"),
        new("raw-shell", _ => Post("/", Local("\"tgt\": \"*\", \"fun\": \"cmd.run\", \"arg\": [\"id\"], \"raw_shell\": true")), Unauthorized, "Raw shell option not allowed."),
        new("raw-shell-ssh", _ => Post("/", $$"""[{"client": "ssh", "tgt": "*", "fun": "cmd.run", "arg": ["id"], "raw_shell": true, {{Creds}}}]"""), [400, 401]),
        new("tgt-number", _ => Post("/", Local("\"tgt\": 1, \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-map", _ => Post("/", Local("\"tgt\": {\"a\": 1}, \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-null", _ => Post("/", Local("\"tgt\": null, \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-missing", _ => Post("/", Local("\"fun\": \"test.ping\"")), BadRequest),
        new("tgt-type-unknown", _ => Post("/", Local("\"tgt\": \"*\", \"tgt_type\": \"nosuch\", \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-type-number", _ => Post("/", Local("\"tgt\": \"*\", \"tgt_type\": 7, \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-bad-pcre", _ => Post("/", Local("\"tgt\": \"(((\", \"tgt_type\": \"pcre\", \"fun\": \"test.ping\"")), OkOr4xx),
        new("tgt-bad-compound", _ => Post("/", Local("\"tgt\": \"G@ and or not ( L@\", \"tgt_type\": \"compound\", \"fun\": \"test.ping\"")), OkOr4xx),
        new("fun-list", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": [\"test.ping\"]")), OkOr4xx),
        new("fun-number", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": 5")), OkOr4xx),
        new("fun-map", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": {\"test.ping\": 1}")), OkOr4xx),
        new("fun-missing", _ => Post("/", Local("\"tgt\": \"ms--0\"")), BadRequest),
        new("fun-empty", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"\"")), OkOr4xx),
        new("fun-huge-100k", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"" + new string('a', 100_000) + "\"")), OkOr4xx),
        new("arg-map", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": {\"a\": 1}")), OkOr4xx),
        new("arg-string", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": \"x\"")), OkOr4xx),
        new("arg-number", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": 3")), OkOr4xx),
        new("kwarg-list", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"kwarg\": [1, 2]")), OkOr4xx),
        new("kwarg-string", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"kwarg\": \"a=b\"")), OkOr4xx),
        new("timeout-string", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": \"soon\"")), OkOr4xx),
        new("timeout-negative", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": -5")), OkOr4xx),
        new("timeout-list", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"timeout\": [1]")), OkOr4xx),
        new("full-return-string", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"full_return\": \"yes\"")), OkOr4xx),
        new("jid-not-a-jid", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"jid\": \"../../etc/passwd\"")), OkOr4xx),
        new("eauth-number", _ => Post("/", """[{"client": "local", "tgt": "*", "fun": "test.ping", "eauth": 1, "username": "saltdev", "password": "saltdev"}]"""), Unauthorized),
        new("eauth-unknown", _ => Post("/", """[{"client": "local", "tgt": "*", "fun": "test.ping", "eauth": "nosuch", "username": "saltdev", "password": "saltdev"}]"""), Unauthorized),
        new("username-map", _ => Post("/", """[{"client": "local", "tgt": "*", "fun": "test.ping", "eauth": "file", "username": {"a": 1}, "password": "saltdev"}]"""), Unauthorized),
        new("password-list", _ => Post("/", """[{"client": "local", "tgt": "*", "fun": "test.ping", "eauth": "file", "username": "saltdev", "password": ["saltdev"]}]"""), Unauthorized),
        new("token-number", _ => Post("/", """[{"client": "local", "tgt": "*", "fun": "test.ping", "token": 12345}]"""), Unauthorized),
        new("token-map", _ => Post("/", """[{"client": "runner", "fun": "jobs.list_jobs", "token": {"a": 1}}]"""), Unauthorized),
        new("token-path", _ => Post("/", """[{"client": "wheel", "fun": "key.list_all", "token": "../../../../etc/passwd"}]"""), Unauthorized),
        new("runner-fun-no-dot", _ => Post("/", $$"""[{"client": "runner", "fun": "nodot", {{Creds}}}]"""), OkOr4xx),
        new("wheel-fun-list", _ => Post("/", $$"""[{"client": "wheel", "fun": ["key.list_all"], {{Creds}}}]"""), OkOr4xx),
        new("batch-garbage", _ => Post("/", $$"""[{"client": "local_batch", "tgt": "*", "fun": "test.ping", "batch": "lots", {{Creds}}}]"""), OkOr4xx),
        new("subset-negative", _ => Post("/", $$"""[{"client": "local_subset", "tgt": "*", "fun": "test.ping", "subset": -1, {{Creds}}}]"""), OkOr4xx),

        // Nesting.
        new("nested-10k-arg", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": " + Deep(10_000))), BadRequest, "400: "),
        new("nested-10k-kwarg", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"kwarg\": " + DeepObject(10_000))), BadRequest, "400: "),
        new("nested-10k-tgt", _ => Post("/", Local("\"tgt\": " + Deep(10_000) + ", \"fun\": \"test.ping\"")), BadRequest, "400: "),
        new("nested-100k-body", _ => Post("/", Deep(100_000)), BadRequest, "400: "),
        new("nested-30-arg", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.arg\", \"arg\": [" + Deep(30) + "]")), Ok),

        // Encodings and NUL.
        new("invalid-utf8-body", _ => Post("/", [0x5b, 0xff, 0xfe, 0x5d]), BadRequest, "400: 'utf-8' codec can't decode"),
        new("invalid-utf8-in-string", _ => Post("/", [.. Utf8("[{\"client\": \"local\", \"tgt\": \""), 0xc3, 0x28, .. Utf8("\", \"fun\": \"test.ping\"}]")]), BadRequest, "400: "),
        new("overlong-utf8-nul", _ => Post("/", [.. Utf8("[{\"client\": \""), 0xc0, 0x80, .. Utf8("\"}]")]), BadRequest, "400: "),
        new("raw-nul-in-body", _ => Post("/", [.. Utf8("[{\"client\": \"local\"}"), 0x00, .. Utf8("]")]), BadRequest, "400: "),
        new("raw-nul-in-string", _ => Post("/", [.. Utf8("[{\"client\": \"loc"), 0x00, .. Utf8("al\"}]")]), BadRequest, "400: "),
        new("escaped-nul-in-fun", _ => Post("/", Local("\"tgt\": \"ms--0\", \"fun\": \"test.ping\\u0000\"")), OkOr4xx),
        new("escaped-nul-in-tgt", _ => Post("/", Local("\"tgt\": \"ms--0\\u0000\", \"fun\": \"test.ping\"")), OkOr4xx),
        new("lone-surrogate", _ => Post("/", Local("\"tgt\": \"\\ud800\", \"fun\": \"test.ping\"")), OkOr4xx),
        new("utf16-body", _ => Post("/", Encoding.Unicode.GetBytes(Valid)), OkOr4xx),
        new("bom-body", _ => Post("/", [0xef, 0xbb, 0xbf, .. Utf8("[]")]), Ok),

        // Content types and methods.
        new("no-content-type", _ => Post("/", Valid, null), [406], "406: JSON required"),
        new("form-content-type", _ => Post("/", "client=local&tgt=*&fun=test.ping", "application/x-www-form-urlencoded"), [406], "406: JSON required"),
        new("content-type-jsonx", _ => Post("/", Valid, "application/jsonx"), [406], "406: JSON required"),
        new("content-type-garbage", _ => Post("/", Valid, ";;;===\"\""), [406], "406: JSON required"),
        new("method-put", _ => RawHttp.Build("PUT", "/", [("Content-Type", "application/json")], Utf8(Valid)), [405], "405: Method Not Allowed"),
        new("method-delete", _ => RawHttp.Build("DELETE", "/", [], []), [405], "405: Method Not Allowed"),
        new("method-trace", _ => RawHttp.Build("TRACE", "/", [], null), [405]),
        new("method-lowercase", _ => RawHttp.Build("post", "/", [("Content-Type", "application/json")], Utf8("[]")), [200, 400, 405]),
        new("method-garbage", _ => RawHttp.Build("X\u00ffY", "/", [], null), [400, 405]),

        // Sizes.
        new("body-over-limit", _ => Post("/", new string(' ', (int)HardeningFixture.WsgiBodyLimit + 10) + "[]"), [413, 0]),
        new("content-length-200mib-declared", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\nConnection: close\r\n\r\n[]"), [413, 0]),
        new("chunked-over-limit", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", Chunked(new byte[HardeningFixture.WsgiBodyLimit + 4096])), [413, 0, 400]),
        new("header-70k", _ => RawHttp.Build("POST", "/", [("Content-Type", "application/json"), ("X-Big", new string('a', 70_000))], Utf8("[]")), [431]),
        new("headers-1000", _ => RawHttp.Build("POST", "/", [("Content-Type", "application/json"), .. Enumerable.Range(0, 1000).Select(i => ($"X-H{i}", "v"))], Utf8("[]")), [431]),
        new("url-20k", _ => RawHttp.Build("GET", "/" + new string('a', 20_000), [], null), [414]),

        // Framing lies.
        new("content-length-invalid", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("content-length-negative", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("content-length-twice-different", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("content-length-short", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\nConnection: close\r\n\r\n[{\"client\": \"local\"}]"), BadRequest, "400: "),
        new("content-length-and-chunked", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n[]\r\n0\r\n\r\n"), [200, 400]),
        new("chunked-bad-size", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n[]\r\n0\r\n\r\n"), BadRequest),
        new("chunked-valid", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\n[\r\n1\r\n]\r\n0\r\n\r\n"), Ok),
        new("request-line-garbage", _ => Raw("GARBAGE\r\n\r\n"), BadRequest),
        new("http-version-garbage", _ => Raw("POST / HTTP/9.9\r\nHost: x\r\n\r\n"), [400, 505]),
        new("no-host-header", _ => Raw("POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), BadRequest),

        // CR/LF and bytes in header values.
        new("bare-cr-in-header", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nX-A: a\rInjected: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("bare-lf-in-header", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nX-A: a\nInjected: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), [200, 400]),
        new("nul-in-header", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("latin1-in-header", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nX-A: \u00ff\u00fe\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), [200, 400]),
        new("header-no-colon", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("header-folded", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"), BadRequest),
        new("crlf-in-path", _ => RawHttp.Build("POST", "/%0d%0aSet-Cookie:%20evil=1", [("Content-Type", "application/json")], Utf8("[]")), Ok) { Check = NoInjectedHeader },

        // Path traversal: rest_wsgi ignores the path, nothing may be served from disk.
        new("path-traversal", _ => RawHttp.Build("GET", "/../../../../etc/passwd", [], null), [200, 400]) { Check = NoPasswd },
        new("path-traversal-encoded", _ => RawHttp.Build("POST", "/..%2f..%2f..%2fetc%2fpasswd", [("Content-Type", "application/json")], Utf8("[]")), [200, 400]) { Check = NoPasswd },

        // Slow senders: headers trickled (finishes in time), body trickled below Kestrel's minimum rate.
        new("slow-headers", _ => Post("/", "[]"), Ok) { Pieces = [.. Enumerable.Repeat((4, TimeSpan.FromMilliseconds(60)), 30)] },
        new("slow-body-stalls", _ => Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n["), [408]) { Limit = TimeSpan.FromSeconds(40) },
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static TheoryData<string> CaseNames() => [.. Cases.Values.Select(c => c.Name)];


    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Bad_input_gets_a_clear_4xx_and_the_daemon_keeps_serving(string name)
    {
        var c = Cases[name];
        await CaseRunner.RunAsync(fixture.Daemon, "rest_wsgi", fixture.Daemon.WsgiPort, c, null, GoodRequestAsync);
        if (c.Expect is [400 or 401 or 405 or 406 or 413 or 414 or 431] && c.Message is not null)
        {
            // rest_wsgi's error bodies are {"return": "<message>"} as application/json.
            var response = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, c.Build(null), c.Limit, c.Pieces);
            if (response.Status is not (0 or 413 or 414 or 431))
            {
                Assert.StartsWith("application/json", response.Header("Content-Type"), StringComparison.Ordinal);
                Assert.StartsWith("{\"return\": ", response.Text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_slow_sender_does_not_hold_up_other_clients()
    {
        var slow = RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[]"), TimeSpan.FromSeconds(30), [.. Enumerable.Repeat((1, TimeSpan.FromMilliseconds(150)), 40)]);
        for (var i = 0; i < 10; i++)
        {
            var good = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[]"), TimeSpan.FromSeconds(5));
            Assert.Equal(200, good.Status);
        }

        Assert.False(slow.IsCompleted, "the slow sender should still be sending");
        Assert.Equal(200, (await slow).Status);
    }

    [Fact]
    public async Task Pipelined_requests_are_each_answered()
    {
        byte[] one = [.. Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")];
        var two = RawHttp.Build("POST", "/", [("Content-Type", "application/json")], Utf8("[}"));
        var response = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, [.. one, .. two]);
        Assert.Equal(200, response.Status);
        Assert.Equal("{\"return\": []}", response.Text);
    }

    [Fact]
    public async Task After_the_bad_input_a_real_job_still_runs()
    {
        var response = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", Valid), TimeSpan.FromSeconds(30));
        Assert.Equal(200, response.Status);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", response.Text);
    }

    private async Task GoodRequestAsync()
    {
        var response = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", "[]"), TimeSpan.FromSeconds(10));
        Assert.True(response.Status == 200 && response.Text == "{\"return\": []}", $"the next good request failed: {response}");
    }

    internal static void NoInjectedHeader(RawResponse r)
    {
        Assert.DoesNotContain(r.Headers, h => h.Name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("evil", StringComparison.Ordinal));
        Assert.DoesNotContain(r.Headers, h => h.Name.Equals("Injected", StringComparison.OrdinalIgnoreCase));
    }

    internal static void NoPasswd(RawResponse r) => Assert.DoesNotContain("root:", r.Text, StringComparison.Ordinal);

    internal static byte[] Chunked(byte[] body)
    {
        var output = new MemoryStream();
        for (var at = 0; at < body.Length; at += 65536)
        {
            var n = Math.Min(65536, body.Length - at);
            output.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            output.Write(body, at, n);
            output.Write("\r\n"u8);
        }

        output.Write("0\r\n\r\n"u8);
        return output.ToArray();
    }
}
