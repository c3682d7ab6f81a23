using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>The embedded master and client layer with the ssh client's salt-ssh replaced by a recording script.</summary>
public sealed class SshMasterFixture : MasterFixture, IAsyncLifetime
{
    internal FakeSaltSsh SaltSsh { get; } = FakeSaltSsh.Recording();

    protected override void Configure(OrderedDictionary<string, object?> config) =>
        config["saltapi_client"] = Map(("salt_ssh", SaltSsh.Program));

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SaltSsh.Dispose();
    }
}

/// <summary>
/// NetapiClient._authorize_ssh (CVE-2020-25592): the master checks the token or the credentials, then the function
/// and target are checked against the user's auth list, all before salt-ssh starts. file eauth: saltdev may run
/// everything, limited only test.*.
/// </summary>
public sealed class SshAuthorizationTests(SshMasterFixture m) : IClassFixture<SshMasterFixture>
{
    private async Task<SaltApiException> Refused((string, object?)[] low)
    {
        var before = m.SaltSsh.Starts;
        var e = await Assert.ThrowsAnyAsync<SaltApiException>(() => m.Run(low));
        Assert.Equal(before, m.SaltSsh.Starts); // refused before salt-ssh started
        return e;
    }

    [Fact]
    public async Task An_allowed_function_runs_salt_ssh_and_answers_its_return()
    {
        var before = m.SaltSsh.Starts;

        var result = await m.Run([("client", "ssh"), ("tgt", "web1"), ("fun", "test.ping"), .. Eauth("limited")]);

        Assert.Equal(before + 1, m.SaltSsh.Starts);
        var web1 = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Assert.Single(result)!)["web1"]!;
        Assert.Equal(true, web1["return"]);
        Assert.Equal("test.ping", web1["fun"]);
    }

    [Fact]
    public async Task A_user_allowed_only_test_functions_cannot_run_cmd_run()
    {
        var e = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", "cmd.run"), ("arg", new List<object?> { "id" }), .. Eauth("limited")]);

        Assert.IsType<SaltAuthenticationException>(e);
        Assert.Equal("Authorization error occurred.", e.Message);
    }

    [Fact]
    public async Task Nor_with_a_token()
    {
        var token = await m.Layer.Client.MakeTokenAsync("file", "limited", Password, CancellationToken.None);

        var e = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", "cmd.run"), ("token", token!.Token)]);

        Assert.Equal("Authorization error occurred.", e.Message);
    }

    [Fact]
    public async Task Nor_inside_a_compound_fun()
    {
        var e = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", new List<object?> { "test.ping", "cmd.run" }), ("arg", new List<object?> { new List<object?>(), new List<object?> { "id" } }), .. Eauth("limited")]);

        Assert.Equal("Authorization error occurred.", e.Message);
    }

    [Fact]
    public async Task An_allowed_compound_fun_is_a_400_salt_ssh_runs_one_function()
    {
        var e = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", new List<object?> { "test.ping", "test.echo" }), .. Eauth("limited")]);

        Assert.IsType<SaltInvocationException>(e);
    }

    [Fact]
    public async Task Bad_credentials_and_unknown_tokens_are_401()
    {
        var bad = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", "test.ping"), ("eauth", "file"), ("username", "saltdev"), ("password", "wrong")]);
        Assert.IsType<SaltAuthenticationException>(bad);

        var token = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", "test.ping"), ("token", new string('b', 64))]);
        Assert.IsType<SaltAuthenticationException>(token);
    }

    [Fact]
    public async Task A_bad_option_is_a_400_before_salt_ssh_starts()
    {
        var e = await Refused([("client", "ssh"), ("tgt", "web1"), ("fun", "test.ping"), ("roster_file", "/etc/passwd"), .. Eauth()]);

        Assert.IsType<SaltInvocationException>(e);
    }

    [Fact]
    public async Task Salt_ssh_gets_the_master_config_dir_json_and_the_lowstate_as_single_arguments()
    {
        var before = Directory.GetFiles(m.SaltSsh.Dir, "argv.*").ToHashSet();

        await m.Run([("client", "ssh"), ("tgt", "web1"), ("fun", "test.arg"), ("arg", new List<object?> { "a b; id" }), ("ssh_priv", "/k $(id)"), .. Eauth()]);

        var argv = File.ReadAllLines(Assert.Single(Directory.GetFiles(m.SaltSsh.Dir, "argv.*"), f => !before.Contains(f)));
        Assert.Equal("-c", argv[0]);
        Assert.Contains("--out=json", argv);
        Assert.Contains("--priv=/k $(id)", argv);
        Assert.Equal(["--", "web1", "test.arg", "a b; id"], argv[^4..]);
    }
}
