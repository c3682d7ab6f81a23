using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// The README's curl commands, run verbatim (ports aside) against the daemon started the way the
/// README says: no arguments, in a folder holding the repository's salt-master.yaml.
/// </summary>
public partial class ReadmeTests
{
    [ToolFact("curl", "curl")]
    public async Task Rest_wsgi_examples_work_against_the_default_config()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-readme-").FullName;
        var (wsgi, cherrypy, ret) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        var yaml = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "salt-master.yaml"));
        yaml = yaml.Replace("port: 8001", $"port: {wsgi}", StringComparison.Ordinal)
                   .Replace("port: 8000", $"port: {cherrypy}", StringComparison.Ordinal)
                   .Replace("ret_port: 4506", $"ret_port: {ret}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(dir, "salt-master.yaml"), yaml);
        File.Copy(Path.Combine(TestData.RepoRoot, "salt-master.users"), Path.Combine(dir, "salt-master.users"));

        await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-l", "info"], wsgi, cherrypy, ret, [wsgi]);
        var commands = CurlCommands().Matches(await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "README.md")))
            .Select(m => m.Groups["cmd"].Value.Replace("\\\n", " ", StringComparison.Ordinal).Replace("localhost:8001", $"localhost:{wsgi}", StringComparison.Ordinal))
            .Where(c => c.Contains($"localhost:{wsgi}", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(3, commands.Count);

        using var local = JsonDocument.Parse(await CurlAsync(commands[0]));
        var pinged = Assert.Single(local.RootElement.GetProperty("return").EnumerateArray());
        Assert.Equal(5, pinged.EnumerateObject().Count(p => p.Name.StartsWith("ms--", StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.True));

        using var async = JsonDocument.Parse(await CurlAsync(commands[1]));
        var jid = Assert.Single(async.RootElement.GetProperty("return").EnumerateArray()).GetProperty("jid").GetString()!;
        Assert.Matches("^[0-9]{20}$", jid);

        var runner = commands[2].Replace("\"JID\"", $"\"{jid}\"", StringComparison.Ordinal);
        for (var attempt = 0; ; attempt++)
        {
            using var lookup = JsonDocument.Parse(await CurlAsync(runner));
            var result = Assert.Single(lookup.RootElement.GetProperty("return").EnumerateArray());
            if (result.ValueKind == JsonValueKind.Object && result.EnumerateObject().Count() == 5)
            {
                Assert.All(result.EnumerateObject(), p => Assert.Equal(JsonValueKind.True, p.Value.ValueKind));
                break;
            }

            Assert.True(attempt < 100, result.ToString());
            await Task.Delay(100);
        }
    }

    private static async Task<string> CurlAsync(string command)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var curl = Process.Start(psi)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());
        return output;
    }

    [GeneratedRegex(@"```sh\n(?<cmd>curl [^`]*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CurlCommands();
}
