using System.Net;
using System.Net.Http.Headers;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>
/// Inputs the coverage-guided fuzzers found (tests/SaltApi.Fuzz.Tests/regressions), sent without
/// credentials to a real daemon's <c>/login</c>, whose body is parsed before anything is checked: each
/// gets a 4xx, and the same process then logs a good user in. One daemon per case, so that one that
/// ends the process fails alone.
/// </summary>
public sealed class FuzzFoundRequestTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        // 70 bytes: a self-referencing YAML alias in a form arg overflowed the stack in YamlDotNet.
        { "form/found-alias-key-stack-overflow.form", "application/x-www-form-urlencoded" },
        { "yaml/found-alias-key-stack-overflow-20-bytes.yaml", "application/x-yaml" },
        // '._' matches the YAML float pattern but does not parse: a FormatException, the generic 500.
        { "form/found-float-dot-arg.form", "application/x-www-form-urlencoded" },
        // YamlDotNet errors that are not YamlException: ArgumentException, InvalidOperationException.
        { "yaml/found-global-tag-not-uri.yaml", "application/x-yaml" },
        { "yaml/found-scanner-no-more-tokens.yaml", "application/x-yaml" },
        { "form/found-escape-high-surrogate.form", "application/x-www-form-urlencoded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Found_input_to_login_is_a_4xx_and_the_daemon_still_serves(string input, string contentType)
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(TestData.RepoRoot, "tests", "SaltApi.Fuzz.Tests", "regressions", input));
        await using var daemon = await Daemon.StartAsync();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        HttpStatusCode? status = null;
        try
        {
            using var bad = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "login"), content);
            status = bad.StatusCode;
        }
        catch (HttpRequestException)
        {
            // The connection dropped: the process died (asserted below).
        }

        await Task.Delay(200);
        Assert.False(daemon.HasExited, $"{input} ended the daemon (exit {(daemon.HasExited ? daemon.ExitCode : 0)}):\n{Tail(daemon.Output)}");
        Assert.True(status is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError, $"{input}: {(int?)status}");

        using var good = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "login"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "saltdev",
            ["password"] = Daemon.Password,
            ["eauth"] = "file",
        }));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static string Tail(string output) => output.Length > 2000 ? output[^2000..] : output;
}
