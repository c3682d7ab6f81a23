using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>
/// The ssh fixture plus a user whose auth list names a target, <c>[{'*': ['test.*']}]</c>, and a pki dir where
/// only ms--1's key is accepted.
/// </summary>
public sealed class SshRosterAclFixture : MasterFixture, IAsyncLifetime
{
    internal FakeSaltSsh SaltSsh { get; } = FakeSaltSsh.Recording();

    protected override void Configure(OrderedDictionary<string, object?> config)
    {
        config["saltapi_client"] = Map(("salt_ssh", SaltSsh.Program));
        var file = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)config["external_auth"]!)["file"]!;
        file["targeted"] = new List<object?> { Map(("*", new List<object?> { "test.*" })) };
        File.AppendAllText((string)file["^filename"]!, $"targeted:{Password}\n");
        var pki = Path.Combine(SaltSsh.Dir, "pki");
        Directory.CreateDirectory(Path.Combine(pki, "minions"));
        File.WriteAllText(Path.Combine(pki, "minions", "ms--1"), "");
        config["pki_dir"] = pki;
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SaltSsh.Dispose();
    }
}

/// <summary>
/// _authorize_ssh's auth_check with NetapiClient's <c>enable_ssh_minions</c>: the targeted hosts are the accepted keys
/// and the roster hosts the target matches, and a <c>{target: [...]}</c> entry covers only accepted keys (its target
/// is matched as a compound, which the roster never matches). Salt 3006 answered 401 to <c>{'*': ['test.*']}</c>
/// asking test.ping of a roster host over ssh.
/// </summary>
public sealed class SshRosterAclTests(SshRosterAclFixture m) : IClassFixture<SshRosterAclFixture>
{
    [Theory]
    [InlineData("web1", "glob")]
    [InlineData("web*", "glob")]
    [InlineData("ms--1,web1", "list")]
    [InlineData("*", "glob")]
    public async Task A_target_entry_does_not_cover_a_roster_host(string tgt, string tgtType)
    {
        var before = m.SaltSsh.Starts;

        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run([("client", "ssh"), ("tgt", tgt), ("tgt_type", tgtType), ("fun", "test.ping"), .. Eauth("targeted")]));

        Assert.Equal("Authorization error occurred.", e.Message);
        Assert.Equal(before, m.SaltSsh.Starts); // salt-ssh never started
    }

    [Theory]
    [InlineData("ms--1", "glob")]
    [InlineData("ms--1", "list")]
    public async Task It_covers_a_host_that_is_an_accepted_minion_key_inside_its_target(string tgt, string tgtType)
    {
        var before = m.SaltSsh.Starts;

        await m.Run([("client", "ssh"), ("tgt", tgt), ("tgt_type", tgtType), ("fun", "test.ping"), .. Eauth("targeted")]);

        Assert.Equal(before + 1, m.SaltSsh.Starts);
    }

    [Fact]
    public async Task But_never_for_a_function_outside_it()
    {
        var before = m.SaltSsh.Starts;

        await Assert.ThrowsAsync<SaltAuthenticationException>(() => m.Run([("client", "ssh"), ("tgt", "ms--1"), ("fun", "cmd.run"), ("arg", new List<object?> { "id" }), .. Eauth("targeted")]));

        Assert.Equal(before, m.SaltSsh.Starts);
    }
}
