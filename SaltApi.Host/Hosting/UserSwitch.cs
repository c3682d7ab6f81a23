using System.Runtime.InteropServices;

namespace SaltApi.Host.Hosting;

/// <summary>A user of the system, as getpwnam reads it.</summary>
internal sealed record SystemUser(string Name, uint Uid, uint Gid, string Home, string Shell);

/// <summary>
/// As Salt's <c>salt.utils.verify.check_user</c>: the daemon drops root for the master config's
/// <c>user</c> (supplementary groups from initgroups, then gid, then uid). glibc applies setgroups, setgid
/// and setuid to every thread of the process (its setxid broadcast), so the .NET threads already running
/// change with the calling one; the switch is verified on every thread afterwards.
/// </summary>
internal static partial class UserSwitch
{
    /// <summary>The user named <paramref name="name"/>, or null when the system has none (Linux only).</summary>
    public static SystemUser? Lookup(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var p = GetPwNam(name);
        if (p == IntPtr.Zero)
        {
            return null;
        }

        var pw = Marshal.PtrToStructure<Passwd>(p);
        return new SystemUser(
            Marshal.PtrToStringUTF8(pw.Name) ?? name,
            pw.Uid,
            pw.Gid,
            Marshal.PtrToStringUTF8(pw.Dir) ?? "/",
            Marshal.PtrToStringUTF8(pw.Shell) ?? "");
    }

    /// <summary>Whether the process runs as root (and so may switch).</summary>
    public static bool IsRoot => OperatingSystem.IsLinux() && GetEuid() == 0;

    /// <summary>
    /// Gives <paramref name="paths"/> (and, for folders, everything under them) to the user, as Salt's
    /// verify_env / verify_log_files do before the switch. Missing paths are skipped.
    /// </summary>
    public static void Chown(SystemUser user, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                ChownOne(path, user);
                foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }))
                {
                    ChownOne(entry, user);
                }
            }
            else if (File.Exists(path))
            {
                ChownOne(path, user);
            }
        }
    }

    /// <summary>Switches the whole process to <paramref name="user"/>; the reason on failure, null on success.</summary>
    public static string? SwitchTo(SystemUser user)
    {
        if (InitGroups(user.Name, user.Gid) != 0)
        {
            return "initgroups: " + Marshal.GetLastPInvokeErrorMessage();
        }

        if (SetGid(user.Gid) != 0)
        {
            return "setgid: " + Marshal.GetLastPInvokeErrorMessage();
        }

        if (SetUid(user.Uid) != 0)
        {
            return "setuid: " + Marshal.GetLastPInvokeErrorMessage();
        }

        // Never keep running with root left anywhere: every thread, real and effective ids, and no way back.
        if (GetUid() != user.Uid || GetEuid() != user.Uid || GetGid() != user.Gid || GetEgid() != user.Gid)
        {
            return "the ids did not change";
        }

        if (user.Uid != 0 && SetUid(0) == 0)
        {
            return "root could be regained after the switch";
        }

        if (ThreadsNotOn(user.Uid) is { } thread)
        {
            return $"thread {thread} still runs as another user";
        }

        // As check_user: the environment follows the user.
        foreach (var (name, value) in new[] { ("HOME", user.Home), ("SHELL", user.Shell), ("USER", user.Name), ("LOGNAME", user.Name) })
        {
            if (Environment.GetEnvironmentVariable(name) is not null)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        return null;
    }

    /// <summary>The id of a thread whose real or effective uid is not <paramref name="uid"/>, or null.</summary>
    private static string? ThreadsNotOn(uint uid)
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(task, "status"));
            }
            catch (IOException)
            {
                continue; // the thread ended meanwhile
            }

            var ids = lines.FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
                .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(2);
            if (ids is not null && ids.Any(id => id != uid.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                return Path.GetFileName(task);
            }
        }

        return null;
    }

    private static void ChownOne(string path, SystemUser user)
    {
        if (LChown(path, user.Uid, user.Gid) != 0)
        {
            throw new IOException($"cannot give {path} to user {user.Name}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct Passwd
    {
        public readonly IntPtr Name;
        public readonly IntPtr Password;
        public readonly uint Uid;
        public readonly uint Gid;
        public readonly IntPtr Gecos;
        public readonly IntPtr Dir;
        public readonly IntPtr Shell;
    }

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "initgroups", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int InitGroups(string user, uint group);

    [LibraryImport("libc", EntryPoint = "setgid", SetLastError = true)]
    private static partial int SetGid(uint gid);

    [LibraryImport("libc", EntryPoint = "setuid", SetLastError = true)]
    private static partial int SetUid(uint uid);

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    private static partial uint GetGid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEgid();

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, uint owner, uint group);
}
