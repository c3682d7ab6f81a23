namespace SaltApi.Testing;

/// <summary>
/// Several API daemons and one master, each its own process, as operators run salt-api at scale: the master
/// is the daemon with <c>embedded_master:</c> (and rest_cherrypy only, because a salt-api with no module
/// exits), each API daemon has no <c>embedded_master:</c> and points at the master's <c>ret_port</c>,
/// <c>sock_dir</c> and <c>cachedir</c>, as it would at a real salt-master on the host. Tokens are the
/// master's, so a session opened on one daemon is valid on all. Dispose stops every process.
/// </summary>
public sealed class ScaleOut : IAsyncDisposable
{
    private ScaleOut(Daemon master, IReadOnlyList<Daemon> apis)
    {
        Master = master;
        Apis = apis;
    }

    /// <summary>The master process (the embedded master; its own rest_cherrypy is not behind the balancer).</summary>
    public Daemon Master { get; }

    /// <summary>The API daemons, each with rest_cherrypy and rest_wsgi on its own free ports.</summary>
    public IReadOnlyList<Daemon> Apis { get; }

    /// <summary>Starts the master, then <paramref name="count"/> API daemons against it.</summary>
    public static async Task<ScaleOut> StartAsync(int count = 2)
    {
        var master = await StartMasterAsync();
        var apis = new List<Daemon>();
        try
        {
            apis.AddRange(await Task.WhenAll(Enumerable.Range(0, count).Select(_ => StartApiAsync(master))));
        }
        catch
        {
            await Task.WhenAll(apis.Select(a => a.DisposeAsync().AsTask()));
            await master.DisposeAsync();
            throw;
        }

        return new ScaleOut(master, apis);
    }

    /// <summary>The daemon with the embedded master and only rest_cherrypy.</summary>
    public static async Task<Daemon> StartMasterAsync()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-master-").FullName;
        var (cherrypy, ret) = (FreePort.Next(), FreePort.Next());
        await File.WriteAllTextAsync(Path.Combine(dir, "users"), "saltdev:saltdev\nlimited:saltdev\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "master"), Yaml(dir, dir, ret, $"""
            embedded_master:
              minions: 5
            rest_cherrypy:
              port: {cherrypy}
              host: 127.0.0.1
              disable_ssl: true
            """));
        return await Daemon.LaunchAsync(dir, dir, ["-c", dir, "-l", "info"], 0, cherrypy, ret, [cherrypy]);
    }

    /// <summary>
    /// An API daemon (rest_cherrypy and rest_wsgi, no embedded master) talking to <paramref name="master"/>;
    /// nginx on 127.0.0.1 is its trusted proxy, and rest_cherrypy's access log is <c>access.log</c> in its folder.
    /// </summary>
    public static Task<Daemon> StartApiAsync(Daemon master) => StartApiAsync(master, "");

    /// <summary>As <see cref="StartApiAsync(Daemon)"/>, with <paramref name="extraYaml"/> (top-level keys) appended to its config.</summary>
    public static async Task<Daemon> StartApiAsync(Daemon master, string extraYaml)
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-api-").FullName;
        var (wsgi, cherrypy) = (FreePort.Next(), FreePort.Next());
        await File.WriteAllTextAsync(Path.Combine(dir, "master"), Yaml(master.Dir, dir, master.RetPort, $"""
            rest_wsgi:
              port: {wsgi}
              trusted_proxies: 127.0.0.1
            rest_cherrypy:
              port: {cherrypy}
              host: 127.0.0.1
              disable_ssl: true
              trusted_proxies: [127.0.0.1]
              log_access_file: {dir}/access.log
            {extraYaml}
            """));
        return await Daemon.LaunchAsync(dir, dir, ["-c", dir, "-l", "info"], wsgi, cherrypy, master.RetPort, [wsgi, cherrypy]);
    }

    /// <summary>The shared part of every config: the master's sockets and caches, this process's pid and log.</summary>
    private static string Yaml(string masterDir, string ownDir, int retPort, string modules) => $"""
        interface: 127.0.0.1
        ret_port: {retPort}
        sock_dir: {masterDir}/sock
        cachedir: {masterDir}/cache
        pki_dir: {masterDir}/pki
        api_pidfile: {ownDir}/salt-api.pid
        api_logfile: {ownDir}/api.log
        timeout: 2
        gather_job_timeout: 2
        netapi_enable_clients: [local, local_async, runner, runner_async, wheel, wheel_async]
        external_auth:
          file:
            ^filename: {masterDir}/users
            ^filetype: text
            saltdev: ['.*', '@runner', '@wheel', '@jobs']
            limited:
              - test.*
        {modules}
        """;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Apis.Select(a => a.DisposeAsync().AsTask()));
        await Master.DisposeAsync();
    }
}
