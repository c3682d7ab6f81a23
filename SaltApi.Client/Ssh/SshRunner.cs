using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;

namespace SaltApi.Client.Ssh;

/// <summary>What a salt-ssh process gave: its exit code, its standard output, and the end of its standard error.</summary>
internal sealed record SshOutput(int ExitCode, byte[] Stdout, string Stderr);

/// <summary>
/// Runs salt-ssh with bounds: at most <see cref="SshOptions.MaxProcesses"/> at once and
/// <see cref="SshOptions.QueueLength"/> waiting (one more is a 503), a wall-clock limit on the whole call that kills
/// the process and everything it started (504), and a cap on the output read (500). No shell: an argv array, stdin
/// closed, an empty private working folder. Secrets go through a Saltfile only its owner can read, deleted after.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Lives as long as the client layer; a SemaphoreSlim whose wait handle is never asked for holds nothing to release.")]
internal sealed class SshRunner(SshOptions options, ILogger logger)
{
    /// <summary>Bytes of standard error kept for the error message (its end).</summary>
    private const int StderrKept = 8 * 1024;

    private readonly SemaphoreSlim slots = new(options.MaxProcesses, options.MaxProcesses);
    private int waiting;

    /// <summary>Processes running now (for tests and metrics).</summary>
    public int Running => options.MaxProcesses - slots.CurrentCount;

    public async Task<SshOutput> RunAsync(Func<string?, SshCommand> build, CancellationToken cancellationToken)
    {
        using var wallClock = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wallClock.CancelAfter(TimeSpan.FromSeconds(options.WallClock));
        if (!slots.Wait(0, CancellationToken.None))
        {
            if (Interlocked.Increment(ref waiting) > options.QueueLength)
            {
                Interlocked.Decrement(ref waiting);
                throw new SaltMasterUnavailableException($"Too many salt-ssh calls: {options.MaxProcesses} running and {options.QueueLength} waiting; try again later.");
            }

            try
            {
                await slots.WaitAsync(wallClock.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut();
            }
            finally
            {
                Interlocked.Decrement(ref waiting);
            }
        }

        var dir = Directory.CreateTempSubdirectory("saltapi-ssh-");
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var saltfile = Path.Combine(dir.FullName, "Saltfile");
            var command = build(saltfile);
            await WriteSaltfileAsync(saltfile, command.Secrets, wallClock.Token).ConfigureAwait(false);
            foreach (var name in command.Dropped)
            {
                logger.LogWarning("ssh client: option {Option} is not passed to salt-ssh", name);
            }

            return await RunProcessAsync(command, dir.FullName, cancellationToken, wallClock.Token).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "ssh client: could not delete {Dir}", dir.FullName);
            }
        }
    }

    private static async Task WriteSaltfileAsync(string path, IReadOnlyDictionary<string, object?> secrets, CancellationToken ct)
    {
        var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["salt-ssh"] = new OrderedDictionary<string, object?>(secrets, StringComparer.Ordinal) };
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // JSON is YAML: Salt reads the Saltfile with its YAML loader.
        await using var file = new FileStream(path, options);
        await file.WriteAsync(Encoding.UTF8.GetBytes(SaltApi.Abstractions.Json.SaltJson.Serialize(map)), ct).ConfigureAwait(false);
    }

    private async Task<SshOutput> RunProcessAsync(SshCommand command, string workDir, CancellationToken caller, CancellationToken wallClock)
    {
        var start = new ProcessStartInfo(options.Program, command.Argv)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workDir,
        };
        start.Environment.Remove("SALT_SALTFILE");
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new SaltClientException($"salt-ssh could not be started ({options.Program}): {e.Message}");
        }

        try
        {
            var declined = DeclineKeyDeployAsync(process.StandardInput.BaseStream, wallClock);
            var stdout = ReadBoundedAsync(process.StandardOutput.BaseStream, options.MaxOutput, wallClock);
            var stderr = ReadTailAsync(process.StandardError.BaseStream, wallClock);
            var bytes = await stdout.ConfigureAwait(false);
            if (bytes is null)
            {
                throw new SaltClientException($"salt-ssh wrote more than {options.MaxOutput} bytes; the call was stopped.");
            }

            var err = await stderr.ConfigureAwait(false);
            await process.WaitForExitAsync(wallClock).ConfigureAwait(false);
            try
            {
                await declined.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // stdin is held open by something salt-ssh left behind; the write ends when it goes.
            }
            return new SshOutput(process.ExitCode, bytes, err);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw TimedOut();
        }
        finally
        {
            if (!process.HasExited)
            {
                Kill(process);
            }
        }
    }

    /// <summary>"n" answers given to salt-ssh's key-deploy question: one for each host that can answer "Permission denied".</summary>
    internal const int KeyDeployAnswers = 8192;

    /// <summary>
    /// salt-ssh's run() (unlike SSHClient's run_iter, which salt-api runs) asks on stdin, for each host that answered
    /// "Permission denied", whether to deploy its key. It is answered "n" <see cref="KeyDeployAnswers"/> times, then
    /// stdin is closed: a closed stdin alone ends salt-ssh with an EOFError at the first such host, and every host's
    /// answer is lost. Nothing else is ever read from stdin. The write ends at the latest when salt-ssh exits.
    /// </summary>
    private static async Task DeclineKeyDeployAsync(Stream stdin, CancellationToken ct)
    {
        var answers = new byte[KeyDeployAnswers * 2];
        for (var i = 0; i < answers.Length; i += 2)
        {
            answers[i] = (byte)'n';
            answers[i + 1] = (byte)'\n';
        }

        try
        {
            await stdin.WriteAsync(answers, ct).ConfigureAwait(false);
            await stdin.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // salt-ssh exited without reading them all (a broken pipe), or the wall clock.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // the pipe is already broken
            }
        }
    }

    private void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            logger.LogWarning(e, "ssh client: could not kill salt-ssh {Pid}", process.Id);
        }
    }

    private SaltTimeoutException TimedOut() =>
        new($"salt-ssh did not finish within {options.WallClock} s; it was stopped.");

    /// <summary>The whole stream, or null past <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, int max, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>The end of the stream (the last <see cref="StderrKept"/> bytes), read to its end so the process never blocks on it.</summary>
    private static async Task<string> ReadTailAsync(Stream stream, CancellationToken ct)
    {
        var kept = new byte[StderrKept * 2];
        var length = 0;
        var chunk = new byte[8 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (length + n > kept.Length)
                {
                    var keep = Math.Max(0, StderrKept - n);
                    Array.Copy(kept, length - keep, kept, 0, keep);
                    length = keep;
                }

                Array.Copy(chunk, 0, kept, length, n);
                length += n;
            }
        }
        catch (OperationCanceledException)
        {
            // The wall clock: what was read is the message.
        }

        var start = Math.Max(0, length - StderrKept);
        return Encoding.UTF8.GetString(kept, start, length - start);
    }
}
