using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Json;
using SaltApi.Client.Ssh;
using SaltApi.Protocol.Events;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>
/// cmd_sync's answer from salt-ssh runs recorded against a real sshd (tests/data/ssh): the JSON salt-ssh printed and
/// the master job cache it wrote under the jid it was given.
/// </summary>
public sealed class SshReturnTests
{
    private static string Case(string name) => Path.Combine(TestData.Dir, "ssh", name);

    private static SshOutput Output(string name) =>
        new(int.Parse(File.ReadAllText(Path.Combine(Case(name), "exitcode")).Trim(), System.Globalization.CultureInfo.InvariantCulture), File.ReadAllBytes(Path.Combine(Case(name), "stdout.json")), "");

    private static string Jid(string name) => File.ReadAllText(Path.Combine(Case(name), "jid")).Trim();

    private static OrderedDictionary<string, object?> Parse(string name, string fun, List<object?> args, bool withCache = true, TimeProvider? events = null) =>
        SshReturn.Parse(Output(name), Jid(name), fun, args, withCache ? Path.Combine(Case(name), "jobs") : null, "sha256", events);

    /// <summary>A clock that is always <see cref="Now"/>.</summary>
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now => now;

        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>A time with microseconds, derived from now (the test holds on any day).</summary>
    private static Clock Events()
    {
        var now = DateTimeOffset.UtcNow;
        return new(now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)).AddTicks(1234560));
    }

    private static void AssertStamp(object? stamp, DateTime expected)
    {
        Assert.Equal(EventFrame.Stamp(expected), stamp);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$", (string)stamp!);
    }

    [Fact]
    public void With_an_event_bus_the_answer_gets_what_run_iter_s_event_adds_to_it()
    {
        // As salt-api answered on the same roster: {"jid", "return", "retcode", "id", "fun", "fun_args", "_stamp"}.
        var web1 = (OrderedDictionary<string, object?>)Parse("ping", "test.ping", [], events: Events())["web1"]!;

        Assert.Equal(["jid", "return", "retcode", "id", "fun", "fun_args", "_stamp"], web1.Keys);
        Assert.Equal(Jid("ping"), web1["jid"]); // the jid of the call, as run_iter sets it
        var cached = Path.Combine(Directory.GetDirectories(Directory.GetDirectories(Path.Combine(Case("ping"), "jobs"))[0])[0], "web1", "return.p");
        AssertStamp(web1["_stamp"], File.GetLastWriteTimeUtc(cached)); // when salt-ssh cached it, just before its event
    }

    [Fact]
    public void A_wrapper_function_s_answer_is_completed_by_the_event_as_in_salt()
    {
        // grains.item runs in salt-ssh's wrapper: cache_job saves only {"return": ...}; Salt answered
        // {"return": {"os": "Debian"}, "id": "web1", "fun": "grains.item", "jid": ..., "_stamp": ...}.
        Assert.Equal("""{"web1": {"return": {"os": "Debian"}}}""", SaltJson.Serialize(Parse("grains", "grains.item", ["os"])));

        var web1 = (OrderedDictionary<string, object?>)Parse("grains", "grains.item", ["os"], events: Events())["web1"]!;

        Assert.Equal(["return", "id", "fun", "jid", "_stamp"], web1.Keys);
        Assert.Equal("web1", web1["id"]);
        Assert.Equal("grains.item", web1["fun"]);
        Assert.Equal(Jid("grains"), web1["jid"]);
    }

    [Fact]
    public void An_unreachable_host_gets_the_event_s_fields_too()
    {
        var clock = Events();

        var down = (OrderedDictionary<string, object?>)Parse("down", "test.ping", [], withCache: false, events: clock)["down1"]!;

        Assert.Equal(["stdout", "stderr", "retcode", "id", "fun", "jid", "_stamp"], down.Keys);
        AssertStamp(down["_stamp"], clock.Now.UtcDateTime); // not from the job cache: now
        Assert.EndsWith(".123456", (string)down["_stamp"]!);
    }

    [Fact]
    public void Key_deploy_s_question_before_the_json_is_skipped()
    {
        // salt-ssh's run() asked about web2 (no key of its own: "Permission denied") and was answered "n".
        Assert.StartsWith("Permission denied for host web2", File.ReadAllText(Path.Combine(Case("denied"), "stdout.json")), StringComparison.Ordinal);

        foreach (var withCache in new[] { true, false })
        {
            var ret = Parse("denied", "test.ping", [], withCache, Events());

            Assert.Equal(["web2", "web1"], ret.Keys);
            var web2 = (OrderedDictionary<string, object?>)ret["web2"]!;
            Assert.Equal(["stdout", "stderr", "retcode", "id", "fun", "jid", "_stamp"], web2.Keys);
            Assert.Equal("saltssh@127.0.0.1: Permission denied (publickey).\n", web2["stderr"]);
            Assert.Equal(255L, web2["retcode"]);
            Assert.Equal(true, ((OrderedDictionary<string, object?>)ret["web1"]!)["return"]);
        }
    }

    [Theory]
    [InlineData("Permission denied for host x, do you want to deploy the salt-ssh key? (password required):\n", false)] // no answer prompt: not skipped
    [InlineData("noise Permission denied for host x, do you want to deploy the salt-ssh key? (password required):\n[Y/n] ", false)]
    [InlineData("Permission denied for host x, do you want to deploy the salt-ssh key? (password required):\n[Y/n] Permission denied for host y, do you want to deploy the salt-ssh key? (password required):\n[Y/n] ", true)]
    public void Only_whole_prompts_at_the_start_are_skipped(string before, bool parsed)
    {
        var output = new SshOutput(0, System.Text.Encoding.UTF8.GetBytes(before + "{\"web1\": true}"), "");

        if (parsed)
        {
            Assert.Equal(true, ((OrderedDictionary<string, object?>)SshReturn.Parse(output, "20261207000000000011", "test.ping", [], null, "sha256")["web1"]!)["return"]);
        }
        else
        {
            Assert.Throws<SaltClientException>(() => SshReturn.Parse(output, "20261207000000000011", "test.ping", [], null, "sha256"));
        }
    }

    [Fact]
    public void The_stamp_is_python_s_isoformat()
    {
        var t = new DateTime(2026, 12, 7, 8, 43, 56, DateTimeKind.Utc);

        Assert.Equal("2026-12-07T08:43:56", EventFrame.Stamp(t));
        Assert.Equal("2026-12-07T08:43:56.000001", EventFrame.Stamp(t.AddTicks(10)));
        Assert.Equal("2026-12-07T08:43:56.496160", EventFrame.Stamp(t.AddTicks(4961600)));
    }

    [Fact]
    public void Test_ping_is_the_whole_per_host_answer_from_the_job_cache()
    {
        var ret = Parse("ping", "test.ping", []);

        Assert.Equal("""{"web1": {"jid": "20261207064706090850", "return": true, "retcode": 0, "id": "web1", "fun": "test.ping", "fun_args": []}}""", SaltJson.Serialize(ret));
    }

    [Fact]
    public void A_failing_command_keeps_its_retcode()
    {
        var web1 = (OrderedDictionary<string, object?>)Parse("cmdfail", "cmd.run", ["exit 3"])["web1"]!;

        Assert.Equal(3L, web1["retcode"]);
        Assert.Equal("", web1["return"]);
        Assert.Equal(new List<object?> { "exit 3" }, web1["fun_args"]);
    }

    [Fact]
    public void Several_hosts_each_get_their_answer()
    {
        var ret = Parse("multi", "test.arg", ["1", "a b", "k=v"]);

        Assert.Equal(["web2", "web1"], ret.Keys);
        foreach (var host in ret.Values.Cast<OrderedDictionary<string, object?>>())
        {
            Assert.Equal(0L, host["retcode"]);
            Assert.Equal("test.arg", host["fun"]);
            var r = (OrderedDictionary<string, object?>)host["return"]!;
            Assert.Equal(new List<object?> { 1L, "a b" }, r["args"]);
        }
    }

    [Fact]
    public void An_unreachable_host_is_its_stdout_stderr_retcode()
    {
        var down = (OrderedDictionary<string, object?>)Parse("down", "test.ping", [])["down1"]!;

        Assert.Equal(255L, down["retcode"]);
        Assert.Equal("ssh: connect to host 127.0.0.1 port 1: Connection refused\n", down["stderr"]);
    }

    [Fact]
    public void Without_the_job_cache_the_answer_is_rebuilt_from_the_printed_json()
    {
        var web1 = (OrderedDictionary<string, object?>)Parse("ping", "test.ping", [], withCache: false)["web1"]!;
        Assert.Equal(true, web1["return"]);
        Assert.Equal(0L, web1["retcode"]);
        Assert.Equal("web1", web1["id"]);
        Assert.Equal("test.ping", web1["fun"]);

        var failed = (OrderedDictionary<string, object?>)Parse("cmdfail", "cmd.run", ["exit 3"], withCache: false)["web1"]!;
        Assert.False(failed.ContainsKey("retcode")); // salt-ssh does not print it; not made up

        var down = (OrderedDictionary<string, object?>)Parse("down", "test.ping", [], withCache: false)["down1"]!;
        Assert.Equal(255L, down["retcode"]);
    }

    [Fact]
    public void A_host_name_that_would_leave_the_job_folder_is_not_read_from_it()
    {
        var output = new SshOutput(0, "{\"../../../ping/jobs\": true}"u8.ToArray(), "");

        var ret = SshReturn.Parse(output, Jid("ping"), "test.ping", [], Path.Combine(Case("ping"), "jobs"), "sha256");

        Assert.Equal(true, ((OrderedDictionary<string, object?>)ret["../../../ping/jobs"]!)["return"]);
    }

    [Theory]
    [InlineData("", 2, "No such file")]
    [InlineData("Traceback ...", 1, "")]
    public void No_json_is_a_500_with_salt_ssh_s_message(string stdout, int exitCode, string stderr)
    {
        var output = new SshOutput(exitCode, System.Text.Encoding.UTF8.GetBytes(stdout), stderr);

        var e = Assert.Throws<SaltClientException>(() => SshReturn.Parse(output, "20261207000000000009", "test.ping", [], null, "sha256"));

        Assert.Contains($"exit code {exitCode}", e.Message, StringComparison.Ordinal);
        Assert.Contains(stderr, e.Message, StringComparison.Ordinal);
    }
}
