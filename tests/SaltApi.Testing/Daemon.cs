using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace SaltApi.Testing;

/// <summary>
/// The real daemon (<c>salt-api.dll</c> with its plugins) started as a child process on a
/// throw-away config: the embedded master on free loopback ports, rest_wsgi and rest_cherrypy
/// on free ports, sockets and caches in a temporary folder. Dispose stops it with SIGTERM.
/// </summary>
public sealed partial class Daemon : IAsyncDisposable
{
    /// <summary>Password of every user in the test users file.</summary>
    public const string Password = "saltdev";

    private readonly Process process;
    private readonly StringBuilder output = new();

    private Daemon(Process process, string dir, int wsgiPort, int cherrypyPort, int retPort)
    {
        this.process = process;
        Dir = dir;
        WsgiPort = wsgiPort;
        CherrypyPort = cherrypyPort;
        RetPort = retPort;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The temporary folder: <c>master</c>, <c>users</c>, <c>sock/</c>, <c>cache/</c>.</summary>
    public string Dir { get; }

    /// <summary>rest_wsgi's port.</summary>
    public int WsgiPort { get; }

    /// <summary>rest_cherrypy's port (plain HTTP).</summary>
    public int CherrypyPort { get; }

    /// <summary>The embedded master's request port.</summary>
    public int RetPort { get; }

    /// <summary>rest_wsgi's base URL.</summary>
    public Uri Wsgi => new($"http://127.0.0.1:{WsgiPort}/");

    /// <summary>rest_cherrypy's base URL.</summary>
    public Uri Cherrypy => new($"http://127.0.0.1:{CherrypyPort}/");

    /// <summary>The master's sock_dir.</summary>
    public string SockDir => Path.Combine(Dir, "sock");

    /// <summary>The master's cachedir.</summary>
    public string CacheDir => Path.Combine(Dir, "cache");

    /// <summary>A client for the test's requests.</summary>
    public HttpClient Http { get; }

    /// <summary>The daemon's process id.</summary>
    public int Pid => process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The exit code once exited.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>Everything the daemon wrote to stdout and stderr so far.</summary>
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

    /// <summary>
    /// The default test config. <paramref name="extraYaml"/> is appended: it may add top-level keys but not
    /// repeat one (a duplicate key is a config error, as in Salt); replace a block through master.d instead.
    /// </summary>
    public static string MasterYaml(string dir, int retPort, int wsgiPort, int cherrypyPort, string extraYaml = "") => $"""
        interface: 127.0.0.1
        ret_port: {retPort}
        sock_dir: {dir}/sock
        cachedir: {dir}/cache
        pki_dir: {dir}/pki
        api_pidfile: {dir}/salt-api.pid
        api_logfile: {dir}/api.log
        timeout: 2
        gather_job_timeout: 2
        netapi_enable_clients: [local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async]
        external_auth:
          file:
            ^filename: {dir}/users
            ^filetype: text
            saltdev: ['.*', '@runner', '@wheel', '@jobs']
            limited:
              - test.*
        embedded_master:
          minions: 5
        rest_wsgi:
          port: {wsgiPort}
        rest_cherrypy:
          port: {cherrypyPort}
          host: 127.0.0.1
          disable_ssl: true
        {extraYaml}
        """;

    /// <summary>Starts the daemon and waits until both HTTP modules say they listen.</summary>
    /// <param name="extraYaml">YAML appended to the test config.</param>
    /// <param name="configure">Called with the folder before start, to add files (master.d/*.conf, ...).</param>
    /// <param name="args">Extra command-line arguments.</param>
    /// <param name="waitForPorts">Ports the daemon must say it listens on before this returns; default both modules.</param>
    public static async Task<Daemon> StartAsync(string extraYaml = "", Action<string>? configure = null, string[]? args = null, int[]? waitForPorts = null)
    {
        // Another process may bind a chosen port before the daemon does: start again on new ports.
        for (var attempt = 1; ; attempt++)
        {
            var dir = Directory.CreateTempSubdirectory("saltapi-").FullName;
            var (wsgi, cherrypy, ret) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
            await File.WriteAllTextAsync(Path.Combine(dir, "users"), "saltdev:saltdev\nlimited:saltdev\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "master"), MasterYaml(dir, ret, wsgi, cherrypy, extraYaml));
            configure?.Invoke(dir);

            string[] cli = ["-c", dir, "-l", "info", .. args ?? []];
            try
            {
                return await LaunchAsync(dir, dir, cli, wsgi, cherrypy, ret, waitForPorts ?? [wsgi, cherrypy]);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // LaunchAsync disposed the daemon and its folder.
            }
        }
    }

    /// <summary>
    /// Starts <c>salt-api.dll</c> with exactly <paramref name="args"/> in <paramref name="workingDir"/>,
    /// and waits for <paramref name="waitForPorts"/>. <paramref name="dir"/> is deleted on dispose.
    /// </summary>
    public static async Task<Daemon> LaunchAsync(string dir, string workingDir, IEnumerable<string> args, int wsgiPort, int cherrypyPort, int retPort, int[] waitForPorts)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDir,
        };
        psi.ArgumentList.Add(HostDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("SALT_CONFIG_DIR");
        psi.Environment.Remove("SALT_MASTER_CONFIG");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the daemon");
        var daemon = new Daemon(process, dir, wsgiPort, cherrypyPort, retPort);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            foreach (var port in waitForPorts)
            {
                await daemon.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
            }
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }

        return daemon;
    }

    /// <summary>
    /// Waits for the daemon's own line saying it listens on <paramref name="port"/> ("rest_wsgi listening on
    /// 127.0.0.1:N", "rest_cherrypy listening on http://127.0.0.1:N", "embedded master listening on
    /// tcp://127.0.0.1:N, ..."): each is logged once the socket is bound, at info level (start the daemon with
    /// <c>-l info</c>). Unlike a probe connection, another process listening on the port cannot pass for it.
    /// </summary>
    public async Task WaitForPortAsync(int port, TimeSpan limit)
    {
        var listening = new Regex($@"listening on \S*:{port}(?![0-9])", RegexOptions.CultureInvariant);
        var deadline = DateTime.UtcNow + limit;
        var seen = 0;
        while (true)
        {
            // Read the exit state first: a line written before the exit is then in the output.
            var exited = process.HasExited;
            var text = Output;
            var from = Math.Max(0, seen - 200);
            if (listening.IsMatch(text.AsSpan(from)))
            {
                return;
            }

            seen = text.Length;
            if (exited)
            {
                // WaitForExit() returns once the redirected output is read to its end: all the lines of a quick exit.
                process.WaitForExit();
                throw new InvalidOperationException($"the daemon exited with {process.ExitCode}:\n{Output}");
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"no 'listening on ...:{port}' line from the daemon in {limit} (is it started with -l info?):\n{text}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Sends SIGTERM (or another signal) to the daemon.</summary>
    public void Signal(int signal = 15) => _ = Kill(process.Id, signal);

    /// <summary>Waits for the process to exit; false if it did not within the limit.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The full path of the built daemon.</summary>
    public static string HostDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(TestData.RepoRoot, "SaltApi.Host", "bin", configuration, "net10.0", "salt-api.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build the solution first", dll);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 4 * 1024 * 1024)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return; // a test may stop a daemon before its own disposal does
        }

        Http.Dispose();
        if (!process.HasExited)
        {
            Signal();
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(15)))
            {
                process.Kill(entireProcessTree: true);
                await WaitForExitAsync(TimeSpan.FromSeconds(5));
            }
        }

        process.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private int disposed;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
