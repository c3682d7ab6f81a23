using System.Net;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>The built daemon as a process: command line, config errors, plugins, supervision, signals.</summary>
public sealed partial class DaemonTests
{
    private static Task<Daemon> LaunchAsync(string dir, int[] ports, params string[] extraArgs) =>
        Daemon.LaunchAsync(dir, dir, ["-c", dir, "-l", "info", .. extraArgs], ports.FirstOrDefault(), 0, 0, ports);

    private static async Task UntilAsync(Func<bool> condition, Daemon daemon)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"not seen in {sw.Elapsed}:\n{daemon.Output}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task At_the_default_log_level_each_module_says_it_serves()
    {
        // No -l and no log_level: Salt's default, warning. The docs tell the operator to look for this line.
        var (wsgi, cherrypy) = (FreePort.Next(), FreePort.Next());
        var dir = HostProcess.ConfigDir($"rest_wsgi:\n  port: {wsgi}\nrest_cherrypy:\n  port: {cherrypy}\n  host: 127.0.0.1\n  disable_ssl: true\n");
        await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-c", dir], wsgi, cherrypy, 0, []);
        await UntilAsync(() => daemon.Output.Contains($"[WARNING ] Netapi module 'rest_cherrypy' (RestCherrypyCompat", StringComparison.Ordinal)
            && daemon.Output.Contains($"is serving, port {cherrypy}", StringComparison.Ordinal)
            && daemon.Output.Contains($"is serving, port {wsgi}", StringComparison.Ordinal), daemon);
        Assert.DoesNotContain("[INFO", daemon.Output, StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"http://127.0.0.1:{cherrypy}/"))).StatusCode);
    }

    [Fact]
    public async Task An_embedded_master_whose_ret_port_is_taken_says_what_to_do_without_a_stack_trace()
    {
        // As the demo's ret_port 4506 on a host where a salt-master runs.
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var ret = ((IPEndPoint)holder.LocalEndpoint).Port;
        var dir = HostProcess.ConfigDir($"interface: 127.0.0.1\nret_port: {ret}\nembedded_master:\n  minions: 1\nrest_wsgi:\n  port: {FreePort.Next()}\n");
        try
        {
            var r = await HostProcess.RunAsync(dir, null, "-c", dir);
            Assert.NotEqual(0, r.ExitCode);
            var output = r.Stdout + r.Stderr;
            Assert.Contains($"the embedded master cannot listen on 127.0.0.1:{ret} (ret_port): another process holds it", output, StringComparison.Ordinal);
            Assert.Contains("remove the embedded_master section", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_module_whose_port_is_taken_says_so_in_one_line_and_serves_once_it_is_free()
    {
        var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var dir = HostProcess.ConfigDir($"rest_wsgi:\n  host: 127.0.0.1\n  port: {port}\n");
        await using var daemon = await Daemon.LaunchAsync(dir, dir, ["-c", dir], port, 0, 0, []);
        await UntilAsync(() => daemon.Output.Contains($"Another process holds port {port} (salt-api, or a second daemon with the same config?): stop it, or give 'rest_wsgi' another port", StringComparison.Ordinal), daemon);
        Assert.Contains("Netapi module 'rest_wsgi' died: Failed to bind to address", daemon.Output, StringComparison.Ordinal);
        var died = daemon.Output[daemon.Output.IndexOf("Netapi module 'rest_wsgi' died", StringComparison.Ordinal)..];
        // The next line is the next record, not the exception's text and stack.
        var next = died.Split('\n').Skip(1).FirstOrDefault(l => l.Length > 0);
        Assert.True(next is null || next.StartsWith('['), next);
        // Nor before it: the module's web host does not log the failure a second time with its stack.
        Assert.DoesNotContain("Hosting failed to start", daemon.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", daemon.Output, StringComparison.Ordinal);

        // The supervisor restarts it with backoff: it serves once the port is free.
        holder.Stop();
        await UntilAsync(() => daemon.Output.Contains($"is serving, port {port}", StringComparison.Ordinal), daemon);
    }

    [Fact]
    public async Task Help_version_and_versions_report()
    {
        var help = await HostProcess.RunAsync(Path.GetTempPath(), null, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.StartsWith("Usage: salt-api [options]\n", help.Stdout);
        Assert.Contains("--log-file-level=LOG_LEVEL_LOGFILE", help.Stdout);

        var version = await HostProcess.RunAsync(Path.GetTempPath(), null, "--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^salt-api \d+\.\d+\.\d+\S* \(SaltApi\)\n$", version.Stdout);

        var report = await HostProcess.RunAsync(Path.GetTempPath(), null, "-V");
        Assert.Equal(0, report.ExitCode);
        Assert.StartsWith("Salt Version:\n", report.Stdout);
        Assert.Contains("Dependency Versions:\n", report.Stdout);
        Assert.Contains(" NetMQ: 4.0.4.5\n", report.Stdout);
        Assert.Contains(" RestWsgi: ", report.Stdout);
    }

    [Fact]
    public async Task Usage_errors_exit_2()
    {
        var bogus = await HostProcess.RunAsync(Path.GetTempPath(), null, "--bogus");
        Assert.Equal(2, bogus.ExitCode);
        Assert.Equal("Usage: salt-api [options]\n\nsalt-api: error: no such option: --bogus\n", bogus.Stderr);
    }

    // As SysV, OpenRC and FreeBSD rc scripts run it: `salt-api -d`, then the pid in api_pidfile.
    [Fact]
    public async Task Daemon_mode_detaches_writes_the_pidfile_serves_and_stops_by_that_pid()
    {
        var port = FreePort.Next();
        var dir = HostProcess.ConfigDir($"rest_cherrypy:\n  port: {port}\n  host: 127.0.0.1\n  disable_ssl: true\n");
        var pidfile = Path.Combine(dir, "salt-api.pid");
        var pid = 0;
        try
        {
            var started = await HostProcess.RunAsync(dir, null, "-c", dir, "-d", "-l", "info");
            Assert.True(started.ExitCode == 0, $"exit {started.ExitCode}: {started.Stderr}");
            Assert.Equal("", started.Stdout + started.Stderr);

            // Returned once the module listens: it answers now, with no wait.
            pid = int.Parse(File.ReadAllText(pidfile), System.Globalization.CultureInfo.InvariantCulture);
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
            using (var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/")))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("local_async", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // Detached: a session of its own, standard streams on /dev/null, in /.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]);   // session id
            foreach (var fd in new[] { 0, 1, 2 })
            {
                Assert.Equal("/dev/null", new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget);
            }

            Assert.Equal("/", new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget);
            var log = File.ReadAllText(Path.Combine(dir, "api.log"));
            Assert.Contains("The salt-api is starting up", log, StringComparison.Ordinal);
            Assert.Contains(log.Split('\n'), l => l.Contains("[WARNING ]", StringComparison.Ordinal) && l.Contains("netapi_enable_clients is missing or empty in the master config", StringComparison.Ordinal));
            Assert.Contains("rest_cherrypy will refuse every lowstate client (local, local_async,", log, StringComparison.Ordinal);

            // Stopped by the pid in the pidfile: it exits and removes the pidfile.
            Assert.Equal(0, Kill(pid, 15));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (IsRunning(pid) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.False(IsRunning(pid), "the daemon did not stop on SIGTERM");
            pid = 0;
            Assert.False(File.Exists(pidfile));
        }
        finally
        {
            if (pid != 0 && IsRunning(pid))
            {
                _ = Kill(pid, 9);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Daemon_mode_that_cannot_start_says_so_and_exits_non_zero()
    {
        // A config error is found before detaching and printed on the terminal.
        var dir = HostProcess.ConfigDir("ret_port: many\nrest_wsgi:\n  port: 1\n");
        try
        {
            var config = await HostProcess.RunAsync(dir, null, "-c", dir, "-d");
            Assert.Equal(1, config.ExitCode);
            Assert.Contains("key 'ret_port': expected an integer", config.Stderr, StringComparison.Ordinal);

            // Nothing to start: the detached daemon exits 1, and so does the command, pointing to the log.
            File.WriteAllText(Path.Combine(dir, "master"), $"api_pidfile: {dir}/salt-api.pid\napi_logfile: {dir}/api.log\nrest_wsgi:\n  host: 127.0.0.1\n");
            var nothing = await HostProcess.RunAsync(dir, null, "-c", dir, "-d");
            Assert.Equal(1, nothing.ExitCode);
            Assert.Contains("stopped before its modules listened (exit status 1)", nothing.Stderr, StringComparison.Ordinal);
            Assert.Contains("Did not find any netapi configurations", File.ReadAllText(Path.Combine(dir, "api.log")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Gone, or a zombie nobody reaps (a container's pid 1 may not).
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [Fact]
    public async Task A_bad_config_prints_the_file_line_and_key_and_exits_non_zero()
    {
        var dir = HostProcess.ConfigDir("rest_wsgi:\n  port: 8001\n");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "master.d"));
            // The main file: fatal, as in Salt (a broken master.d file is skipped: ConfigLoaderTests).
            File.AppendAllText(Path.Combine(dir, "master"), "\ntimeout: 5\nrest_cherrypy:\n  port: [1, 2\n");
            var syntax = await HostProcess.RunAsync(dir, null, "-c", dir);
            Assert.Equal(1, syntax.ExitCode);
            Assert.Contains($"[ERROR   ] Error parsing configuration file: {dir}/master, line ", syntax.Stderr);
            File.WriteAllText(Path.Combine(dir, "master"), "rest_wsgi:\n  port: 8001\n");

            File.WriteAllText(Path.Combine(dir, "master.d", "api.conf"), "timeout: 5\nret_port: many\n");
            var type = await HostProcess.RunAsync(dir, null, "-c", dir);
            Assert.Equal(1, type.ExitCode);
            Assert.Contains($"{dir}/master.d/api.conf, line 2, key 'ret_port': expected an integer", type.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task No_module_enabled_is_an_error()
    {
        // rest_wsgi without port: not started (silently in Salt); nothing else configured.
        var dir = HostProcess.ConfigDir("rest_wsgi:\n  host: 127.0.0.1\n");
        try
        {
            var r = await HostProcess.RunAsync(dir, null, "-c", dir);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("[ERROR   ] Not loading 'rest_wsgi'. 'port' not specified in config", r.Stderr);
            Assert.Contains("[ERROR   ] Did not find any netapi configurations, nothing to start", r.Stderr);
            Assert.False(File.Exists(Path.Combine(dir, "salt-api.pid")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Salt_master_yaml_in_the_working_directory_is_the_default_config()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-dev-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "salt-master.yaml"), "api_pidfile: pid\napi_logfile: api.log\nlog_level: info\nrest_wsgi: {host: 127.0.0.1}\n");
            var r = await HostProcess.RunAsync(dir, null);
            Assert.Equal(1, r.ExitCode);
            // log_level came from the file; the module section from the file too.
            Assert.Contains("[INFO    ] The salt-api is starting up", r.Stderr);
            Assert.Contains($"{dir}/salt-master.yaml, line 4", r.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Split_config_plugins_from_netapi_plugin_dirs_a_crashing_module_and_a_clean_stop()
    {
        var wsgi = FreePort.Next();
        var probe = FreePort.Next();
        var plugins = TestPlugins.Folder("VersionProbe", "CrashingModule");
        var dir = HostProcess.ConfigDir($"netapi_plugin_dirs: [{plugins}]\nrest_wsgi:\n  port: 1\n");
        var marker = Path.Combine(dir, "crashes");
        Directory.CreateDirectory(Path.Combine(dir, "master.d"));
        // master.d replaces rest_wsgi's block (shallow merge) and adds the test modules.
        File.WriteAllText(Path.Combine(dir, "master.d", "10-api.conf"), $"rest_wsgi:\n  port: {wsgi}\n  host: 127.0.0.1\n");
        File.WriteAllText(Path.Combine(dir, "master.d", "20-plugins.conf"), $"version_probe:\n  port: {probe}\ncrashing_module:\n  marker: {marker}\n");
        try
        {
            await using var daemon = await LaunchAsync(dir, [wsgi, probe]);
            // salt.utils.process.set_pidfile: the decimal pid, no newline.
            Assert.Matches("^[0-9]+$", File.ReadAllText(Path.Combine(dir, "salt-api.pid")));

            // The plugin sees its own YamlDotNet (15.3.0) while the host runs 16.3.0.
            Assert.StartsWith("15.3.", await daemon.Http.GetStringAsync(new Uri($"http://127.0.0.1:{probe}/")));

            // The crashing module is restarted (with backoff) while rest_wsgi keeps serving.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((!File.Exists(marker) || File.ReadAllLines(marker).Length < 2) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.True(File.ReadAllLines(marker).Length >= 2, daemon.Output);
            Assert.Contains("Netapi module 'crashing_module' died: crashing_module always fails to start", daemon.Output);
            using var response = await daemon.Http.PostAsync(daemon.Wsgi, new StringContent("[]", System.Text.Encoding.UTF8, "application/json"));
            Assert.NotEqual(0, (int)response.StatusCode);

            // SIGTERM during a slow request: the request completes, then the daemon exits 0 and removes its pidfile.
            var slow = daemon.Http.GetAsync(new Uri($"http://127.0.0.1:{probe}/slow?ms=2500"));
            await UntilAsync(() => daemon.Output.Contains("version_probe: /slow?ms=2500 started", StringComparison.Ordinal), daemon);
            Assert.False(slow.IsCompleted, "the slow request ended before SIGTERM was sent");
            daemon.Signal();
            using var slowResponse = await slow;
            Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
            Assert.Equal("slept 2500", await slowResponse.Content.ReadAsStringAsync());
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)), daemon.Output);
            Assert.Equal(0, daemon.ExitCode);
            Assert.False(File.Exists(Path.Combine(dir, "salt-api.pid")));
            Assert.Contains("The salt-api is shutdown. salt-api received a SIGTERM. Exited.", daemon.Output);
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }

    [Fact]
    public async Task An_unknown_user_exits_67_with_salts_message()
    {
        var dir = HostProcess.ConfigDir("user: no-such-salt-user\nrest_wsgi:\n  port: 1\n");
        try
        {
            var r = await HostProcess.RunAsync(dir, null, "-c", dir);
            Assert.Equal(67, r.ExitCode);
            Assert.Contains("Failed to prepare the Salt environment for user no-such-salt-user. The user is not available.", r.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Beside_a_real_master_a_missing_sock_dir_is_reported_clearly()
    {
        var wsgi = FreePort.Next();
        var dir = HostProcess.ConfigDir($"rest_wsgi:\n  port: {wsgi}\n  host: 127.0.0.1\n");
        await using var daemon = await LaunchAsync(dir, [wsgi]);
        Assert.Contains($"[WARNING ] sock_dir {dir}/sock does not exist: no salt-master with this config runs on this host yet", daemon.Output);

        // The module answers; the master is not there: Salt's 503 comes from the client layer.
        var body = """[{"client": "local", "tgt": "*", "fun": "test.ping", "username": "u", "password": "p", "eauth": "pam"}]""";
        using var response = await daemon.Http.PostAsync(daemon.Wsgi, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Log_file_options_from_the_command_line_win_over_the_config()
    {
        var dir = HostProcess.ConfigDir("log_level: info\nrest_wsgi: {}\n");
        try
        {
            var log = Path.Combine(dir, "cli.log");
            var r = await HostProcess.RunAsync(dir, null, "-c", dir, "-l", "quiet", "--log-file", log, "--log-file-level", "debug");
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Stderr);
            var text = File.ReadAllText(log);
            Assert.Matches(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[salt-api +:0   \]\[DEBUG   \]\[\d+\] Reading configuration from ", text);
            Assert.Contains("[ERROR   ]", text);
            Assert.Contains("Did not find any netapi configurations, nothing to start", text);
            Assert.False(File.Exists(Path.Combine(dir, "api.log")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
