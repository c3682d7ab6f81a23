using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SaltApi.Testing;

/// <summary>
/// A real nginx (Debian's package) in the foreground as a round-robin load balancer on free loopback ports,
/// with a config written into a temporary folder (pid, logs and temp paths all inside it): one upstream
/// for the daemons' rest_cherrypy ports, one for their rest_wsgi ports, no sticky sessions, the SSE and
/// WebSocket settings of <c>deploy/nginx/salt-api.conf</c>. Dispose stops it and deletes the folder.
/// </summary>
public sealed partial class Nginx : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private Nginx(Process process, string dir, int cherrypyPort, int wsgiPort)
    {
        this.process = process;
        Dir = dir;
        CherrypyPort = cherrypyPort;
        WsgiPort = wsgiPort;
    }

    /// <summary>The temporary folder: <c>nginx.conf</c>, <c>error.log</c>, <c>access.log</c>.</summary>
    public string Dir { get; }

    /// <summary>The balancer's port in front of rest_cherrypy.</summary>
    public int CherrypyPort { get; }

    /// <summary>The balancer's port in front of rest_wsgi.</summary>
    public int WsgiPort { get; }

    /// <summary>rest_cherrypy through the balancer.</summary>
    public Uri Cherrypy => new($"http://127.0.0.1:{CherrypyPort}/");

    /// <summary>rest_wsgi through the balancer.</summary>
    public Uri Wsgi => new($"http://127.0.0.1:{WsgiPort}/");

    /// <summary>nginx's error log so far (for assertion messages).</summary>
    public string ErrorLog => File.Exists(Path.Combine(Dir, "error.log")) ? File.ReadAllText(Path.Combine(Dir, "error.log")) : "";

    /// <summary>The nginx binary (Debian installs it in /usr/sbin, often not on a user's PATH), or null.</summary>
    public static string? Binary =>
        ToolFactAttribute.Find("nginx") ?? new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);

    /// <summary>The config: two upstreams (round-robin, the default), one server for each.</summary>
    public static string Config(string dir, int cherrypyPort, int wsgiPort, IEnumerable<int> cherrypyUpstreams, IEnumerable<int> wsgiUpstreams) => $$"""
        worker_processes 1;
        pid {{dir}}/nginx.pid;
        error_log {{dir}}/error.log info;
        events { worker_connections 1024; }
        http {
            access_log {{dir}}/access.log;
            client_body_temp_path {{dir}}/client_body;
            proxy_temp_path {{dir}}/proxy;
            fastcgi_temp_path {{dir}}/fastcgi;
            uwsgi_temp_path {{dir}}/uwsgi;
            scgi_temp_path {{dir}}/scgi;

            map $http_upgrade $connection_upgrade { default upgrade; '' close; }

            upstream salt_api_cherrypy {
        {{string.Concat(cherrypyUpstreams.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"))}}    }
            upstream salt_api_wsgi {
        {{string.Concat(wsgiUpstreams.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"))}}    }

            server {
                listen 127.0.0.1:{{cherrypyPort}};
                location / {
                    proxy_pass http://salt_api_cherrypy;
                    proxy_http_version 1.1;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                    proxy_set_header X-Forwarded-Host $http_host;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_buffering off;
                    proxy_cache off;
                    proxy_connect_timeout 2s;
                    proxy_read_timeout 1h;
                    proxy_send_timeout 1h;
                }
            }
            server {
                listen 127.0.0.1:{{wsgiPort}};
                location / {
                    proxy_pass http://salt_api_wsgi;
                    proxy_http_version 1.1;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header Connection "";
                    proxy_connect_timeout 2s;
                    proxy_read_timeout 5m;
                }
            }
        }
        """;

    /// <summary>
    /// The smallest config an operator writes: one <c>server</c> per upstream port with nothing but
    /// <c>proxy_pass</c>, so nginx talks to the daemon in its default HTTP/1.0.
    /// </summary>
    public static string MinimalConfig(string dir, IEnumerable<(int Listen, int Upstream)> servers) => $$"""
        worker_processes 1;
        pid {{dir}}/nginx.pid;
        error_log {{dir}}/error.log info;
        events { worker_connections 1024; }
        http {
            access_log {{dir}}/access.log;
            client_body_temp_path {{dir}}/client_body;
            proxy_temp_path {{dir}}/proxy;
            fastcgi_temp_path {{dir}}/fastcgi;
            uwsgi_temp_path {{dir}}/uwsgi;
            scgi_temp_path {{dir}}/scgi;
        {{string.Concat(servers.Select(s => $"    server {{ listen 127.0.0.1:{s.Listen}; location / {{ proxy_pass http://127.0.0.1:{s.Upstream}; }} }}\n"))}}
        }
        """;

    /// <summary>Starts nginx with <see cref="MinimalConfig"/> in front of each of <paramref name="upstreams"/>; returns it and its ports, in order.</summary>
    public static async Task<(Nginx Nginx, int[] Ports)> StartMinimalAsync(params int[] upstreams)
    {
        var binary = Binary ?? throw new InvalidOperationException("nginx is not installed (apt-get install nginx-light)");
        var dir = Directory.CreateTempSubdirectory("saltapi-nginx-").FullName;
        var ports = upstreams.Select(_ => FreePort.Next()).ToArray();
        var conf = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(conf, MinimalConfig(dir, ports.Zip(upstreams)));
        var nginx = await LaunchAsync(binary, dir, conf, ports[0], ports[0]);
        foreach (var port in ports.Skip(1))
        {
            await nginx.WaitForPortAsync(port);
        }

        return (nginx, ports);
    }

    /// <summary>Starts nginx in front of <paramref name="daemons"/> and waits until both ports accept.</summary>
    public static async Task<Nginx> StartAsync(IEnumerable<Daemon> daemons)
    {
        var binary = Binary ?? throw new InvalidOperationException("nginx is not installed (apt-get install nginx-light)");
        var list = daemons.ToList();
        var dir = Directory.CreateTempSubdirectory("saltapi-nginx-").FullName;
        var (cherrypy, wsgi) = (FreePort.Next(), FreePort.Next());
        var conf = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(conf, Config(dir, cherrypy, wsgi, list.Select(d => d.CherrypyPort), list.Select(d => d.WsgiPort)));
        return await LaunchAsync(binary, dir, conf, cherrypy, wsgi);
    }

    private static async Task<Nginx> LaunchAsync(string binary, string dir, string conf, int cherrypy, int wsgi)
    {

        // -e: the startup error log too, or nginx writes to its compiled-in /var/log/nginx/error.log.
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { "-p", dir, "-c", conf, "-e", Path.Combine(dir, "error.log"), "-g", "daemon off;" })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start nginx");
        var nginx = new Nginx(process, dir, cherrypy, wsgi);
        process.OutputDataReceived += (_, e) => nginx.Append(e.Data);
        process.ErrorDataReceived += (_, e) => nginx.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await nginx.WaitForPortAsync(cherrypy);
            await nginx.WaitForPortAsync(wsgi);
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }

        return nginx;
    }

    private async Task<bool> WaitForExitAsync(TimeSpan limit)
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

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);

    private async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {Output}\n{ErrorLog}");
            }

            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
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
            if (output.Length < 64 * 1024)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // SIGTERM: nginx's fast shutdown, the master stops and reaps its workers; SIGKILL only if it hangs.
        if (!process.HasExited && (Kill(process.Id, 15) != 0 || !await WaitForExitAsync(TimeSpan.FromSeconds(5))))
        {
            process.Kill(entireProcessTree: true);
            await WaitForExitAsync(TimeSpan.FromSeconds(5));
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
}

/// <summary>
/// A fact that needs nginx (Debian's nginx-light): skipped, saying so, when it is not installed. Looks in
/// /usr/sbin as well as on the PATH, where Debian puts it.
/// </summary>
public sealed class NginxFactAttribute : RequiredFactAttribute
{
    public NginxFactAttribute()
    {
        if (Nginx.Binary is null)
        {
            Skip = "nginx is not installed (apt-get install nginx-light)";
        }
    }
}
