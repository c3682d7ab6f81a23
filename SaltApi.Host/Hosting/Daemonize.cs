using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace SaltApi.Host.Hosting;

/// <summary>
/// <c>salt-api -d</c>, as salt.utils.process.daemonize: the daemon runs detached, in a session of its own,
/// with standard input, output and error on <c>/dev/null</c>, in <c>/</c> with umask 022, and writes
/// <c>api_pidfile</c> with its own pid. Salt forks twice; a .NET process cannot fork safely, so the command
/// starts itself again with <c>posix_spawn</c> (<c>POSIX_SPAWN_SETSID</c>) and waits on a pipe until the
/// new process says its modules listen: it then exits 0, or with the new process's exit status when that
/// one fails to start (Salt's parent exits 0 at once, before anything is started).
/// </summary>
internal static partial class Daemonize
{
    /// <summary>Set in the detached process: the pipe it reports readiness on.</summary>
    public const string ReadyFdVariable = "SALT_API_DAEMON_READY_FD";

    // How long the command waits for the detached daemon to report its modules listening.
    private static readonly TimeSpan ReadyBound = TimeSpan.FromMinutes(3);

    private const int PosixSpawnSetsid = 0x80;
    private const int OCloexec = 0x80000;
    private const int ORdonly = 0;
    private const int OWronly = 1;

    /// <summary>In the detached process: the readiness pipe taken from the environment, or null when not detached.</summary>
    public static SafeFileHandle? TakeReadyPipe()
    {
        if (Environment.GetEnvironmentVariable(ReadyFdVariable) is not { } text
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
        {
            return null;
        }

        Environment.SetEnvironmentVariable(ReadyFdVariable, null);
        _ = Fcntl(fd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>In the detached process, once its config is read: <c>/</c> and umask 022, as Salt's daemonize.</summary>
    public static void Detached()
    {
        Directory.SetCurrentDirectory("/");
        _ = Umask(Convert.ToUInt32("022", 8));
    }

    /// <summary>In the detached process: tells the waiting command that the modules listen.</summary>
    public static void ReportReady(SafeFileHandle pipe)
    {
        try
        {
            using var stream = new FileStream(pipe, FileAccess.Write, 1);
            stream.Write("READY\n"u8);
        }
        catch (IOException)
        {
            // The command is gone (killed): nobody waits.
        }
    }

    /// <summary>The command: starts the detached daemon with the same arguments and waits for it; returns the exit status.</summary>
    public static int Start(IReadOnlyList<string> args, TextWriter error)
    {
        Span<int> fds = stackalloc int[2];
        if (Pipe2(fds, OCloexec) != 0)
        {
            error.WriteLine($"[ERROR   ] salt-api could not daemonize: pipe failed ({Marshal.GetLastPInvokeErrorMessage()})");
            return SaltApiDaemon.ExitError;
        }

        var (readFd, writeFd) = (fds[0], fds[1]);
        var target = writeFd == 3 ? 4 : 3;
        int pid;
        try
        {
            pid = Spawn(Command(args), ChildEnvironment(target), writeFd, target);
        }
        catch (IOException e)
        {
            _ = Close(readFd);
            _ = Close(writeFd);
            error.WriteLine($"[ERROR   ] salt-api could not daemonize: {e.Message}");
            return SaltApiDaemon.ExitError;
        }

        _ = Close(writeFd);
        using var ready = new FileStream(new SafeFileHandle(readFd, ownsHandle: true), FileAccess.Read, 1);
        var read = Task.Run(() => new StreamReader(ready, Encoding.ASCII).ReadToEnd());
        if (!read.Wait(ReadyBound))
        {
            error.WriteLine($"[ERROR   ] salt-api (pid {pid}) did not report its modules listening within {ReadyBound.TotalSeconds} s; stopping it (see its log file)");
            _ = Kill(pid, 15);
            return SaltApiDaemon.ExitError;
        }

        if (read.Result.StartsWith("READY", StringComparison.Ordinal))
        {
            return 0;
        }

        // It ended before it was ready: its exit status is the command's.
        var status = 0;
        _ = WaitPid(pid, ref status, 0);
        var code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
        error.WriteLine($"[ERROR   ] salt-api (pid {pid}) stopped before its modules listened (exit status {code}); see its log file");
        return code == 0 ? SaltApiDaemon.ExitError : code;
    }

    // The running program again: the apphost, or `dotnet salt-api.dll`, with the same arguments.
    private static List<string> Command(IReadOnlyList<string> args)
    {
        var process = System.Environment.ProcessPath ?? throw new IOException("the program's path is unknown");
        var command = new List<string> { process };
        if (Path.GetFileNameWithoutExtension(process) == "dotnet" && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } dll)
        {
            command.Add(dll);
        }

        command.AddRange(args);
        return command;
    }

    private static List<string> ChildEnvironment(int readyFd) =>
    [
        .. System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().Where(e => (string)e.Key != ReadyFdVariable).Select(e => $"{e.Key}={e.Value}"),
        $"{ReadyFdVariable}={readyFd.ToString(CultureInfo.InvariantCulture)}",
    ];

    private static unsafe int Spawn(List<string> argv, List<string> envp, int writeFd, int target)
    {
        // posix_spawn_file_actions_t and posix_spawnattr_t are opaque; glibc's are 80 and 336 bytes.
        var actions = NativeMemory.AllocZeroed(1024);
        var attr = NativeMemory.AllocZeroed(1024);
        var strings = new List<IntPtr>();
        try
        {
            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(AddOpen(actions, 0, "/dev/null", ORdonly, 0), "posix_spawn_file_actions_addopen");
            Check(AddOpen(actions, 1, "/dev/null", OWronly, 0), "posix_spawn_file_actions_addopen");
            Check(AddDup2(actions, 1, 2), "posix_spawn_file_actions_adddup2");
            Check(AddDup2(actions, writeFd, target), "posix_spawn_file_actions_adddup2");
            Check(AttrInit(attr), "posix_spawnattr_init");
            Check(AttrSetFlags(attr, PosixSpawnSetsid), "posix_spawnattr_setflags");
            var argvPtr = Strings(argv, strings);
            var envPtr = Strings(envp, strings);
            fixed (IntPtr* a = argvPtr, e = envPtr)
            {
                var pid = 0;
                Check(PosixSpawn(ref pid, argv[0], actions, attr, (IntPtr)a, (IntPtr)e), "posix_spawn");
                return pid;
            }
        }
        finally
        {
            _ = FileActionsDestroy(actions);
            _ = AttrDestroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    private static IntPtr[] Strings(List<string> values, List<IntPtr> owned)
    {
        var result = new IntPtr[values.Count + 1];
        for (var i = 0; i < values.Count; i++)
        {
            result[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            owned.Add(result[i]);
        }

        return result;
    }

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(Span<int> fds, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid")]
    private static partial int WaitPid(int pid, ref int status, int options);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static unsafe partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static unsafe partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int AddOpen(void* actions, int fd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static unsafe partial int AddDup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static unsafe partial int AttrInit(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static unsafe partial int AttrDestroy(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static unsafe partial int AttrSetFlags(void* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int PosixSpawn(ref int pid, string path, void* actions, void* attr, IntPtr argv, IntPtr envp);
}
