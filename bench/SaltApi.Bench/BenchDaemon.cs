using System.Net;
using System.Net.Sockets;

namespace SaltApi.Bench;

/// <summary>
/// The daemon from its build output (<c>dotnet SaltApi.Host/bin/Release/net10.0/salt-api.dll -c dir</c>) on a
/// throw-away config: the embedded master on free loopback ports, rest_wsgi and rest_cherrypy on free ports,
/// file eauth saltdev/saltdev.
/// </summary>
internal sealed class BenchDaemon : IAsyncDisposable
{
    public const string User = "saltdev";
    public const string Password = "saltdev";

    private BenchDaemon(Proc proc, string dir, int wsgi, int cherrypy)
    {
        Proc = proc;
        Dir = dir;
        WsgiPort = wsgi;
        CherrypyPort = cherrypy;
    }

    public Proc Proc { get; }

    public string Dir { get; }

    public int WsgiPort { get; }

    public int CherrypyPort { get; }

    public bool WsgiUp { get; private set; }

    public bool CherrypyUp { get; private set; }

    public string Wsgi => $"http://127.0.0.1:{WsgiPort}/";

    public string Cherrypy => $"http://127.0.0.1:{CherrypyPort}/";

    public string SockDir => Path.Combine(Dir, "sock");

    /// <summary>rest_tornado's port when the daemon serves it (<see cref="StartAsync"/> with <c>tornado</c>), else 0.</summary>
    public int TornadoPort { get; private set; }

    public bool TornadoUp { get; private set; }

    public string Tornado => $"http://127.0.0.1:{TornadoPort}/";

    public static string MasterYaml(string dir, int retPort, int wsgiPort, int cherrypyPort, string embeddedYaml, int timeout, string masterExtra = "") => $"""
        interface: 127.0.0.1
        ret_port: {retPort}
        sock_dir: {dir}/sock
        cachedir: {dir}/cache
        log_level: warning
        api_logfile: {dir}/api.log
        api_pidfile: {dir}/salt-api.pid
        timeout: {timeout}
        gather_job_timeout: {timeout}
        netapi_enable_clients: [local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async]
        external_auth:
          file:
            ^filename: {dir}/users
            ^filetype: text
            {User}: ['.*', '@runner', '@wheel', '@jobs']
        embedded_master:
        {embeddedYaml}
        {Environment.GetEnvironmentVariable("BENCH_EMBEDDED_EXTRA") ?? ""}
        rest_wsgi:
          port: {wsgiPort}
          # Its request gate, as rest_cherrypy's below: the default (100 + queue_size 30) answers c=256 with 503s.
          thread_pool: 512
        rest_cherrypy:
          port: {cherrypyPort}
          host: 127.0.0.1
          disable_ssl: true
          # As an operator serving many clients raises it (Salt's default 100 + socket_queue_size 30 caps connections at 130).
          thread_pool: 512
        {masterExtra}
        {Environment.GetEnvironmentVariable("BENCH_MASTER_EXTRA") ?? ""}
        """;

