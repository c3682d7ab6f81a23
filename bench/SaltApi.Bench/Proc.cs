using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SaltApi.Bench;

/// <summary>Child processes: output to a log file, memory from /proc, SIGTERM to stop.</summary>
internal sealed partial class Proc : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private Proc(Process process, StreamWriter log, string logPath)
    {
        this.process = process;
        this.log = log;
        LogPath = logPath;
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public string LogPath { get; }

    /// <summary>Starts <paramref name="file"/> with its output going to <paramref name="logPath"/>.</summary>
    public static Proc Start(string file, IEnumerable<string> args, string logPath, string? workDir = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Paths.Out,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("SALT_CONFIG_DIR");
        psi.Environment.Remove("SALT_MASTER_CONFIG");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var proc = new Proc(process, log, logPath);
        process.OutputDataReceived += (_, e) => proc.Write(e.Data);
        process.ErrorDataReceived += (_, e) => proc.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proc;
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            if (log.BaseStream.Length < 64 * 1024 * 1024)
            {
                log.WriteLine(line);
            }
        }
    }

    /// <summary>The last lines of the log (for "not run" notes).</summary>
    public string Tail(int lines = 5)
    {
        lock (log)
        {
            log.Flush();
        }

        try
        {
            using var s = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            var all = r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // The first critical or error line says most; else the last lines.
            var first = all.FirstOrDefault(l => l.Contains("[CRITICAL", StringComparison.Ordinal) || l.Contains("[ERROR", StringComparison.Ordinal));
            return first is not null ? first.Trim() : string.Join(" | ", all.TakeLast(lines)).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Waits until the loopback port accepts connections; false if the process died or the limit passed.</summary>
    public async Task<bool> WaitForPortAsync(int port, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    /// <summary>Resident memory of the process and its descendants, in MiB (VmRSS), and the peak (VmHWM) of the process.</summary>
    public (double RssMb, double PeakMb) Memory()
    {
        double rss = 0;
        foreach (var pid in Tree(process.Id))
        {
            rss += StatusKb(pid, "VmRSS:");
        }

        return (rss / 1024, StatusKb(process.Id, "VmHWM:") / 1024);
    }

    private static IEnumerable<int> Tree(int pid)
    {
        yield return pid;
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var task in tasks)
        {
            string children;
            try
            {
                children = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var p in Tree(int.Parse(child, CultureInfo.InvariantCulture)))
                {
                    yield return p;
                }
            }
        }
    }

    private static double StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return double.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>SIGTERM, then a kill after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
            using var cts = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
