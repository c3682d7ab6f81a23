using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// What the embedded master must never hand out: the master's private key (wheel key.key_str / key.print),
/// a listable token directory, credentials in the events it fires.
/// </summary>
public sealed class CredentialLeakTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private object? Wheel(string fun, string match)
    {
        var load = Map(("eauth", "file"), ("username", "saltdev"), ("password", Password), ("client", "wheel"), ("fun", fun), ("match", match), ("cmd", "wheel"));
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(load));
        var data = Assert.IsType<OrderedDictionary<string, object?>>(reply["data"]);
        Assert.True(data["success"] is true, $"{fun} failed: {data["return"]}");
        return data["return"];
    }

    private static string Flat(object? v) => v switch
    {
        OrderedDictionary<string, object?> m => string.Concat(m.Select(kv => kv.Key + "=" + Flat(kv.Value) + ";")),
        List<object?> l => string.Concat(l.Select(Flat)),
        _ => v?.ToString() ?? "",
    };

    [Theory]
    [InlineData("key.key_str", "*")]
    [InlineData("key.print", "*")]
    [InlineData("key.key_str", "master.pem")]
    [InlineData("key.print", "master*")]
    public void Key_str_and_print_never_return_the_masters_keys(string fun, string match)
    {
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Wheel(fun, match));
        // As salt.key.Key.key_str: minion key lists only, never "local" (master.pem / master.pub).
        Assert.DoesNotContain("local", ret.Keys);
        Assert.DoesNotContain("PRIVATE KEY", Flat(ret), StringComparison.Ordinal);
        Assert.DoesNotContain(h.Master.Context!.Keys.MasterPublicPem().Trim(), Flat(ret), StringComparison.Ordinal);
        if (match == "*")
        {
            var minions = Assert.IsType<OrderedDictionary<string, object?>>(ret["minions"]);
            Assert.Contains("ms--0", minions.Keys);
            Assert.StartsWith("-----BEGIN PUBLIC KEY-----", (string)minions["ms--0"]!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Finger_still_lists_the_masters_keys_by_fingerprint_only()
    {
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Wheel("key.finger", "master.pem"));
        var local = Assert.IsType<OrderedDictionary<string, object?>>(ret["local"]);
        Assert.Matches("^([0-9a-f]{2}:){31}[0-9a-f]{2}$", (string)local["master.pem"]!);
    }

    [Fact]
    public void The_token_directory_is_created_0700()
    {
        var dir = Path.Combine(h.CacheDir, "tokens");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }

    [Fact]
    public async Task An_existing_token_directory_open_to_others_is_set_to_0700_at_start()
    {
        var dir = Directory.CreateTempSubdirectory("saltem-").FullName;
        try
        {
            var tokens = Path.Combine(dir, "cache", "tokens");
            Directory.CreateDirectory(tokens);
            File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            await File.WriteAllTextAsync(Path.Combine(dir, "users"), "saltdev:saltdev\n");
            await using (var master = await SaltMaster.StartAsync(MasterHarness.Config(dir), NullLoggerFactory.Instance))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(tokens));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_refused_publish_fires_salt_job_error_without_the_password()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-acl-denied");
        const string secret = "Sekrit-pw-4711";
        await File.AppendAllTextAsync(Path.Combine(h.Dir, "users"), $"limited2:{secret}\n");
        var kwargs = (OrderedDictionary<string, object?>)req["kwargs"]!;
        kwargs["username"] = "limited";
        kwargs["password"] = Password;
        req["key"] = "a-root-key-value-that-must-not-leak";
        await h.SendAsync(req);
        var (err, raw) = await bus.NextRawAsync(t => t == "salt/job/error");
        var data = (OrderedDictionary<string, object?>)err.Data["kwargs"]!;
        Assert.Equal("limited", data["username"]);
        Assert.DoesNotContain("password", data.Keys);
        Assert.Equal("", err.Data["key"]);
        Assert.DoesNotContain("a-root-key-value", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        // Salt's error shape is kept.
        Assert.Equal("AuthorizationError", ((OrderedDictionary<string, object?>)err.Data["error"]!)["name"]);

        // A wrong password is not on the bus either.
        kwargs["username"] = "limited2";
        kwargs["password"] = secret + "-wrong";
        await h.SendAsync(req);
        (_, raw) = await bus.NextRawAsync(t => t == "salt/job/error");
        Assert.DoesNotContain(secret, Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_token_publish_fires_salt_job_error_without_the_token()
    {
        using var bus = h.Reader();
        var req = CapturedRequests.Load("req-publish-publish-bad-token");
        var kwargs = (OrderedDictionary<string, object?>)req["kwargs"]!;
        var token = new string('e', 64);
        kwargs["token"] = token;
        await h.SendAsync(req);
        var (err, raw) = await bus.NextRawAsync(t => t == "salt/job/error");
        Assert.DoesNotContain("token", ((OrderedDictionary<string, object?>)err.Data["kwargs"]!).Keys);
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
    }
}
