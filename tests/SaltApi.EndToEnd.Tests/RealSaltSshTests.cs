using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// Runs when a Salt source tree is given (<c>SALTAPI_SALT_SRC</c>, with scripts/salt-ssh and Salt's Python
/// dependencies for <c>/usr/bin/python3</c>) and Debian's openssh-server is installed; skipped otherwise, saying why.
/// <c>SALTAPI_SSH_USER</c> names the account salt-ssh logs in as (default: the current user, root included); the
/// roster's <c>set_path</c> puts Debian's /usr/bin first on its PATH, before a pyenv or virtualenv python3 its shell
/// may set up.
/// </summary>
public sealed class SaltSshFactAttribute : FactAttribute
{
    public SaltSshFactAttribute()
    {
        var src = Environment.GetEnvironmentVariable("SALTAPI_SALT_SRC");
        if (string.IsNullOrEmpty(src))
        {
            Skip = "no Salt source tree: set SALTAPI_SALT_SRC to run salt-ssh against a real sshd";
        }
        else if (!File.Exists(Path.Combine(src, "scripts", "salt-ssh")))
        {
            Skip = $"SALTAPI_SALT_SRC={src} has no scripts/salt-ssh";
        }
        else if (!File.Exists("/usr/sbin/sshd") || !File.Exists("/usr/bin/ssh-keygen"))
        {
            Skip = "openssh-server is not installed (apt-get install openssh-server)";
        }
        else if (OperatingSystem.IsWindows())
        {
            Skip = "salt-ssh needs a POSIX host";
        }
    }
}

/// <summary>A real sshd on a loopback port, with a host key and a client key made for the test.</summary>
public sealed class SshdFixture : IAsyncLifetime
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-sshd-").FullName;
    private Process? sshd;

    public string ClientKey => Path.Combine(dir, "client_key");

    public int Port { get; private set; }

    public string User { get; } = Environment.GetEnvironmentVariable("SALTAPI_SSH_USER") is { Length: > 0 } u ? u : Environment.UserName;

    /// <summary>The remote thin dir, made by salt-ssh as <see cref="User"/>; removed at the end.</summary>
    public string ThinDir { get; } = Path.Combine(Path.GetTempPath(), "saltapi-ssh-thin-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("SALTAPI_SALT_SRC") is not { Length: > 0 } || !File.Exists("/usr/sbin/sshd"))
        {
            return; // the tests are skipped
        }

        await RunAsync("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "host_key"));
        await RunAsync("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ClientKey);
        File.Copy(ClientKey + ".pub", Path.Combine(dir, "authorized_keys"));
        if (!OperatingSystem.IsWindows())
        {
            // sshd reads the keys file as the user who logs in; the folder is the test's own.
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(Path.Combine(dir, "authorized_keys"), (UnixFileMode)0b110_100_100);
        }

        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation folder
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            await File.WriteAllTextAsync(Path.Combine(dir, "sshd_config"), $"""
                Port {Port}
                ListenAddress 127.0.0.1
                HostKey {dir}/host_key
                PidFile none
                AuthorizedKeysFile {dir}/authorized_keys
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                PermitRootLogin prohibit-password
                Subsystem sftp internal-sftp

                """);
            var start = new ProcessStartInfo("/usr/sbin/sshd") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "-D", "-e", "-f", Path.Combine(dir, "sshd_config") })
            {
                start.ArgumentList.Add(a);
            }

            start.Environment.Clear();
            start.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
            sshd = Process.Start(start)!;
            var stderr = new StringBuilder();
            sshd.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
            sshd.BeginErrorReadLine();
            var sw = Stopwatch.StartNew();
            while (!await AcceptsAsync(Port))
            {
                if (sshd.HasExited || sw.Elapsed > TimeSpan.FromSeconds(30))
                {
                    if (attempt < 3 && sshd.HasExited)
                    {
                        break;
                    }

                    throw new InvalidOperationException("sshd did not start: " + stderr);
                }

                await Task.Delay(50);
            }

            if (!sshd.HasExited)
            {
                return;
            }
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var c = new TcpClient();
            await c.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, p.ExitCode);
    }

    public async Task DisposeAsync()
    {
        if (sshd is { HasExited: false })
        {
            sshd.Kill(entireProcessTree: true);
            await sshd.WaitForExitAsync();
        }

        sshd?.Dispose();
        Directory.Delete(dir, recursive: true);
        if (Directory.Exists(ThinDir))
        {
            Directory.Delete(ThinDir, recursive: true);
        }
    }
}

/// <summary>
/// The <c>ssh</c> client end to end: the daemon on its embedded master, the real salt-ssh from a Salt source tree,
/// a real sshd on loopback; through rest_cherrypy and rest_wsgi.
/// </summary>
public sealed class RealSaltSshTests(SshdFixture sshd) : IClassFixture<SshdFixture>, IAsyncLifetime
{
    private Daemon? daemon;

