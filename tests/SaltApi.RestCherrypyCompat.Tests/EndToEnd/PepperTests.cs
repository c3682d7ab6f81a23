using System.Diagnostics;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>Skips a test when Debian's <c>pepper</c> (package salt-pepper) is not installed.</summary>
public sealed class PepperFactAttribute : RequiredFactAttribute
{
    public PepperFactAttribute()
    {
        if (PepperTests.PepperPath is null)
        {
            Skip = "pepper is not installed (apt-get install salt-pepper)";
        }
    }
}

/// <summary>Debian's salt-pepper, unchanged, against the daemon.</summary>
public sealed class PepperTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    internal static string? PepperPath { get; } = new[] { "/usr/bin/salt-pepper", "/usr/bin/pepper", "/usr/local/bin/pepper" }.FirstOrDefault(File.Exists);

    private async Task<(int Exit, string Out, string Err)> PepperAsync(params string[] args)
    {
        var home = Directory.CreateTempSubdirectory("pepper-home-").FullName;
        try
        {
            var psi = new ProcessStartInfo(PepperPath!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            psi.Environment["HOME"] = home;
            psi.Environment["PEPPERCACHE"] = Path.Combine(home, ".peppercache");
            foreach (var name in new[] { "SALTAPI_URL", "SALTAPI_USER", "SALTAPI_PASS", "SALTAPI_EAUTH" })
            {
                psi.Environment.Remove(name);
            }

            foreach (var a in new[] { "-u", fixture.Daemon.Cherrypy.ToString().TrimEnd('/'), "-a", "file", "--username", "saltdev", "--password", Daemon.Password, "--non-interactive" }.Concat(args))
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await p.WaitForExitAsync(cts.Token);
            return (p.ExitCode, await stdout, await stderr);
        }
        finally
        {
            Directory.Delete(home, true);
        }
    }

    [PepperFact]
    public async Task Pepper_local_test_ping_prints_the_five_minions()
    {
        var (exit, output, err) = await PepperAsync("*", "test.ping");
        Assert.True(exit == 0, $"pepper exited {exit}: {err}\n{output}");
        foreach (var m in new[] { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" })
        {
            Assert.Contains($"\"{m}\": true", output, StringComparison.Ordinal);
        }
    }

    [PepperFact]
    public async Task Pepper_runner_jobs_list_jobs()
    {
        var (exit, output, err) = await PepperAsync("--client", "runner", "jobs.list_jobs");
        Assert.True(exit == 0, $"pepper exited {exit}: {err}\n{output}");
        Assert.Contains("\"return\"", output, StringComparison.Ordinal);
    }

    [PepperFact]
    public async Task Pepper_run_uri_mode()
    {
        var (exit, output, err) = await PepperAsync("--run-uri", "ms--2", "test.ping");
        Assert.True(exit == 0, $"pepper exited {exit}: {err}\n{output}");
        Assert.Contains("\"ms--2\": true", output, StringComparison.Ordinal);
    }
}
