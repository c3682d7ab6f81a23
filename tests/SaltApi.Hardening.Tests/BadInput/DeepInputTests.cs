using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SaltApi.Hardening.Tests.Http;
using Xunit.Abstractions;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>Both modules accept bodies of 4 MiB here, so that a million open and a million closing brackets reach the parsers.</summary>
public sealed class DeepInputFixture : HardeningFixture
{
    public const long BodyLimit = 4 << 20;

    protected override string WsgiKeys => $"  max_request_body_size: {BodyLimit}\n";

    protected override string CherrypyKeys(string dir) => $"  static: {dir}/static\n  max_request_body_size: {BodyLimit}\n";
}

/// <summary>
/// A million levels of nesting in every body format, and integers of a mebibyte of digits in every base,
/// sent with a valid session (a body past 1 MiB needs one) to every endpoint that parses a body, before any
/// credentials in it are checked, against a real daemon: each is a
/// 400, and the same process then answers a good request. Before, a YAML body of 500,000 '[' and
/// 500,000 ']' (or a yamlified form value of 300,000 '[') ended the process with a stack overflow, and
/// a YAML binary or base-60 integer of 200,000 digits cost more than a second of CPU.
/// </summary>
public sealed class DeepInputTests(DeepInputFixture fixture, ITestOutputHelper output) : IClassFixture<DeepInputFixture>
{
    private const int Million = 1_000_000;
    private const int Mebibyte = 1 << 20;
    private const string Form = "application/x-www-form-urlencoded";
    private const string FormCreds = "username=saltdev&password=saltdev&eauth=file&client=local&tgt=ms--0&fun=test.arg";

    private static readonly ConcurrentDictionary<string, TimeSpan> Timings = new(StringComparer.Ordinal);

    private static readonly string[] CherrypyPaths = ["/login", "/run", "/token", "/keys", "/"];

    private static readonly Dictionary<string, (string ContentType, Func<string> Body)> Bodies = new(StringComparer.Ordinal)
    {
        ["json-nested"] = ("application/json", () => Deep(Million)),
        ["json-nested-maps"] = ("application/json", () => DeepObject(Million / 6)),
        ["json-integer"] = ("application/json", () => "[{\"timeout\": 1" + new string('0', Mebibyte) + "}]"),
        ["json-wide"] = ("application/json", () => "[{\"arg\": [" + Repeat("{},", 300_000) + "{}]}]"),
        ["yaml-nested"] = ("application/x-yaml", () => Deep(Million)),
        ["yaml-nested-open"] = ("application/x-yaml", () => new string('[', Million)),
        ["yaml-nested-maps"] = ("text/yaml", () => new string('{', Million)),
        ["yaml-nested-values"] = ("application/x-yaml", () => Repeat("{a: ", Million / 4) + "1" + new string('}', Million / 4)),
        ["yaml-nested-block"] = ("application/x-yaml", () => Repeat("- ", Million) + "x"),
        ["yaml-binary"] = ("application/x-yaml", () => "timeout: 0b" + new string('1', Mebibyte)),
        ["yaml-octal"] = ("application/x-yaml", () => "timeout: 0" + new string('7', Mebibyte)),
        ["yaml-hex"] = ("application/x-yaml", () => "timeout: 0x" + new string('f', Mebibyte)),
        ["yaml-decimal"] = ("application/x-yaml", () => "timeout: 1" + new string('0', Mebibyte)),
        ["yaml-sexagesimal"] = ("application/x-yaml", () => "timeout: 1" + Repeat(":59", Mebibyte / 3)),
        ["form-arg-nested"] = (Form, () => FormCreds + "&arg=" + new string('[', Million)),
        ["form-kwarg-nested"] = (Form, () => FormCreds + "&kwarg=" + new string('[', Million)),
        ["form-kwarg-nested-maps"] = (Form, () => FormCreds + "&kwarg=" + Repeat("{a:+", Million / 4)),
        ["form-arg-binary"] = (Form, () => FormCreds + "&arg=0b" + new string('1', Mebibyte)),
        ["form-arg-sexagesimal"] = (Form, () => FormCreds + "&arg=1" + Repeat(":59", Mebibyte / 3)),
    };

    public static TheoryData<string, string> CherrypyCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in CherrypyPaths)
        {
            foreach (var body in Bodies.Keys)
            {
                data.Add(path, body);
            }
        }

        return data;
    }

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    [Theory]
    [MemberData(nameof(CherrypyCases))]
    public async Task Rest_cherrypy_answers_400_and_keeps_serving(string path, string body)
    {
        var (contentType, build) = Bodies[body];

        // A valid session lifts the 1 MiB limit of a request without one (to this fixture's 4 MiB), so that the
        // body reaches the parser on every path.
        var request = Post(path, build(), contentType, ("Accept", "application/json"), ("X-Auth-Token", await fixture.SessionAsync()));
        await SendAsync("rest_cherrypy " + path + " " + body, fixture.Daemon.CherrypyPort, request);
        await CherrypyStillServesAsync();
    }

    [Theory]
    [InlineData("json-nested")]
    [InlineData("json-nested-maps")]
    [InlineData("json-integer")]
    public async Task Rest_wsgi_answers_400_and_keeps_serving(string body)
    {
        var request = Post("/", Bodies[body].Body(), "application/json", ("X-Auth-Token", await fixture.SessionAsync()));
        await SendAsync("rest_wsgi " + body, fixture.Daemon.WsgiPort, request);
        var good = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", Valid), TimeSpan.FromSeconds(30));
        Assert.True(good.Status == 200 && good.Text.Contains("\"ms--0\": true", StringComparison.Ordinal), $"the next good request failed: {good}");
    }

    [Fact]
    public async Task Without_a_valid_session_a_body_past_1_MiB_is_413_before_it_is_parsed()
    {
        foreach (var port in new[] { fixture.Daemon.CherrypyPort, fixture.Daemon.WsgiPort })
        {
            var response = await RawHttp.SendAsync(port, Post(port == fixture.Daemon.WsgiPort ? "/" : "/login", Bodies["json-nested"].Body(), "application/json"), TimeSpan.FromSeconds(15));
            Assert.True(response.Status == 413, response.ToString());
        }
    }

    private async Task SendAsync(string name, int port, byte[] request)
    {
        var clock = Stopwatch.StartNew();
        var response = await RawHttp.SendAsync(port, request, TimeSpan.FromSeconds(15));
        Timings[name] = clock.Elapsed;
        output.WriteLine(FormattableString.Invariant($"{name}: {response.Status} in {clock.Elapsed.TotalMilliseconds:F0} ms ({request.Length} bytes)"));
        File.WriteAllLines(
            Path.Combine(AppContext.BaseDirectory, "deep-input-timings.txt"),
            Timings.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + "\t" + t.Value.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms"));
        Assert.False(fixture.Daemon.HasExited, $"{name}: the daemon exited:\n{fixture.Daemon.Output}");
        Assert.True(response.Status == 400, $"{name}: expected 400, got {response}");
    }

    private async Task CherrypyStillServesAsync()
    {
        var request = Post("/run", $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""", "application/json", ("Accept", "application/json"));
        var good = await RawHttp.SendAsync(fixture.Daemon.CherrypyPort, request, TimeSpan.FromSeconds(30));
        Assert.True(good.Status == 200 && good.Text.Contains("\"ms--0\": true", StringComparison.Ordinal), $"the next good request failed: {good}");
    }
}