    private Daemon D => daemon!;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("SALTAPI_SALT_SRC") is not { Length: > 0 } src || !File.Exists("/usr/sbin/sshd"))
        {
            return;
        }

        daemon = await Daemon.StartAsync(configure: dir =>
        {
            // salt-ssh from the source tree, with Debian's python3; looseversion is not packaged in Debian 12.
            Directory.CreateDirectory(Path.Combine(dir, "pylib"));
            File.WriteAllText(Path.Combine(dir, "pylib", "looseversion.py"), "from distutils.version import LooseVersion\n");
            var wrapper = Path.Combine(dir, "salt-ssh");
            File.WriteAllText(wrapper, $"#!/bin/sh\ntouch '{dir}/started.'$$\nPYTHONPATH='{src}:{dir}/pylib' PYTHONWARNINGS=ignore exec /usr/bin/python3 '{src}/scripts/salt-ssh' \"$@\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            }

            Directory.CreateDirectory(Path.Combine(dir, "master.d"));
            Directory.CreateDirectory(Path.Combine(dir, "roster.d"));
            File.WriteAllText(Path.Combine(dir, "master.d", "ssh.conf"), $"""
                netapi_enable_clients: [local, runner, ssh]
                rosters: ['{dir}/roster.d']
                ssh_log_file: {dir}/ssh.log
                saltapi_client:
                  salt_ssh: {wrapper}

                """);
            var roster = $"""
                web1:
                  host: 127.0.0.1
                  port: {sshd.Port}
                  user: {sshd.User}
                  priv: {sshd.ClientKey}
                  thin_dir: {sshd.ThinDir}
                  set_path: /usr/bin:/bin:$PATH

                """;
            // web3 has no key salt-ssh may use (salt-ssh's own is not authorized there): "Permission denied".
            File.WriteAllText(Path.Combine(dir, "roster"), roster + roster.Replace("web1:", "web3:", StringComparison.Ordinal).Replace($"  priv: {sshd.ClientKey}\n", "", StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(dir, "roster.d", "other"), roster.Replace("web1:", "web9:", StringComparison.Ordinal));
        });
    }

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(Uri uri, string lowstate)
    {
        using var content = new StringContent(lowstate, Encoding.UTF8, "application/json");
        using var response = await D.Http.PostAsync(uri, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Low(string fun, string user = "saltdev", string tgt = "web1", string extra = "") =>
        $$"""[{"client": "ssh", "tgt": "{{tgt}}", "fun": "{{fun}}", "no_host_keys": true, "eauth": "file", "username": "{{user}}", "password": "{{Daemon.Password}}"{{extra}}}]""";

    private static void AssertPing(string body, string host = "web1")
    {
        using var doc = JsonDocument.Parse(body);
        var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray()).GetProperty(host);
        Assert.True(ret.GetProperty("return").GetBoolean(), body);
        Assert.Equal(0, ret.GetProperty("retcode").GetInt32());
        Assert.Equal("test.ping", ret.GetProperty("fun").GetString());
        Assert.Equal(0, ret.GetProperty("fun_args").GetArrayLength());
        Assert.Equal(20, ret.GetProperty("jid").GetString()!.Length);

        // As salt-api answers: the host's answer after run_iter fired it as an event.
        Assert.Equal(["jid", "return", "retcode", "id", "fun", "fun_args", "_stamp"], ret.EnumerateObject().Select(p => p.Name));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$", ret.GetProperty("_stamp").GetString());
    }

    [SaltSshFact]
    public async Task Test_ping_over_ssh_answers_as_salt_api_through_rest_cherrypy_and_rest_wsgi()
    {
        var (status, body) = await PostAsync(new Uri(D.Cherrypy, "run"), Low("test.ping"));
        Assert.True(status == HttpStatusCode.OK, body + "\n" + D.Output);
        AssertPing(body);

        (status, body) = await PostAsync(D.Wsgi, Low("test.ping", user: "limited"));
        Assert.True(status == HttpStatusCode.OK, body);
        AssertPing(body);
    }

    [SaltSshFact]
    public async Task A_command_s_return_and_retcode_and_a_roster_file_from_the_rosters()
    {
        var (status, body) = await PostAsync(D.Wsgi, Low("cmd.run", extra: """, "arg": ["echo hi; exit 3"]"""));
        Assert.True(status == HttpStatusCode.OK, body);
        using (var doc = JsonDocument.Parse(body))
        {
            var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray()).GetProperty("web1");
            Assert.Equal("hi", ret.GetProperty("return").GetString());
            Assert.Equal(3, ret.GetProperty("retcode").GetInt32());
        }

        (status, body) = await PostAsync(D.Wsgi, Low("test.ping", tgt: "web9", extra: """, "roster_file": "other" """));
        Assert.True(status == HttpStatusCode.OK, body);
        AssertPing(body, "web9");
    }

    [SaltSshFact]
    public async Task A_user_allowed_only_test_functions_is_refused_before_salt_ssh_runs()
    {
        var before = Starts();

        var (status, body) = await PostAsync(new Uri(D.Cherrypy, "run"), Low("cmd.run", user: "limited", extra: """, "arg": ["id"]"""));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        (status, body) = await PostAsync(D.Wsgi, Low("cmd.run", user: "limited", extra: """, "arg": ["id"]"""));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(before, Starts()); // salt-ssh never started
    }

    [SaltSshFact]
    public async Task A_host_that_refuses_the_key_is_its_stderr_and_retcode_beside_the_others_answers()
    {
        // salt-ssh's command line asks whether to deploy its key to web3 (salt-api's run_iter never asks).
        var (status, body) = await PostAsync(D.Wsgi, Low("test.ping", tgt: "web[13]"));

        Assert.True(status == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray());
        Assert.True(ret.GetProperty("web1").GetProperty("return").GetBoolean(), body);
        var web3 = ret.GetProperty("web3");
        Assert.Equal(["stdout", "stderr", "retcode", "id", "fun", "jid", "_stamp"], web3.EnumerateObject().Select(p => p.Name));
        Assert.Contains("Permission denied", web3.GetProperty("stderr").GetString(), StringComparison.Ordinal);
        Assert.Equal(255, web3.GetProperty("retcode").GetInt32());
    }

    private int Starts() => Directory.GetFiles(D.Dir, "started.*").Length;
}
