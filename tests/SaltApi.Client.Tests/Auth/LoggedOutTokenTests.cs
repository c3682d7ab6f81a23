using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Auth;

/// <summary>The embedded master keeping tokens where the client layer cannot delete them (eauth_tokens not localfs).</summary>
public sealed class RemoteTokenStoreMasterFixture : MasterFixture
{
    protected override void Configure(OrderedDictionary<string, object?> config) => config["eauth_tokens"] = "rediscluster";
}

/// <summary>
/// A token logged out while the master keeps it (another token store, and a user who may not run
/// auth.del_token) is refused by the client layer on every path, so by every module of the daemon: each
/// client answers exactly as the master answers for a token it does not know, and get_token is null.
/// </summary>
public sealed class LoggedOutTokenTests(RemoteTokenStoreMasterFixture m) : IClassFixture<RemoteTokenStoreMasterFixture>
{
    private static readonly string[] EveryClient =
        ["local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "wheel", "wheel_async", "ssh"];

    private static OrderedDictionary<string, object?> Low(string client, string token) => client switch
    {
        "runner" or "runner_async" => Map(("client", client), ("fun", "test.arg"), ("token", token)),
        "wheel" or "wheel_async" => Map(("client", client), ("fun", "key.list_all"), ("token", token)),
        _ => Map(("client", client), ("tgt", "ms--0"), ("fun", "test.ping"), ("token", token)),
    };

    private async Task<SaltApiException> RefusalAsync(string client, string token) =>
        await Assert.ThrowsAnyAsync<SaltApiException>(() => m.Layer.Client.RunAsync(Low(client, token), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));

    [Fact]
    public async Task Every_client_refuses_a_logged_out_token_as_the_master_refuses_an_unknown_one()
    {
        var client = m.Layer.Client;
        var token = (await client.MakeTokenAsync("file", "limited", Password, CancellationToken.None))!.Token;
        var result = await client.RunAsync(Low("local", token), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(true, ((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--0"]);

        Assert.True(await client.RemoveTokenAsync(token, CancellationToken.None));

        Assert.True(File.Exists(Path.Combine((string)m.Config["cachedir"]!, "tokens", token)), "this master keeps the token");
        Assert.Null(await client.GetTokenAsync(token, CancellationToken.None));
        var unknown = new string('f', token.Length);
        foreach (var name in EveryClient)
        {
            var expected = await RefusalAsync(name, unknown);
            var refused = await RefusalAsync(name, token);
            Assert.True(
                (expected.Kind, expected.SaltName, expected.Message) == (refused.Kind, refused.SaltName, refused.Message),
                $"{name}: {refused.SaltName} {refused.Message}, the master says {expected.SaltName} {expected.Message}");
            Assert.Equal(SaltErrorKind.Authentication, refused.Kind);
        }

        // Another user's token is not touched.
        var other = (await client.MakeTokenAsync("file", "limited", Password, CancellationToken.None))!.Token;
        Assert.Equal(other, (await client.GetTokenAsync(other, CancellationToken.None))?.Token);
    }

    [Fact]
    public async Task A_token_the_master_no_longer_knows_needs_no_entry_and_a_non_hex_name_is_never_removed()
    {
        var client = m.Layer.Client;
        var token = (await client.MakeTokenAsync("file", "saltdev", Password, CancellationToken.None))!.Token;

        // saltdev may run auth.del_token: the master deletes it, the client layer refuses it as unknown.
        Assert.True(await client.RemoveTokenAsync(token, CancellationToken.None));
        Assert.False(File.Exists(Path.Combine((string)m.Config["cachedir"]!, "tokens", token)));
        Assert.Null(await client.GetTokenAsync(token, CancellationToken.None));
        Assert.Equal("AuthenticationError", (await RefusalAsync("local", token)).SaltName);

        Assert.False(await client.RemoveTokenAsync("../tokens", CancellationToken.None));
        Assert.False(await client.RemoveTokenAsync("", CancellationToken.None));
    }
}
