using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>
/// deploy/salt-api.service and its low-port drop-in, read as systemd reads them, and started the way systemd
/// would start them (setpriv stands for User=/Group= and AmbientCapabilities=; systemd itself is not run
/// here): which master users and which ports each serves. The unit's <c>salt</c> stands for the master's
/// user, played by Debian's <c>nobody</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ServiceUnitTests
{
    private const string TestUser = "nobody";
    private const int TestUid = 65534;

    private static readonly string Unit = Path.Combine(TestData.RepoRoot, "deploy", "salt-api.service");
    private static readonly string LowPortDropIn = Path.Combine(TestData.RepoRoot, "deploy", "salt-api-low-port.conf");

    [Fact]
    public void The_unit_starts_as_root_and_the_drop_in_as_the_masters_user_with_the_bind_capability()
    {
        var unit = Service(Unit);
        Assert.False(unit.ContainsKey("User"), "started as root, the daemon switches to the config's user itself, for any master user");
        // Ambient capabilities do not survive the daemon's own setuid from root: useless, and misleading, here.
        Assert.False(unit.ContainsKey("AmbientCapabilities"));
        Assert.Equal("/opt/salt-api/salt-api -c /etc/salt --pid-file=/run/salt-api/salt-api.pid", Assert.Single(unit["ExecStart"]));
        Assert.Equal("notify", Assert.Single(unit["Type"]));

        var dropIn = Service(LowPortDropIn);
        Assert.Equal("salt", Assert.Single(dropIn["User"]));
        Assert.Equal("salt", Assert.Single(dropIn["Group"]));
        Assert.Equal("CAP_NET_BIND_SERVICE", Assert.Single(dropIn["AmbientCapabilities"]));
    }

    [RootFact]
    public async Task The_unit_serves_a_master_that_runs_as_root_on_a_port_below_1024()
    {
        var port = LowPort();
        await using var run = await ServiceRun.StartAsync(Service(Unit), "root", port);
        await run.UntilAsync($"is serving, port {port}");
        Assert.True(await run.GetAsync(port) is HttpStatusCode.OK or HttpStatusCode.MethodNotAllowed);
        Assert.Equal(0, await run.UidAsync());
    }

    [RootFact]
    public async Task The_unit_switches_to_a_master_user_that_is_not_root_but_cannot_then_bind_below_1024()
    {
        var high = FreePort.Next();
        await using (var run = await ServiceRun.StartAsync(Service(Unit), TestUser, high))
        {
            await run.UntilAsync($"is serving, port {high}");
            Assert.Equal(TestUid, await run.UidAsync());
        }

        // What the README used to advise: the capability in the ambient set of the unit started as root.
        var withCapability = new Dictionary<string, List<string>>(Service(Unit)) { ["AmbientCapabilities"] = ["CAP_NET_BIND_SERVICE"] };
        var low = LowPort();
        await using var refused = await ServiceRun.StartAsync(withCapability, TestUser, low);
        await refused.UntilAsync("Netapi module 'rest_wsgi' died");
        Assert.DoesNotContain($"is serving, port {low}", refused.Output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task The_low_port_drop_in_binds_below_1024_as_the_masters_user()
    {
        var port = LowPort();
        var unit = Service(Unit);
        foreach (var (key, values) in Service(LowPortDropIn))
        {
            unit[key] = values;
        }

        await using var run = await ServiceRun.StartAsync(unit, TestUser, port);
        await run.UntilAsync($"is serving, port {port}");
        Assert.True(await run.GetAsync(port) is HttpStatusCode.OK or HttpStatusCode.MethodNotAllowed);
        Assert.Equal(TestUid, await run.UidAsync());
        Assert.DoesNotContain("unable to switch", run.Output, StringComparison.Ordinal);
    }

    /// <summary>The [Service] section's settings, each key's values in order (systemd's syntax: key=value, # comments).</summary>
    internal static Dictionary<string, List<string>> Service(string path)
    {
        var settings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var section = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                section = line;
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"{path}: not a setting: {raw}");
            if (section == "[Service]")
            {
                var key = line[..eq].Trim();
                (settings.TryGetValue(key, out var list) ? list : settings[key] = []).Add(line[(eq + 1)..].Trim());
            }
        }

        return settings;
    }

    /// <summary>A port below 1024 that nothing on 127.0.0.1 holds (the tests run as root here).</summary>
    private static int LowPort()
    {
        for (var port = 1023; port > 900; port--)
        {
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port between 901 and 1023");
    }

    /// <summary>The daemon started as systemd would start the given [Service] settings, on a master config with <c>user</c>.</summary>
    private sealed class ServiceRun : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();
        private readonly string dir;

        private ServiceRun(Process process, string dir)
        {
            this.process = process;
            this.dir = dir;
        }

        public string Output
        {
            get
            {
                lock (output)
                {
                    return output.ToString();
                }
            }
        }

        public static Task<ServiceRun> StartAsync(Dictionary<string, List<string>> service, string masterUser, int port)
        {
            var dir = HostProcess.ConfigDir($"user: {masterUser}\nrest_wsgi:\n  host: 127.0.0.1\n  port: {port}\n");
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ed); // 0755: the master's user reads the config, as on a master host
            var psi = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            if (service.TryGetValue("User", out var user))
            {
                // The unit's user is the master's; here that is the test user.
                Assert.Equal("salt", Assert.Single(user));
                psi.ArgumentList.Add($"--reuid={TestUid}");
                psi.ArgumentList.Add($"--regid={TestUid}");
                psi.ArgumentList.Add("--clear-groups");
            }

            foreach (var capability in service.GetValueOrDefault("AmbientCapabilities") ?? [])
            {
                var name = "+" + capability.ToLowerInvariant().Replace("cap_", "", StringComparison.Ordinal);
                psi.ArgumentList.Add($"--inh-caps={name}");
                psi.ArgumentList.Add($"--ambient-caps={name}");
            }

            foreach (var a in new[] { "dotnet", Daemon.HostDll, "-c", dir })
            {
                psi.ArgumentList.Add(a);
            }

            psi.Environment.Remove("SALT_CONFIG_DIR");
            psi.Environment.Remove("SALT_MASTER_CONFIG");
            psi.Environment["HOME"] = dir;
            var run = new ServiceRun(Process.Start(psi)!, dir);
            run.process.OutputDataReceived += (_, e) => run.Append(e.Data);
            run.process.ErrorDataReceived += (_, e) => run.Append(e.Data);
            run.process.BeginOutputReadLine();
            run.process.BeginErrorReadLine();
            return Task.FromResult(run);
        }

        public async Task UntilAsync(string text)
        {
            var sw = Stopwatch.StartNew();
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited, $"no '{text}' (exited: {process.HasExited}):\n{Output}");
                await Task.Delay(50);
            }
        }

        public async Task<HttpStatusCode> GetAsync(int port)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var answer = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
            return answer.StatusCode;
        }

        /// <summary>The daemon's effective uid (its process is dotnet, started by setpriv's exec).</summary>
        public async Task<int> UidAsync()
        {
            var status = await File.ReadAllLinesAsync($"/proc/{process.Id}/status");
            return int.Parse(status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[2], System.Globalization.CultureInfo.InvariantCulture);
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
