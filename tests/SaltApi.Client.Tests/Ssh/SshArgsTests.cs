using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Ssh;
using SaltApi.Client.Tests.Support;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>SSHClient._prep_ssh / sanitize_kwargs as a salt-ssh command line: one argument per value, never a shell.</summary>
public sealed class SshArgsTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private static readonly SshOptions Options = new() { ConfigDir = "/etc/salt" };

    private static OrderedDictionary<string, object?> Low(params (string Key, object? Value)[] kv)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "ssh", ["tgt"] = "web1", ["fun"] = "test.ping" };
        foreach (var (k, v) in kv)
        {
            m[k] = v;
        }

        return m;
    }

    private static List<string> Tail(SshCommand c) => c.Argv.Skip(c.Argv.ToList().IndexOf("--") + 1).ToList();

    [Fact]
    public void Plain_call_has_config_dir_json_static_then_target_and_function_after_double_dash()
    {
        var c = SshArgs.Build(Low(), Options, "/tmp/x/Saltfile", "20261207000000000001");

        Assert.Equal(["-c", "/etc/salt", "--out=json", "--static", "--no-color", "--saltfile=/tmp/x/Saltfile", "--jid=20261207000000000001", "--", "web1", "test.ping"], c.Argv);
        Assert.Empty(c.Secrets);
    }

    [Theory]
    [InlineData("ssh_priv", "/k; touch /tmp/pwned", "--priv=/k; touch /tmp/pwned")] // CVE-2020-16846's path
    [InlineData("ssh_priv", "-oProxyJump=evil --roster-file=/etc/shadow", "--priv=-oProxyJump=evil --roster-file=/etc/shadow")]
    [InlineData("ssh_user", "$(id)\n`id`", "--user=$(id)\n`id`")]
    [InlineData("extra_filerefs", "a b\tc", "--extra-filerefs=a b\tc")]
    public void Hostile_option_values_stay_one_argument(string name, string value, string expected)
    {
        var c = SshArgs.Build(Low((name, value)), Options, null);

        Assert.Single(c.Argv, a => a.Contains(value, StringComparison.Ordinal));
        Assert.Contains(expected, c.Argv);
    }

    [Fact]
    public void Hostile_target_function_and_arguments_stay_single_positional_arguments()
    {
        var c = SshArgs.Build(Low(("tgt", "-c/tmp/evil"), ("fun", "--roster-file=/etc/passwd"), ("arg", new List<object?> { "; rm -rf /", "--priv=/x", "a b" })), Options, null);

        Assert.Equal(["-c/tmp/evil", "--roster-file=/etc/passwd", "; rm -rf /", "--priv=/x", "a b"], Tail(c));
        Assert.DoesNotContain(c.Argv.Take(c.Argv.ToList().IndexOf("--")), a => a.Contains("evil", StringComparison.Ordinal) || a.StartsWith("--priv", StringComparison.Ordinal));
    }

    [Fact]
    public void Arguments_and_kwarg_become_strings_and_key_value_as_convert_args_does()
    {
        var kwarg = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["k"] = "v", ["n"] = 2L };
        var c = SshArgs.Build(Low(("fun", "test.arg"), ("arg", new List<object?> { 1L, true, null, "x=y" }), ("kwarg", kwarg)), Options, null);

        Assert.Equal(["web1", "test.arg", "1", "True", "None", "x=y", "k=v", "n=2"], Tail(c));
    }

    [Fact]
    public void Only_sanitize_kwargs_names_pass_with_their_types()
    {
        var c = SshArgs.Build(Low(
            ("ssh_max_procs", "7"),
            ("ssh_scan_timeout", 2.9),
            ("ssh_sudo", "yes"),
            ("ssh_wipe", 0L),
            ("ignore_host_keys", true),
            ("ssh_options", new List<object?> { "StrictHostKeyChecking=no", 5L }),
            ("config_dir", "/tmp/evil"),
            ("ssh_log_file", "/etc/cron.d/x"),
            ("rosters", new List<object?> { "/" }),
            ("saltfile", "/tmp/evil/Saltfile"),
            ("ssh_port", "2222"),
            ("ssh_max_procs_bad", "x")), Options, null);
        var opts = c.Argv.Take(c.Argv.ToList().IndexOf("--")).ToList();

        Assert.Contains("--max-procs=7", opts);
        Assert.Contains("--scan-timeout=2", opts); // int(2.9)
        Assert.Contains("--sudo", opts); // bool("yes")
        Assert.DoesNotContain("--wipe", opts); // bool(0)
        Assert.Contains("--ignore-host-keys", opts);
        Assert.Contains("--ssh-option=StrictHostKeyChecking=no", opts);
        Assert.DoesNotContain(opts, a => a.Contains("evil", StringComparison.Ordinal) || a.Contains("cron", StringComparison.Ordinal) || a.Contains("2222", StringComparison.Ordinal));
        Assert.Equal(["rosters", "saltfile", "ssh_log_file", "ssh_port"], c.Dropped.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_int_option_with_underscores_between_digits_is_cast() =>
        Assert.Contains("--max-procs=1000", SshArgs.Build(Low(("ssh_max_procs", " 1_000 ")), Options, null).Argv); // int(" 1_000 ")

    [Theory]
    [InlineData("many")]
    [InlineData("_1")] // int() takes an underscore only between digits
    [InlineData("1_")]
    [InlineData("1__0")]
    public void An_int_option_Python_cannot_cast_is_dropped(string value)
    {
        var c = SshArgs.Build(Low(("ssh_max_procs", value)), Options, null);

        Assert.DoesNotContain(c.Argv, a => a.StartsWith("--max-procs", StringComparison.Ordinal));
        Assert.Equal(["ssh_max_procs"], c.Dropped);
    }

    [Theory]
    [InlineData("ProxyCommand=sh -c id")]
    [InlineData("proxycommand=sh -c id")] // ssh reads option names in any case; Salt's filter does not
    [InlineData("LocalCommand=id")]
    [InlineData("KnownHostsCommand=/bin/id")]
    [InlineData("Match exec \"id\"")]
    public void Options_that_run_commands_are_filtered(string option)
    {
        var c = SshArgs.Build(Low(("ssh_options", new List<object?> { option, "Port=22" }), ("ssh_priv", option)), Options, null);

        Assert.DoesNotContain(c.Argv, a => a.Contains(option, StringComparison.Ordinal));
        Assert.Contains("--ssh-option=Port=22", c.Argv);
    }

    [Fact]
    public void Passwords_go_to_the_saltfile_never_to_the_command_line()
    {
        var c = SshArgs.Build(Low(("ssh_passwd", "s3cret"), ("ssh_priv_passwd", "k3y")), Options, "/tmp/x/Saltfile");

        Assert.DoesNotContain(c.Argv, a => a.Contains("s3cret", StringComparison.Ordinal) || a.Contains("k3y", StringComparison.Ordinal));
        Assert.Equal("s3cret", c.Secrets["ssh_passwd"]);
        Assert.Equal("k3y", c.Secrets["ssh_priv_passwd"]);
    }

    [Theory]
    [InlineData("glob", null)]
    [InlineData("list", "--list")]
    [InlineData("pcre", "--pcre")]
    [InlineData("nodegroup", "--nodegroup")]
    public void Target_types_map_to_salt_ssh_options(string tgtType, string? flag)
    {
        var c = SshArgs.Build(Low(("tgt_type", tgtType)), Options, null);

        Assert.Equal(flag is not null, c.Argv.Contains(flag ?? "--none"));
    }

    [Fact]
    public void A_list_target_is_joined_and_an_unknown_target_type_is_a_400()
    {
        var c = SshArgs.Build(Low(("tgt", new List<object?> { "a", "b" }), ("tgt_type", "list")), Options, null);
        Assert.Equal(["a,b", "test.ping"], Tail(c));

        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("tgt_type", "pillar")), Options, null));
        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("tgt", 5L)), Options, null));
        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("arg", new List<object?> { "a\0b" })), Options, null));
    }

    [Fact]
    public void Roster_file_must_lie_in_a_configured_roster_folder()
    {
        var rosters = Path.Combine(dir.Path, "roster.d");
        Directory.CreateDirectory(rosters);
        File.WriteAllText(Path.Combine(rosters, "ok"), "web1: {host: 127.0.0.1}\n");
        File.WriteAllText(Path.Combine(dir.Path, "outside"), "x: {host: 127.0.0.1}\n");
        var options = Options with { Rosters = [rosters] };

        var c = SshArgs.Build(Low(("roster_file", "/ok")), options, null);
        Assert.Contains("--roster-file=" + Path.Combine(rosters, "ok"), c.Argv);

        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("roster_file", "../outside")), options, null));
        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("roster_file", Path.Combine(dir.Path, "outside"))), options, null));
        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("roster_file", "missing")), options, null));
        Assert.Throws<SaltInvocationException>(() => SshArgs.Build(Low(("roster_file", "ok")), Options, null)); // no rosters configured
    }
}
