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
    /// The configured <c>user</c>, as Salt's check_user: unknown → Salt's message and exit 67. The user the
    /// daemon runs as → nothing to do. Root with another user configured → that user, to switch to once the
    /// logs, the pidfile and the embedded master are set up (<see cref="UserSwitch"/>). Another user that
    /// cannot switch → Salt's message and exit 1 (salt-api then starts nothing).
    /// </summary>
    public static int? CheckUser(string user, ILogger log, TextWriter stderr, out SystemUser? switchTo)
    {
        switchTo = null;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }

        if (GetPwNam(user) == IntPtr.Zero)
        {
            stderr.WriteLine($"Failed to prepare the Salt environment for user {user}. The user is not available.");
            return ExitNoUser;
        }

        if (string.Equals(Environment.UserName, user, StringComparison.Ordinal))
        {
            return null;
        }

        if (UserSwitch.IsRoot && UserSwitch.Lookup(user) is { } target)
        {
            switchTo = target;
            return null;
        }

        // As check_user's refusal; deliberate difference: exit 1 instead of exiting 0 having started nothing.
        log.LogCritical("Salt configured to run as user \"{User}\" but unable to switch.", user);
        return SaltApiDaemon.ExitError;
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
