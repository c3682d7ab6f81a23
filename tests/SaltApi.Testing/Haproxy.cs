using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace SaltApi.Testing;

/// <summary>
/// A real HAProxy (Debian's <c>haproxy</c>) in the foreground on free loopback ports, from a config this class
/// writes, with a stats page (<c>/stats;csv</c>) to read each server's state. Dispose stops it.
/// </summary>
public sealed class Haproxy : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private Haproxy(Process process, string dir, int port, int statsPort)
    {
        this.process = process;
        Dir = dir;
        Port = port;
        StatsPort = statsPort;
    }

    /// <summary>The folder of its config.</summary>
    public string Dir { get; }

    /// <summary>The balanced frontend's port.</summary>
    public int Port { get; }

    /// <summary>The stats frontend's port.</summary>
    public int StatsPort { get; }

    /// <summary>What HAProxy printed so far.</summary>
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

    /// <summary>The haproxy binary (Debian installs it in /usr/sbin), or null.</summary>
    public static string? Binary =>
        ToolFactAttribute.Find("haproxy") ?? new[] { "/usr/sbin/haproxy", "/usr/local/sbin/haproxy" }.FirstOrDefault(File.Exists);

    /// <summary>Starts HAProxy with <paramref name="config"/>, given the frontend and stats ports it names.</summary>
    public static async Task<Haproxy> StartAsync(Func<int, int, string> config)
    {
        var binary = Binary ?? throw new InvalidOperationException("haproxy is not installed (apt-get install haproxy)");
        var dir = Directory.CreateTempSubdirectory("saltapi-haproxy-").FullName;
        var (port, stats) = (FreePort.Next(), FreePort.Next());
        var conf = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(conf, config(port, stats).TrimEnd('\n') + "\n"); // haproxy refuses a last line without LF
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in new[] { "-db", "-f", conf })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start haproxy");
        var haproxy = new Haproxy(p, dir, port, stats);
        p.OutputDataReceived += (_, e) => haproxy.Append(e.Data);
        p.ErrorDataReceived += (_, e) => haproxy.Append(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            await haproxy.WaitForPortAsync(port);
            await haproxy.WaitForPortAsync(stats);
        }
        catch
        {
            await haproxy.DisposeAsync();
            throw;
        }

        return haproxy;
    }

    /// <summary>The stats of every proxy and server: one map per line of <c>/stats;csv</c>, by column name.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> StatsAsync(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var csv = await http.GetStringAsync(new Uri($"http://127.0.0.1:{StatsPort}/stats;csv"));
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        return [.. lines.Skip(1).Select(l => (IReadOnlyDictionary<string, string>)header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    /// <summary>One server's stats line.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ServerAsync(HttpClient http, string backend, string server) =>
        (await StatsAsync(http)).Single(s => s["pxname"] == backend && s["svname"] == server);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 1024 * 1024)
            {
                output.AppendLine(line);
            }
        }
    }

    private async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited with {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
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
    }
}

/// <summary>A fact that needs HAProxy (Debian's haproxy), looked for in /usr/sbin as well as on the PATH (see <see cref="Requirement"/>).</summary>
public sealed class HaproxyFactAttribute : RequiredFactAttribute
{
    public HaproxyFactAttribute()
    {
        if (Haproxy.Binary is null)
        {
            Skip = "haproxy is not installed (apt-get install haproxy)";
        }
    }
}
