using System.Net;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>The daemon and Salt's signals: SIGHUP reopens logs and certificates, SIGINT and SIGTERM stop it cleanly.</summary>
public sealed partial class DaemonTests
{
    /// <summary>
    /// A daemon inherits an ignored SIGHUP (nohup, setsid wrappers) or SIGINT (a command a non-interactive shell ran
    /// in the background with <c>&amp;</c>), and then never sees one: say so plainly rather than fail on a missing
    /// log line or a daemon that does not exit.
    /// </summary>
    private static void SighupNotIgnoredHere()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        var ignored = line is null ? 0 : Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
        if ((ignored & 1) != 0)
        {
            Assert.Fail("SIGHUP is ignored by the test process (started under nohup?): the daemons it starts inherit that; run the tests without nohup");
        }

        if ((ignored & 2) != 0)
        {
            Assert.Fail("SIGINT is ignored by the test process (started with & from a non-interactive shell?): the daemons it starts inherit that; run the tests in the foreground");
        }
    }

    // The daemon's blocked, ignored and caught signal masks, for a failure message.
    private static string SignalMasks(int pid)
    {
        try
        {
            return string.Join(", ", File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal) || l.StartsWith("ShdPnd", StringComparison.Ordinal)));
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    [Fact]
    public async Task Sighup_reopens_the_log_file_and_sigint_stops_cleanly()
    {
        SighupNotIgnoredHere();
        var wsgi = FreePort.Next();
        var dir = HostProcess.ConfigDir($"log_level_logfile: info\nrest_wsgi:\n  port: {wsgi}\n  host: 127.0.0.1\n");
        var pidFile = Path.Combine(dir, "run", "cli.pid");
        await using var daemon = await LaunchAsync(dir, [wsgi], "--pid-file", pidFile);
        Assert.True(File.Exists(pidFile));
        Assert.False(File.Exists(Path.Combine(dir, "salt-api.pid")));
        var log = Path.Combine(dir, "api.log");
        Assert.Contains("The salt-api is starting up", File.ReadAllText(log));
        File.Move(log, log + ".1");
        // One SIGHUP: LaunchAsync waited for rest_wsgi's "listening" line, and the daemon installs its signal
        // handlers before it starts any module, so this one cannot arrive before the handler.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        daemon.Signal(1);
        while (!(File.Exists(log) && daemon.Output.Contains($"Received SIGHUP: reopened log file {log}", StringComparison.Ordinal)) && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(20);
        }

        Assert.True(File.Exists(log), $"no reopen within {sw.Elapsed} of one SIGHUP ({SignalMasks(daemon.Pid)}):\n{daemon.Output}");
        Assert.Contains($"Received SIGHUP: reopened log file {log}", daemon.Output, StringComparison.Ordinal);
        Assert.Contains("Received SIGHUP: reopened log file", File.ReadAllText(log), StringComparison.Ordinal);
        Assert.False(daemon.HasExited);
        daemon.Signal(2);
        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"no exit within 30 s of SIGINT ({SignalMasks(daemon.Pid)}):\n{daemon.Output}");
        Assert.Equal(0, daemon.ExitCode);
        Assert.Contains("The salt-api is shutdown. salt-api received a SIGINT. Exited.", File.ReadAllText(log));
        Assert.False(File.Exists(pidFile));
    }

    [Fact]
    public async Task Sighup_has_a_module_serving_tls_read_its_certificate_again()
    {
        SighupNotIgnoredHere();
        var certs = Directory.CreateTempSubdirectory("saltapi-sighup-tls-").FullName;
        try
        {
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(Path.Combine(certs, "api.crt"), cert.ExportCertificatePem());
            File.WriteAllText(Path.Combine(certs, "api.key"), key.ExportPkcs8PrivateKeyPem());
            var port = FreePort.Next();
            var dir = HostProcess.ConfigDir($"rest_tornado:\n  port: {port}\n  address: 127.0.0.1\n  ssl_crt: {certs}/api.crt\n  ssl_key: {certs}/api.key\n");
            await using var daemon = await LaunchAsync(dir, [port]);
            const string Reloaded = "rest_tornado: serving the certificate";
            Assert.DoesNotContain(Reloaded, daemon.Output, StringComparison.Ordinal);

            // The files are unchanged: only the signal has the module read them again.
            daemon.Signal(1);
            await UntilAsync(() => daemon.Output.Contains(Reloaded, StringComparison.Ordinal), daemon);
            Assert.Contains($"{Reloaded} {certs}/api.crt (CN=127.0.0.1", daemon.Output, StringComparison.Ordinal);
            Assert.False(daemon.HasExited);
        }
        finally
        {
            Directory.Delete(certs, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_during_a_slow_local_call_returns_its_result_before_exit()
    {
        // The harness's config: embedded master with ms--0 ... ms--4, rest_wsgi (rest_cherrypy may have no plugin here).
        await using var daemon = await Daemon.StartAsync(waitForPorts: []);
        await daemon.WaitForPortAsync(daemon.WsgiPort, TimeSpan.FromSeconds(60));
        var body = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.sleep", "arg": [5], "username": "saltdev", "password": "{{Daemon.Password}}", "eauth": "file"}]""";
        var call = daemon.Http.PostAsync(daemon.Wsgi, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        // The call is in the master once jobs.active lists it; then SIGTERM, while it still sleeps.
        var active = $$"""[{"client": "runner", "fun": "jobs.active", "username": "saltdev", "password": "{{Daemon.Password}}", "eauth": "file"}]""";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var jobs = await daemon.Http.PostAsync(daemon.Wsgi, new StringContent(active, System.Text.Encoding.UTF8, "application/json"));
            if ((await jobs.Content.ReadAsStringAsync()).Contains("test.sleep", StringComparison.Ordinal))
            {
                break;
            }

            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30) && !call.IsCompleted, $"the call never showed in jobs.active:\n{daemon.Output}");
            await Task.Delay(50);
        }

        Assert.False(call.IsCompleted, "the call ended before SIGTERM was sent");
        daemon.Signal();
        using var response = await call;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", await response.Content.ReadAsStringAsync());
        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)), daemon.Output);
        Assert.Equal(0, daemon.ExitCode);
    }
}
