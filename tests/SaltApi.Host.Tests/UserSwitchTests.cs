using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>Runs only as root, on Linux: switching users needs both (skipped, saying so, elsewhere).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class RootFactAttribute : RequiredFactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || GetEuid() != 0)
        {
            Skip = "switching users needs root on Linux; run the tests as root to check it";
        }
        else if (!File.Exists("/usr/bin/setpriv"))
        {
            Skip = "setpriv is not installed (apt-get install util-linux)";
        }
        else if (ClosedFolder(TestData.RepoRoot) is { } closed)
        {
            Skip = $"the unprivileged user cannot reach the built daemon: {closed} is closed to others (chmod o+x)";
        }
    }

    private static string? ClosedFolder(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if ((dir.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return dir.FullName;
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}

/// <summary>As salt-api's check_user: the daemon drops root for the master config's <c>user</c>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UserSwitchTests
{
    // Debian's unprivileged user and group.
    private const string User = "nobody";
    private const int Uid = 65534;

    [RootFact]
    public async Task Started_as_root_with_a_user_it_runs_as_that_user_on_every_thread()
    {
        await using var daemon = await Daemon.StartAsync($"user: {User}", configure: dir =>
        {
            // The user must reach the config, the users file and the daemon's files, as on a master host.
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        });
        Assert.Contains($"Running as user \"{User}\" (uid {Uid}", daemon.Output, StringComparison.Ordinal);

        // Every thread: real, effective, saved and filesystem uids and gids; no root group left.
        foreach (var task in Directory.GetDirectories($"/proc/{daemon.Pid}/task"))
        {
            var status = await File.ReadAllLinesAsync(Path.Combine(task, "status"));
            Assert.Equal($"Uid:\t{Uid}\t{Uid}\t{Uid}\t{Uid}", status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)));
            Assert.Equal($"Gid:\t{Uid}\t{Uid}\t{Uid}\t{Uid}", status.Single(l => l.StartsWith("Gid:", StringComparison.Ordinal)));
            var groups = status.Single(l => l.StartsWith("Groups:", StringComparison.Ordinal))["Groups:".Length..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain("0", groups);
        }

        // Its pidfile and log belong to the user (the log goes on being written after the switch).
        Assert.Equal(Uid, await OwnerAsync(Path.Combine(daemon.Dir, "salt-api.pid")));
        Assert.Equal(Uid, await OwnerAsync(Path.Combine(daemon.Dir, "api.log")));

        // And it serves: a login writes a token as the user, and a job runs.
        using var login = await daemon.Http.PostAsync(daemon.Wsgi, new StringContent(
            """[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "username": "saltdev", "password": "saltdev", "eauth": "file"}]""", Encoding.UTF8, "application/json"));
        Assert.True(login.StatusCode == HttpStatusCode.OK, await login.Content.ReadAsStringAsync() + daemon.Output);
        using var token = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "login"), new FormUrlEncodedContent([new("username", "saltdev"), new("password", "saltdev"), new("eauth", "file")]));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Contains("Running as user", await File.ReadAllTextAsync(Path.Combine(daemon.Dir, "api.log")), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Another_user_that_cannot_switch_starts_nothing_and_says_so()
    {
        var dir = HostProcess.ConfigDir("user: root\nrest_wsgi:\n  port: 1\n");
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ff); // 0777: the unprivileged daemon writes its log here
        try
        {
            // The daemon started unprivileged, configured for root: as check_user, it cannot switch.
            var psi = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            foreach (var a in new[] { $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "dotnet", Daemon.HostDll, "-c", dir })
            {
                psi.ArgumentList.Add(a);
            }

            psi.Environment.Remove("SALT_CONFIG_DIR");
            psi.Environment["HOME"] = dir;
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(cts.Token);
            var output = await stdout + await stderr;
            Assert.Equal(1, process.ExitCode);
            Assert.Contains("Salt configured to run as user \"root\" but unable to switch.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("The salt-api is starting up", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<int> OwnerAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var text = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return int.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