    /// <summary>
    /// Starts the daemon and waits for its HTTP ports. Returns null (with the reason) when it cannot run.
    /// <paramref name="embeddedYaml"/> is the body of <c>embedded_master:</c>, indented two spaces.
    /// With <paramref name="tornado"/> the daemon serves rest_tornado too, on a third free port.
    /// </summary>
    public static async Task<(BenchDaemon? Daemon, string Why, TimeSpan StartTime)> StartAsync(string name, string embeddedYaml, int timeout, TimeSpan wait, bool tornado = false)
    {
        if (!File.Exists(Paths.HostDll))
        {
            return (null, "daemon not built (" + Path.GetRelativePath(Paths.RepoRoot, Paths.HostDll) + " missing)", TimeSpan.Zero);
        }

        var dir = Directory.CreateTempSubdirectory("saltapi-bench-").FullName;
        var (wsgi, cherrypy, ret) = (FreePort(), FreePort(), FreePort());
        await File.WriteAllTextAsync(Path.Combine(dir, "users"), $"{User}:{Password}\n");
        var tornadoPort = tornado ? FreePort() : 0;
        var tornadoYaml = tornado ? $"rest_tornado: {{address: 127.0.0.1, port: {tornadoPort}, disable_ssl: true}}" : "";
        await File.WriteAllTextAsync(Path.Combine(dir, "master"), MasterYaml(dir, ret, wsgi, cherrypy, embeddedYaml, timeout, tornadoYaml));
        var started = DateTime.UtcNow;
        var daemon = Launch(name, dir, wsgi, cherrypy);
        daemon.TornadoPort = tornadoPort;
        var proc = daemon.Proc;
        daemon.WsgiUp = await proc.WaitForPortAsync(wsgi, wait);
        var startTime = DateTime.UtcNow - started;
        daemon.CherrypyUp = !proc.HasExited && await proc.WaitForPortAsync(cherrypy, daemon.WsgiUp ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1));
        daemon.TornadoUp = tornado && !proc.HasExited && await proc.WaitForPortAsync(tornadoPort, daemon.WsgiUp ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1));
        if (proc.HasExited || (!daemon.WsgiUp && !daemon.CherrypyUp))
        {
            var why = proc.HasExited ? "daemon exited: " + proc.Tail(3) : "no HTTP port opened in " + wait.TotalSeconds + " s: " + proc.Tail(3);
            await daemon.DisposeAsync();
            return (null, why, startTime);
        }

        return (daemon, "", startTime);
    }

    /// <summary>
    /// Two daemons on one config: the master process (embedded master, rest_cherrypy only, because a
    /// salt-api with no module exits) and the API process (no <c>embedded_master:</c>, rest_wsgi only), which
    /// talks to the first over its ret_port and sock_dir as it would to a real salt-master on the host.
    /// Separates the API's own CPU per request from the master's and the simulated minions'.
    /// <paramref name="masterExtra"/> is top-level YAML for both (e.g. <c>transport: tcp</c>).
    /// </summary>
    public static async Task<(BenchDaemon? Master, BenchDaemon? Api, string Why)> StartSplitAsync(string embeddedYaml, int timeout, string masterExtra = "")
    {
        if (!File.Exists(Paths.HostDll))
        {
            return (null, null, "daemon not built");
        }

        var (wsgi, cherrypy, ret) = (FreePort(), FreePort(), FreePort());
        var masterDir = Directory.CreateTempSubdirectory("saltapi-bench-master-").FullName;
        var apiDir = Directory.CreateTempSubdirectory("saltapi-bench-api-").FullName;
        var yaml = MasterYaml(masterDir, ret, wsgi, cherrypy, embeddedYaml, timeout, masterExtra);
        await File.WriteAllTextAsync(Path.Combine(masterDir, "users"), $"{User}:{Password}\n");
        await File.WriteAllTextAsync(Path.Combine(masterDir, "master"), Without(yaml, "rest_wsgi:"));
        var apiYaml = Without(Without(yaml, "rest_cherrypy:"), "embedded_master:")
            .Replace(masterDir + "/api.log", apiDir + "/api.log", StringComparison.Ordinal)
            .Replace(masterDir + "/salt-api.pid", apiDir + "/salt-api.pid", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(apiDir, "master"), apiYaml);

        var master = Launch("split-master", masterDir, wsgi, cherrypy);
        master.CherrypyUp = await master.Proc.WaitForPortAsync(cherrypy, TimeSpan.FromSeconds(60));
        if (!master.CherrypyUp)
        {
            var why = "master process did not start: " + master.Proc.Tail(3);
            await master.DisposeAsync();
            return (null, null, why);
        }

        var api = Launch("split-api", apiDir, wsgi, cherrypy);
        api.WsgiUp = await api.Proc.WaitForPortAsync(wsgi, TimeSpan.FromSeconds(60));
        if (!api.WsgiUp)
        {
            var why = "API process did not start: " + api.Proc.Tail(3);
            await api.DisposeAsync();
            await master.DisposeAsync();
            return (null, null, why);
        }

        master.split = (ret, embeddedYaml, timeout, masterExtra);
        return (master, api, "");
    }

    /// <summary>
    /// One more API process (rest_wsgi only) on the master process of <see cref="StartSplitAsync"/>, from another
    /// build's <c>salt-api.dll</c>: the A/B rows compare two builds against the same master in one run.
    /// </summary>
    public static async Task<(BenchDaemon? Api, string Why)> AddApiAsync(BenchDaemon master, string dll, string name)
    {
        var (ret, embeddedYaml, timeout, masterExtra) = master.split ?? throw new InvalidOperationException("not a split master");
        var wsgi = FreePort();
        var apiDir = Directory.CreateTempSubdirectory("saltapi-bench-api-").FullName;
        var yaml = MasterYaml(master.Dir, ret, wsgi, master.CherrypyPort, embeddedYaml, timeout, masterExtra);
        var apiYaml = Without(Without(yaml, "rest_cherrypy:"), "embedded_master:")
            .Replace(master.Dir + "/api.log", apiDir + "/api.log", StringComparison.Ordinal)
            .Replace(master.Dir + "/salt-api.pid", apiDir + "/salt-api.pid", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(apiDir, "master"), apiYaml);
        var api = Launch(name, apiDir, wsgi, master.CherrypyPort, dll);
        api.WsgiUp = await api.Proc.WaitForPortAsync(wsgi, TimeSpan.FromSeconds(60));
        if (!api.WsgiUp)
        {
            var why = "API process did not start: " + api.Proc.Tail(3);
            await api.DisposeAsync();
            return (null, why);
        }

        return (api, "");
    }

    // What StartSplitAsync started the master process with, for AddApiAsync.
    private (int Ret, string EmbeddedYaml, int Timeout, string MasterExtra)? split;

    /// <summary>Starts <c>salt-api.dll -c dir</c>, its log in bench/out/daemon-NAME.log.</summary>
    private static BenchDaemon Launch(string name, string dir, int wsgi, int cherrypy, string? dll = null) =>
        new(Proc.Start("dotnet", [dll ?? Paths.HostDll, "-c", dir, "-l", "warning"], Path.Combine(Paths.Out, $"daemon-{name}.log"), dir), dir, wsgi, cherrypy);

    /// <summary>The YAML without one top-level section (its key line and the indented lines under it).</summary>
    private static string Without(string yaml, string key)
    {
        var lines = yaml.Split('\n');
        var kept = new List<string>();
        var skipping = false;
        foreach (var line in lines)
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                skipping = true;
                continue;
            }

            if (skipping && (line.StartsWith(' ') || line.Length == 0))
            {
                continue;
            }

            skipping = false;
            kept.Add(line);
        }

        return string.Join('\n', kept);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Proc.DisposeAsync();
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
}
