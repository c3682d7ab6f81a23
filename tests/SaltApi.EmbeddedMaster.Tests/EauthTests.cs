using Microsoft.Extensions.Time.Testing;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.Testing;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The eauth modules: file (text options, htpasswd), sharedsecret, auto, pam.</summary>
public sealed class EauthTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltem-eauth-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private FileEauth File(string content, params (string Key, object? Value)[] options)
    {
        var path = Path.Combine(dir, "f" + Guid.NewGuid().ToString("N"));
        System.IO.File.WriteAllText(path, content);
        var map = Map(("^filename", path));
        foreach (var (k, v) in options)
        {
            map[k] = v;
        }

        return new FileEauth(map, NullLogger.Instance);
    }

    [Fact]
    public void The_users_file_is_kept_while_unchanged_and_read_again_at_once_when_it_changes()
    {
        // Write times are set here and the cache's clock is put an hour after them, so that the outcome
        // depends neither on today's date nor on how the file system's clock stands to this process's.
        var path = Path.Combine(dir, "users");
        System.IO.File.WriteAllText(path, "alice:pw1\n");
        var old = System.IO.File.GetLastWriteTimeUtc(path).AddHours(-1);
        System.IO.File.SetLastWriteTimeUtc(path, old);
        var clock = new FakeTimeProvider(new DateTimeOffset(old.AddHours(1), TimeSpan.Zero));
        var cache = new UsersFileCache(clock);
        var first = cache.Read(path)!;
        Assert.Same(first, cache.Read(path));

        // Same length, new write time: read again.
        System.IO.File.WriteAllText(path, "alice:pw2\n");
        System.IO.File.SetLastWriteTimeUtc(path, old.AddMinutes(1));
        var second = cache.Read(path)!;
        Assert.NotSame(first, second);
        Assert.Equal(["alice:pw2"], second.Lines);
        Assert.Same(second, cache.Read(path));

        // Same write time, new length: read again.
        System.IO.File.WriteAllText(path, "alice:pw33\n");
        System.IO.File.SetLastWriteTimeUtc(path, old.AddMinutes(1));
        Assert.Equal(["alice:pw33"], cache.Read(path)!.Lines);

        // A file written just now is not kept (its time may not change on the next write): read on every call.
        System.IO.File.WriteAllText(path, "alice:pw4\n");
        System.IO.File.SetLastWriteTimeUtc(path, clock.GetUtcNow().UtcDateTime.AddSeconds(-1));
        var recent = cache.Read(path)!;
        Assert.NotSame(recent, cache.Read(path));

        // Once it has settled, it is kept.
        clock.Advance(TimeSpan.FromSeconds(5));
        var settled = cache.Read(path)!;
        Assert.Same(settled, cache.Read(path));

        System.IO.File.Delete(path);
        Assert.Null(cache.Read(path));
    }

    [Fact]
    public void File_eauth_sees_a_changed_password_on_the_next_call()
    {
        var path = Path.Combine(dir, "users");
        System.IO.File.WriteAllText(path, "alice:pw1\nbob:pw2\n");
        System.IO.File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-1));
        var f = new FileEauth(Map(("^filename", path)), new UsersFileCache(), NullLogger.Instance);
        Assert.True(f.Authenticate("alice", "pw1"));
        Assert.True(f.Authenticate("alice", "pw1"));
        System.IO.File.WriteAllText(path, "alice:pw9\nbob:pw2\n");
        Assert.False(f.Authenticate("alice", "pw1"));
        Assert.True(f.Authenticate("alice", "pw9"));
        System.IO.File.WriteAllText(path, "bob:pw2\n");
        Assert.False(f.Authenticate("alice", "pw9"));
        Assert.True(f.Authenticate("bob", "pw2"));
        System.IO.File.Delete(path);
        Assert.False(f.Authenticate("bob", "pw2"));
    }

    [Fact]
    public void Text_file_plaintext_and_first_matching_user_decides()
    {
        var f = File("alice:pw1\nbob:pw2\nalice:other\n");
        Assert.True(f.Authenticate("alice", "pw1"));
        Assert.False(f.Authenticate("alice", "other")); // Salt stops at the first line of the user
        Assert.True(f.Authenticate("bob", "pw2"));
        Assert.False(f.Authenticate("carol", "pw2"));
    }

    [Fact]
    public void Text_file_hashtype_separator_and_fields()
    {
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("s3cret"u8));
        var f = File($"x|{sha}|alice\n", ("^hashtype", "sha256"), ("^field_separator", "|"), ("^username_field", 3L), ("^password_field", 2L));
        Assert.True(f.Authenticate("alice", "s3cret"));
        Assert.False(f.Authenticate("alice", sha));
    }

    [Fact]
    public void Htpasswd_formats()
    {
        var f = File(
            "apr:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n"
            + "md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1\n"
            + "s256:$5$saltsaltsalt$TihBZCRsJxAxHgKub.mCOdu9X7QLi980jJxe7T2aZg7\n"
            + "s512:$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts.\n"
            + "rounds:$6$rounds=10000$abc$3DDOWZMNRRKDT142bUtYQRY52ycK/xshRXOQgIyt2QRXzLDnoPq6v4lO9bA3f/JhGz1mHrAh.QUDGHmaE5RxP.\n"
            + "sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n",
            ("^filetype", "htpasswd"));
        foreach (var user in new[] { "apr", "md5", "s256", "s512", "rounds", "sha" })
        {
            Assert.True(f.Authenticate(user, "secret"), user);
            Assert.False(f.Authenticate(user, "Secret"), user);
        }
    }

    [Fact]
    public void Htpasswd_checks_run_off_the_request_thread_and_a_password_past_passlibs_4096_bytes_fails_at_once()
    {
        var f = File(
            "s256:$5$saltsaltsalt$TihBZCRsJxAxHgKub.mCOdu9X7QLi980jJxe7T2aZg7\n"
            + "s512:$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts.\n"
            + "apr:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n",
            ("^filetype", "htpasswd"));

        // Thousands of hash rounds per check: never on the master's request loop.
        Assert.True(f.MayBlock);
        Assert.False(File("a:b\n").MayBlock);

        // SHA-crypt hashes the password once per byte of it: a 1 MiB password was p² bytes (1 TiB) of hashing.
        // As passlib (Salt's htpasswd check), a password longer than 4096 bytes is refused without hashing.
        var huge = "secret" + new string('x', 1 << 20);
        var watch = Stopwatch.StartNew();
        foreach (var user in new[] { "s256", "s512", "apr" })
        {
            Assert.False(f.Authenticate(user, huge), user);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), watch.Elapsed.ToString());

        // At the bound the check still runs, streamed (a 4 KiB password is 16 MiB of hashing, not of memory).
        watch.Restart();
        Assert.False(f.Authenticate("s512", new string('x', FileEauth.MaxHtpasswdPassword)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), watch.Elapsed.ToString());
        Assert.True(f.Authenticate("s512", "secret"));
    }

    [Fact]
    public async Task Sharedsecret_and_auto_through_the_master()
    {
        await using var h = await StartAsync(c =>
        {
            c["sharedsecret"] = "OIUHF_CHANGE_THIS_12h88";
            var ea = (OrderedDictionary<string, object?>)c["external_auth"]!;
            ea["sharedsecret"] = Map(("fred", new List<object?> { "test.*" }));
        });
        OrderedDictionary<string, object?> Login(string eauth, string user, string pw) => Map(("username", user), ("password", pw), ("eauth", eauth), ("cmd", "mk_token"));
        Assert.IsType<OrderedDictionary<string, object?>>(h.Send(Login("sharedsecret", "fred", "OIUHF_CHANGE_THIS_12h88")));
        Assert.Equal("", h.Send(Login("sharedsecret", "fred", "wrong")));
        var auto = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(Login("auto", "anyone", "anything")));
        Assert.Equal("anyone", auto["name"]);
        // auto's ACL ('*': test.ping) allows test.ping only.
        var req = CapturedRequests.Load("req-publish-publish-eauth");
        req["kwargs"] = Map(("eauth", "auto"), ("username", "x"), ("password", "y"), ("client", "local"));
        Assert.Contains("jid", ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(req)!)["load"]!).Keys);
        req["fun"] = "test.echo";
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), h.Send(req));
    }

    [PamFact]
    public async Task Pam_authenticates_a_real_os_user_and_reports_its_groups()
    {
        var user = "saltem" + Random.Shared.Next(10000, 99999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Run("/usr/sbin/useradd", "-M", "-N", "-g", "users", user);
        try
        {
            RunWithInput("/usr/sbin/chpasswd", $"{user}:Pam-Test-Pw1\n");
            var pam = new PamEauth("login", NullLogger.Instance);
            Assert.True(pam.Authenticate(user, "Pam-Test-Pw1"));
            Assert.False(pam.Authenticate(user, "wrong"));
            Assert.Contains("users", ((IEauthBackend)pam).Groups(user)!);

            await using var h = await StartAsync(c => ((OrderedDictionary<string, object?>)c["external_auth"]!)["pam"] = Map(("users%", new List<object?> { "test.*" })));
            var tok = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(Map(("username", user), ("password", "Pam-Test-Pw1"), ("eauth", "pam"), ("cmd", "mk_token"))));
            Assert.Equal(new List<object?> { "users" }, tok["groups"]);
            var req = CapturedRequests.Load("req-publish-publish-token");
            ((OrderedDictionary<string, object?>)req["kwargs"]!)["token"] = tok["token"];
            Assert.Contains("jid", ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(req)!)["load"]!).Keys);
        }
        finally
        {
            Run("/usr/sbin/userdel", user);
        }
    }

    private static void Run(string file, params string[] args) => RunWithInput(file, null, args);

    private static void RunWithInput(string file, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
        }

        p.StandardInput.Close();
        p.WaitForExit(30_000);
        Assert.True(p.ExitCode == 0, $"{file} failed: {p.StandardError.ReadToEnd()}");
    }
}

/// <summary>Skipped (saying why) unless running as root with useradd and a PAM 'login' service: the test creates and deletes a throw-away OS user.</summary>
public sealed class PamFactAttribute : RequiredFactAttribute
{
    public PamFactAttribute()
    {
        if (Environment.UserName != "root")
        {
            Skip = "pam test needs root to create a throw-away OS user";
        }
        else if (!File.Exists("/usr/sbin/useradd") || !File.Exists("/usr/sbin/chpasswd"))
        {
            Skip = "pam test needs useradd and chpasswd";
        }
        else if (!File.Exists("/etc/pam.d/login") || !(File.Exists("/lib/x86_64-linux-gnu/libpam.so.0") || File.Exists("/usr/lib/x86_64-linux-gnu/libpam.so.0") || File.Exists("/usr/lib64/libpam.so.0") || File.Exists("/lib/aarch64-linux-gnu/libpam.so.0")))
        {
            Skip = "pam test needs libpam and the PAM 'login' service";
        }
    }
}
