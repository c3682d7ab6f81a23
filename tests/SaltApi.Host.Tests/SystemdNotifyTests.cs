using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>Type=notify: READY=1 once the modules are started, STOPPING=1 on SIGTERM, over $NOTIFY_SOCKET.</summary>
public sealed partial class SystemdNotifyTests
{
    [Fact]
    public async Task Ready_and_stopping_are_sent_to_the_notify_socket()
    {
        var wsgi = FreePort.Next();
        var dir = HostProcess.ConfigDir($"rest_wsgi:\n  port: {wsgi}\n  host: 127.0.0.1\n");
        var socketPath = Path.Combine(dir, "notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = dir };
        foreach (var a in new[] { Daemon.HostDll, "-c", dir })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NOTIFY_SOCKET"] = socketPath;
        using var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            Assert.Equal("READY=1", await ReceiveAsync(socket));
            // Ready means the module tasks run: the port opens right after (Kestrel binds in RunAsync).
            Assert.Equal(0, Kill(process.Id, 15));
            Assert.Equal("STOPPING=1", await ReceiveAsync(socket));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, n).Trim();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
