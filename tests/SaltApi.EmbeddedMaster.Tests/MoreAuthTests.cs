using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The root key ("user" auth), publisher_acl_blacklist and token_expire_user_override.</summary>
public sealed class MoreAuthTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync(c =>
    {
        c["publisher_acl_blacklist"] = Map(("users", new List<object?> { "bad.*" }), ("modules", new List<object?> { "cmd.*" }));
        c["token_expire_user_override"] = Map(("file", new List<object?> { "saltdev" }));
    });

    public async Task DisposeAsync() => await h.DisposeAsync();

    [Fact]
    public void The_root_key_file_authenticates_a_local_publish_without_eauth()
    {
        var user = Environment.UserName;
        var keyFile = Path.Combine(h.CacheDir, $".{user}_key");
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(keyFile));
        var key = File.ReadAllText(keyFile);
        Assert.Equal(76, key.Length);
        var load = CapturedRequests.Load("req-publish-publish-eauth");
        load["kwargs"] = Map(("client", "local"));
        load["user"] = user;
        load["key"] = key;
        var ok = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(load)!)["load"]!;
        Assert.Equal(5, ((List<object?>)ok["minions"]!).Count);

        load["key"] = "";
        Assert.Equal(Vectors.Decode("rep-publish-publish-wrong-password"), h.Send(load));
    }

    [Fact]
    public void Blacklisted_functions_and_users_are_refused_before_authentication()
    {
        var load = CapturedRequests.Load("req-publish-publish-eauth");
        load["fun"] = "cmd.run";
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), h.Send(load));
        load["fun"] = "test.ping";
        load["user"] = "badguy";
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), h.Send(load));
    }

    [Fact]
    public void Token_expire_is_honoured_only_for_users_listed_in_the_override()
    {
        var own = (OrderedDictionary<string, object?>)h.Send(Map(("username", "saltdev"), ("password", Password), ("eauth", "file"), ("token_expire", 60L), ("cmd", "mk_token")))!;
        Assert.Equal(60.0, (double)own["expire"]! - (double)own["start"]!, 1);
        var other = (OrderedDictionary<string, object?>)h.Send(Map(("username", "limited"), ("password", Password), ("eauth", "file"), ("token_expire", 60L), ("cmd", "mk_token")))!;
        Assert.Equal(43200.0, (double)other["expire"]! - (double)other["start"]!, 1);
    }

    [Fact]
    public void Acl_with_argument_restriction_through_the_master()
    {
        var load = CapturedRequests.Load("req-publish-publish-eauth");
        ((OrderedDictionary<string, object?>)load["kwargs"]!)["username"] = "argsonly";
        load["fun"] = "test.echo";
        load["arg"] = new List<object?> { "hello" };
        Assert.Contains("jid", ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(load)!)["load"]!).Keys);
        load["arg"] = new List<object?> { "hello world" };
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), h.Send(load));
    }

    [Fact]
    public void Acl_with_a_minion_target_allows_only_those_minions()
    {
        var load = CapturedRequests.Load("req-publish-publish-eauth");
        ((OrderedDictionary<string, object?>)load["kwargs"]!)["username"] = "webonly";
        load["tgt"] = "ms--1";
        Assert.Contains("jid", ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(load)!)["load"]!).Keys);
        load["tgt"] = "*";
        Assert.Equal(Vectors.Decode("rep-publish-publish-acl-denied"), h.Send(load));
    }
}
