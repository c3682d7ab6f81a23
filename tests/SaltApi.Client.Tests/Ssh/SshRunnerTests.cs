using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Ssh;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>The bounds around salt-ssh, with shell scripts standing in for it: wall clock, process cap and queue, output cap, failures.</summary>
public sealed class SshRunnerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static SshRunner Runner(FakeSaltSsh fake, SshOptions? options = null) =>
        new((options ?? new SshOptions()) with { Program = fake.Program }, NullLogger.Instance);

    private static SshCommand Command(string? saltfile, params string[] argv) =>
        new([.. argv, .. saltfile is null ? Array.Empty<string>() : ["--saltfile=" + saltfile]], new Dictionary<string, object?>(), []);

    private static async Task Until(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < Patience, "condition not met in time");
            await Task.Delay(20);
        }
    }

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');

    [Fact]
    public async Task The_wall_clock_kills_salt_ssh_and_what_it_started_with_a_504()
    {
        using var fake = new FakeSaltSsh("""
            sleep 600 &
            echo $! > "$D/child"
            echo $$ > "$D/parent"
            wait
            """);
        var runner = Runner(fake, new SshOptions { WallClock = 2 });

        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SaltTimeoutException>(() => runner.RunAsync(f => Command(f), CancellationToken.None).WaitAsync(Patience));

        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(1.5), Patience);
        Assert.Contains("did not finish within 2 s", e.Message, StringComparison.Ordinal);
        var parent = int.Parse(File.ReadAllText(Path.Combine(fake.Dir, "parent")), System.Globalization.CultureInfo.InvariantCulture);
        var child = int.Parse(File.ReadAllText(Path.Combine(fake.Dir, "child")), System.Globalization.CultureInfo.InvariantCulture);
        await Until(() => !Alive(parent) && !Alive(child));
        Assert.Equal(0, runner.Running);
    }

    [Fact]
    public async Task Fifty_calls_at_once_run_at_most_the_cap_queue_the_rest_and_refuse_past_the_queue_with_a_503()
    {
        // Each run records itself and waits for "go": the first MaxProcesses start, QueueLength wait, the rest are refused.
        using var fake = new FakeSaltSsh("""
            touch "$D/started.$$"
            while [ ! -f "$D/go" ]; do sleep 0.05; done
            echo '{"web1": true}'
            """);
        var runner = Runner(fake, new SshOptions { MaxProcesses = 4, QueueLength = 10 });

        var calls = Enumerable.Range(0, 50).Select(_ => Task.Run(() => runner.RunAsync(f => Command(f), CancellationToken.None))).ToList();
        await Until(() => Directory.GetFiles(fake.Dir, "started.*").Length == 4 && calls.Count(c => c.IsFaulted) == 36);
        Assert.Equal(4, runner.Running);

        foreach (var refused in calls.Where(c => c.IsFaulted))
        {
            var e = Assert.IsType<SaltMasterUnavailableException>(refused.Exception!.InnerException);
            Assert.Contains("Too many salt-ssh calls", e.Message, StringComparison.Ordinal);
        }

        await File.WriteAllTextAsync(Path.Combine(fake.Dir, "go"), "");
        var done = await Task.WhenAll(calls.Where(c => !c.IsFaulted)).WaitAsync(Patience);

        Assert.Equal(14, done.Length);
        Assert.All(done, o => Assert.Equal(0, o.ExitCode));
        Assert.Equal(14, Directory.GetFiles(fake.Dir, "started.*").Length);
        Assert.Equal(0, runner.Running);
    }

    [Fact]
    public async Task Output_past_the_cap_stops_the_call_with_a_500()
    {
        using var fake = new FakeSaltSsh("""
            echo $$ > "$D/pid"
            while true; do echo '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'; done
            """);
        var runner = Runner(fake, new SshOptions { MaxOutput = 64 * 1024 });

        var e = await Assert.ThrowsAsync<SaltClientException>(() => runner.RunAsync(f => Command(f), CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("more than 65536 bytes", e.Message, StringComparison.Ordinal);
        var pid = int.Parse(File.ReadAllText(Path.Combine(fake.Dir, "pid")), System.Globalization.CultureInfo.InvariantCulture);
        await Until(() => !Alive(pid));
    }

    [Fact]
    public async Task A_missing_salt_ssh_is_a_500_naming_it()
    {
        var runner = new SshRunner(new SshOptions { Program = "/nonexistent/salt-ssh" }, NullLogger.Instance);

        var e = await Assert.ThrowsAsync<SaltClientException>(() => runner.RunAsync(f => Command(f), CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("salt-ssh could not be started (/nonexistent/salt-ssh)", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, runner.Running);
    }

    [Fact]
    public async Task A_failing_salt_ssh_is_a_500_with_its_message()
    {
        using var fake = new FakeSaltSsh("""
            echo 'noise' >&2
            echo 'Roster file "/etc/salt/roster" not found' >&2
            exit 2
            """);

        var output = await Runner(fake).RunAsync(f => Command(f), CancellationToken.None).WaitAsync(Patience);
        var e = Assert.Throws<SaltClientException>(() => SshReturn.Parse(output, "20261207000000000009", "test.ping", [], null, "sha256"));

        Assert.Equal("salt-ssh failed (exit code 2): noise\nRoster file \"/etc/salt/roster\" not found", e.Message);
    }

    [Fact]
    public async Task Salt_ssh_s_stdin_holds_only_no_answers_and_it_gets_passwords_in_a_private_saltfile_removed_after()
    {
        using var fake = new FakeSaltSsh("""
            for a in "$@"; do case "$a" in --saltfile=*) f="${a#--saltfile=}";; esac; done
            stat -c %a "$f" > "$D/mode"
            cp "$f" "$D/saltfile.copy"
            echo "$f" > "$D/path"
            n=0
            while read line; do [ "$line" = n ] || echo "other: $line" >> "$D/stdin"; n=$((n+1)); done
            echo "$n then eof" >> "$D/stdin"
            echo '{"web1": true}'
            """);

        var output = await Runner(fake).RunAsync(
            f => new SshCommand(["--saltfile=" + f], new Dictionary<string, object?> { ["ssh_passwd"] = "p\"w: {x}" }, []),
            CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(0, output.ExitCode);
        Assert.Equal("600", File.ReadAllText(Path.Combine(fake.Dir, "mode")).Trim());
        Assert.Equal("{\"salt-ssh\": {\"ssh_passwd\": \"p\\\"w: {x}\"}}", File.ReadAllText(Path.Combine(fake.Dir, "saltfile.copy")));
        Assert.Equal($"{SshRunner.KeyDeployAnswers} then eof", File.ReadAllText(Path.Combine(fake.Dir, "stdin")).Trim());
        Assert.False(File.Exists(File.ReadAllText(Path.Combine(fake.Dir, "path")).Trim()));
    }

    [Fact]
    public async Task Salt_ssh_s_key_deploy_question_is_answered_no_for_each_denied_host_and_every_answer_kept()
    {
        // salt-ssh's run() asks, for each host that answered "Permission denied", on stdout, then input(): a closed
        // stdin is an EOFError there, and the whole call a 500 (what salt-api's run_iter never asks).
        using var fake = new FakeSaltSsh("""
            for h in web2 web3; do
              echo "Permission denied for host $h, do you want to deploy the salt-ssh key? (password required):"
              printf '[Y/n] '
              read answer || { echo "EOFError: EOF when reading a line" >&2; exit 1; }
              case "$answer" in n*|N*) ;; *) echo "would ask for $h's password" >&2; exit 1;; esac
            done
            printf '%s\n' '{"web2": {"stdout": "", "stderr": "u@h: Permission denied (publickey).\n", "retcode": 255}, "web3": {"stdout": "", "stderr": "u@h: Permission denied (publickey).\n", "retcode": 255}, "web1": true}'
            exit 20
            """);

        var output = await Runner(fake).RunAsync(f => Command(f), CancellationToken.None).WaitAsync(Patience);
        var ret = SshReturn.Parse(output, "20261207000000000010", "test.ping", [], null, "sha256");

        Assert.Equal(["web2", "web3", "web1"], ret.Keys);
        Assert.Equal(255L, ((OrderedDictionary<string, object?>)ret["web3"]!)["retcode"]);
        Assert.Equal(true, ((OrderedDictionary<string, object?>)ret["web1"]!)["return"]);
    }
}
