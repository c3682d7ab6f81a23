using System.Diagnostics;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>samples/HelloNetapi: built on its own, dropped into a plugin folder, enabled by config alone.</summary>
public sealed class SampleModuleTests
{
    [Fact]
    public async Task The_sample_module_is_built_separately_dropped_in_and_serves_http()
    {
        var plugins = Directory.CreateTempSubdirectory("saltapi-sample-").FullName;
        try
        {
            var output = Path.Combine(plugins, "HelloNetapi");
            await BuildSampleAsync(output);
            Assert.True(File.Exists(Path.Combine(output, "HelloNetapi.dll")));
            // The contract comes from the host, never from the plugin folder.
            Assert.False(File.Exists(Path.Combine(output, "SaltApi.Abstractions.dll")));

            var port = FreePort.Next();
            var dir = HostProcess.ConfigDir($"netapi_plugin_dirs:\n  - {plugins}\nhello_netapi:\n  port: {port}\n  greeting: Hello from a plugin\n");
            await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-c", dir, "-l", "info"], 0, 0, 0, [port]);
            var body = await daemon.Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/"));
            Assert.Equal("{\"return\": \"Hello from a plugin\"}", body);
            Assert.Contains("Starting netapi module 'hello_netapi' (HelloNetapi", daemon.Output);
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }

    /// <summary><c>dotnet build samples/HelloNetapi -o DIR</c>, bounded in time.</summary>
    private static async Task BuildSampleAsync(string output)
    {
        var project = Path.Combine(TestData.RepoRoot, "samples", "HelloNetapi", "HelloNetapi.csproj");
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestData.RepoRoot,
        };
        // --no-dependencies: SaltApi.Abstractions is already built with the tests; do not rebuild it concurrently.
        foreach (var a in new[] { "build", project, "-c", configuration, "--no-dependencies", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-o", output })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        // Run as a child of the test host: MSBuild must not reuse this process's node settings.
        psi.Environment.Remove("MSBuildExtensionsPath");
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("building the sample took too long");
        }

        Assert.True(process.ExitCode == 0, $"dotnet build failed:\n{await stdout}\n{await stderr}");
    }
}
