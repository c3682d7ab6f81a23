using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Json;
using SaltApi.Client.Ssh;
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

    private static OrderedDictionary<string, object?> Parse(string name, string fun, List<object?> args, bool withCache = true) =>
        SshReturn.Parse(Output(name), Jid(name), fun, args, withCache ? Path.Combine(Case(name), "jobs") : null, "sha256");

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
