using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace SaltApi.Host.Hosting;

/// <summary>
/// Checks made when the daemon runs beside a real master (no embedded one): the master's user and the
/// permissions of the event bus sockets in <c>sock_dir</c> (spec/06 §2, §7), with clear messages.
/// </summary>
internal static partial class MasterHostChecks
{
    /// <summary>Salt's EX_NOUSER: the configured user does not exist.</summary>
    public const int ExitNoUser = 67;

    private const int WriteOk = 2;
    private const int ReadOk = 4;

    /// <summary>
    /// The configured <c>user</c>: unknown → Salt's message and exit 67. Deliberate difference: the
    /// daemon does not switch users itself (a multithreaded .NET process cannot do it safely); when the
    /// configured user is not the one running it, it says so and keeps the current user.
    /// </summary>
    public static int? CheckUser(string user, ILogger log, TextWriter stderr)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }

        if (GetPwNam(user) == IntPtr.Zero)
        {
            stderr.WriteLine($"Failed to prepare the Salt environment for user {user}. The user is not available.");
            return ExitNoUser;
        }

        var current = Environment.UserName;
        if (!string.Equals(current, user, StringComparison.Ordinal))
        {
            log.LogWarning(
                "Salt is configured to run as user \"{User}\" but salt-api runs as \"{Current}\"; it does not switch users itself: start it as \"{User}\" (User= in the systemd unit)",
                user,
                current,
                user);
        }

        return null;
    }

    /// <summary>The event bus sockets a real master creates in sock_dir, checked before the client layer needs them.</summary>
    public static void CheckSockDir(Protocol.Config.MasterConfig master, string user, ILogger log)
    {
        if (master.IpcMode == "tcp")
        {
            log.LogDebug("ipc_mode tcp: the event bus is on 127.0.0.1:{Pub} (pub) and :{Pull} (pull)", master.TcpMasterPubPort, master.TcpMasterPullPort);
            CheckAlive(master, log);
            return;
        }

        if (!Directory.Exists(master.SockDir))
        {
            log.LogWarning(
                "sock_dir {SockDir} does not exist: no salt-master with this config runs on this host yet (start it, fix sock_dir, or add an embedded_master section)",
                master.SockDir);
            return;
        }

        var pub = master.EventPubPath;
        if (!File.Exists(pub))
        {
            log.LogWarning("The master event bus socket {Path} does not exist: is the salt-master running?", pub);
            return;
        }

        // Connecting to a unix socket needs write permission on the socket file (spec/02 §1).
        if (Access(pub, ReadOk | WriteOk) != 0)
        {
            log.LogError(
                "Permission denied on the master event bus socket {Path}: run salt-api as the salt-master's user (\"{User}\") or give this user access to {SockDir}",
                pub,
                user,
                master.SockDir);
        }

        CheckAlive(master, log);
        var pull = master.EventPullPath;
        if (File.Exists(pull) && Access(pull, WriteOk) != 0)
        {
            log.LogWarning("Permission denied on {Path}: firing events (/hook) will fail; run salt-api as the salt-master's user (\"{User}\")", pull, user);
        }
    }

    /// <summary>NetapiClient's liveness check (spec/03 §1): every request answers 503 while this file is missing.</summary>
    private static void CheckAlive(Protocol.Config.MasterConfig master, ILogger log)
    {
        var alive = master.Transport == "tcp" ? Path.Combine(master.SockDir, "publish_pull.ipc") : master.WorkersPath;
        if (!File.Exists(alive))
        {
            log.LogWarning("{Path} does not exist: requests will answer \"Salt Master is not available.\" until the salt-master creates it", alive);
        }
    }

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Access(string path, int mode);
}
