using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace SaltApi.Testing;

/// <summary>
/// Checks of a module's OpenAPI description: by a standard validator (<c>@apidevtools/swagger-parser</c>, run by
/// node), and against the live module: every documented path and method answers with a documented status.
/// </summary>
public static class OpenApiCheck
{
    /// <summary>The validator's npm package and the version <c>.ci/run</c> installs.</summary>
    public const string Package = "@apidevtools/swagger-parser@12.1.0";

    /// <summary>The folder holding the validator's <c>node_modules</c>: <c>SALTAPI_OPENAPI_VALIDATOR</c>, else the tools cache <c>.ci/run</c> installs into.</summary>
    public static string Folder => Environment.GetEnvironmentVariable("SALTAPI_OPENAPI_VALIDATOR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "saltapi-tools", "openapi");

    private static string Module => Path.Combine(Folder, "node_modules", "@apidevtools", "swagger-parser");

    /// <summary>Why the validator cannot run here, or null when it can.</summary>
    public static string? Missing =>
        ToolFactAttribute.Find("node") is null ? "node is not installed (apt-get install nodejs)"
        : !Directory.Exists(Module) ? $"the OpenAPI validator is not installed (npm install --prefix {Folder} {Package})"
        : null;

    /// <summary>Validates <paramref name="document"/> with swagger-parser; fails the test with the validator's words.</summary>
    public static async Task ValidateAsync(string document)
    {
        var file = Path.Combine(Path.GetTempPath(), $"saltapi-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, document);
        try
        {
            var script = "require(process.argv[1]).validate(process.argv[2]).then(a => console.log('valid ' + a.openapi), e => { console.error(e.message); process.exit(1); })";
            var psi = new ProcessStartInfo(ToolFactAttribute.Find("node")!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-e", script, Module, file })
            {
                psi.ArgumentList.Add(a);
            }

            using var node = Process.Start(psi)!;
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await node.WaitForExitAsync(limit.Token);
            Assert.True(node.ExitCode == 0, $"swagger-parser refused the description: {await stderr}");
            Assert.Equal("valid 3.1.0", (await stdout).Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The daemon with <c>openapi: true</c> on rest_wsgi and rest_cherrypy (a master.d file replacing their sections,
    /// on the same ports) and <paramref name="extraYaml"/> appended.
    /// </summary>
    public static Task<Daemon> StartDaemonAsync(string extraYaml = "") => Daemon.StartAsync(extraYaml, dir =>
    {
        var master = File.ReadAllText(Path.Combine(dir, "master"));
        string Port(string module) => System.Text.RegularExpressions.Regex.Match(master, module + @":\s*\n\s*port: (\d+)").Groups[1].Value;
        Directory.CreateDirectory(Path.Combine(dir, "master.d"));
        File.WriteAllText(Path.Combine(dir, "master.d", "50-openapi.conf"), $"""
            rest_wsgi:
              port: {Port("rest_wsgi")}
              openapi: true
            rest_cherrypy:
              port: {Port("rest_cherrypy")}
              host: 127.0.0.1
              disable_ssl: true
              openapi: true
            """);
    });

    /// <summary>
    /// Sends every documented operation to the module at <paramref name="baseUri"/>, once without a token and once
    /// with <paramref name="token"/> (when given): each answer's status must be one the description lists for it.
    /// Logouts go last. Returns the operations sent, as "METHOD path -> status".
    /// </summary>
    public static async Task<List<string>> CheckLiveAsync(HttpClient http, Uri baseUri, JsonElement document, string? token)
    {
        var sent = new List<string>();
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name.ToUpperInvariant(), Op: o.Value)))
            .OrderBy(o => o.Path.Contains("logout", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(operations);
        foreach (var withToken in token is null ? new[] { false } : [false, true])
        {
            foreach (var (path, method, op) in operations)
            {
                var documented = op.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
                var status = await SendAsync(http, baseUri, path, method, op, withToken ? token : null);
                sent.Add($"{method} {path} {(withToken ? "(token)" : "(none)")} -> {status}");
                Assert.True(documented.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{method} {path} {(withToken ? "with" : "without")} a token answered {status}, documented: {string.Join(", ", documented)}");
            }
        }

        return sent;
    }

    private static async Task<int> SendAsync(HttpClient http, Uri baseUri, string path, string method, JsonElement op, string? token)
    {
        var concrete = path.Replace("{mid}", "ms--0", StringComparison.Ordinal).Replace("{jid}", "20260101000000000000", StringComparison.Ordinal)
            .Replace("{tag}", "some/tag", StringComparison.Ordinal).Replace("{token}", new string('0', 64), StringComparison.Ordinal)
            .Replace("{path}", "any/path", StringComparison.Ordinal).Replace("{rest}", "index.html", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(baseUri, concrete.TrimStart('/')));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        if (op.TryGetProperty("requestBody", out var body))
        {
            var content = body.GetProperty("content");
            var media = content.TryGetProperty("application/json", out _) ? "application/json" : content.EnumerateObject().First().Name;
            var schema = content.GetProperty(media).GetProperty("schema").GetProperty("$ref").GetString()!.Split('/')[^1];
            request.Content = new StringContent(Sample(schema), Encoding.UTF8, media);
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
        return (int)response.StatusCode;
    }

    // A body of the schema: credentials that the master refuses, a lowstate, any map.
    private static string Sample(string schema) => schema switch
    {
        "Credentials" => """{"username": "saltdev", "password": "not-the-password", "eauth": "file"}""",
        "Lowstate" or "LowstateOrChunk" => """[{"client": "local", "tgt": "ms--0", "fun": "test.ping"}]""",
        _ => """{"foo": "bar"}""",
    };
}

/// <summary>A fact that needs node and the OpenAPI validator (<see cref="OpenApiCheck"/>); skipped naming them, a failure in CI.</summary>
public sealed class OpenApiValidatorFactAttribute : RequiredFactAttribute
{
    public OpenApiValidatorFactAttribute()
    {
        if (OpenApiCheck.Missing is { } missing)
        {
            Skip = missing;
        }
    }
}
