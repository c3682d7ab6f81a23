using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>
/// docs/api-rest-tornado.md's curl commands, run verbatim (ports and token aside) against the daemon started on
/// the repository's salt-master.yaml with its commented-out rest_tornado section uncommented.
/// </summary>
public sealed partial class ReadmeTornadoTests
{
    [ToolFact("curl", "curl")]
    public async Task The_readme_session_works_on_the_uncommented_default_section()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-readme-tornado-").FullName;
        var (wsgi, cherrypy, tornado, ret) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
        var yaml = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "salt-master.yaml"));
        Assert.Contains("\n#rest_tornado:\n", yaml, StringComparison.Ordinal);
        yaml = Commented().Replace(yaml, "$1")
            .Replace("port: 8001", $"port: {wsgi}", StringComparison.Ordinal)
            .Replace("port: 8000", $"port: {cherrypy}", StringComparison.Ordinal)
            .Replace("port: 8002", $"port: {tornado}", StringComparison.Ordinal)
            .Replace("ret_port: 4506", $"ret_port: {ret}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(dir, "salt-master.yaml"), yaml);
        File.Copy(Path.Combine(TestData.RepoRoot, "salt-master.users"), Path.Combine(dir, "salt-master.users"));
        await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-l", "info"], wsgi, cherrypy, ret, [tornado]);

        var section = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "docs", "api-rest-tornado.md"));
        var commands = CurlLine().Matches(section).Select(m => m.Value.TrimEnd('&', ' ').Replace("127.0.0.1:8002", $"127.0.0.1:{tornado}", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, commands.Count);

        var login = await CurlAsync(commands[0]);
        Assert.StartsWith("HTTP/1.1 200 OK", login, StringComparison.Ordinal);
        var token = Regex.Match(login, "session_id=([0-9a-f]{64}); path=/; samesite=lax; httponly").Groups[1].Value;
        Assert.NotEmpty(token);
        string WithToken(string c) => c.Replace("$TOKEN", token, StringComparison.Ordinal);

        using (var local = JsonDocument.Parse(await CurlAsync(WithToken(commands[1]))))
        {
            var pinged = Assert.Single(local.RootElement.GetProperty("return").EnumerateArray());
            Assert.Equal(5, pinged.EnumerateObject().Count(p => p.Value.ValueKind == JsonValueKind.True));
        }

        var redirect = await CurlAsync(commands[2]);
        Assert.StartsWith("HTTP/1.1 302 Found", redirect, StringComparison.Ordinal);
        Assert.Contains("Location: /login", redirect, StringComparison.Ordinal);

        var events = await CurlAsync("timeout 3 " + WithToken(commands[3]) + " || true");
        Assert.StartsWith("retry: 400\n", events, StringComparison.Ordinal);

        using var minions = JsonDocument.Parse(await CurlAsync(WithToken(commands[4])));
        Assert.Matches("^[0-9]{20}$", Assert.Single(minions.RootElement.GetProperty("return").EnumerateArray()).GetProperty("jid").GetString());
    }

    private static async Task<string> CurlAsync(string command)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var curl = Process.Start(psi)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());
        return output.ReplaceLineEndings("\n");
    }

    // The commented-out section: "#rest_tornado:" and its "#  key: value" lines.
    [GeneratedRegex(@"^#((?:rest_tornado:|  \w+: .*))$", RegexOptions.Multiline)]
    private static partial Regex Commented();

    [GeneratedRegex(@"^curl .*$", RegexOptions.Multiline)]
    private static partial Regex CurlLine();
}
