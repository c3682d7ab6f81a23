using System.Diagnostics;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>Runs the built daemon to completion (for --help, config errors, ...), bounded in time.</summary>
internal static class HostProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string workingDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDir,
        };
        psi.ArgumentList.Add(Daemon.HostDll);
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

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("salt-api did not exit: " + string.Join(' ', args));
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A throw-away config folder; paths inside it keep the daemon's files out of /var.</summary>
    public static string ConfigDir(string master)
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-host-").FullName;
        File.WriteAllText(Path.Combine(dir, "master"), $"""
            api_pidfile: {dir}/salt-api.pid
            api_logfile: {dir}/api.log
            sock_dir: {dir}/sock
            cachedir: {dir}/cache
            {master}
            """);
        return dir;
    }
}
