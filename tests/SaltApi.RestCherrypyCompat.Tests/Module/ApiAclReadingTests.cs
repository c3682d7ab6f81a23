using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestCherrypyCompat.Config;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>api_acl and authorized_ips as the kit reads them for every module: as salt_api_acl_tool and salt_ip_verify_tool do, checked at start.</summary>
public sealed class ApiAclReadingTests
{
    private static CherrypyOptions Bind(string key, object? value) =>
        CherrypyOptions.Bind(new Dictionary<string, object?> { ["port"] = 8000L, [key] = value });

    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] items) => items.ToDictionary(i => i.Key, i => i.Value);

    [Fact]
    public void An_api_acl_that_is_not_a_map_is_refused_at_start_not_ignored()
    {
        foreach (var (value, message) in new (object, string)[] { ("saltdev", "expected a map, not 'saltdev'"), (new List<object?> { "saltdev" }, "expected a map, not a list") })
        {
            var e = Assert.Throws<NetapiConfigException>(() => Bind("api_acl", value));
            Assert.Equal(("rest_cherrypy.api_acl", message), (Assert.Single(e.Problems).Key, e.Problems[0].Message));
        }

        var users = Assert.Throws<NetapiConfigException>(() => Bind("api_acl", Map(("users", "saltdev"))));
        Assert.Equal("rest_cherrypy.api_acl.users", Assert.Single(users.Problems).Key);
    }

    [Fact]
    public void An_api_acl_without_users_refuses_every_user_as_salt_does_with_a_warning()
    {
        // salt_api_acl_tool: `if acl:` then `if users:`, else it returns None, and /login refuses.
        var o = Bind("api_acl", Map(("user", Map(("saltdev", "*")))));
        Assert.NotNull(o.ApiAcl);
        Assert.False(o.ApiAcl.Allows("saltdev", "127.0.0.1"));
        Assert.Contains(o.Listener.Warnings, w => w.Key == "rest_cherrypy.api_acl" && w.Message.Contains("every user is refused", StringComparison.Ordinal));
    }

    [Fact]
    public void An_empty_api_acl_checks_nothing_as_salt_does()
    {
        Assert.Null(Bind("api_acl", Map()).ApiAcl);
        Assert.Null(Bind("api_acl", null).ApiAcl);
    }

    [Fact]
    public void Addresses_are_compared_in_one_form_whichever_way_they_are_written()
    {
        var o = Bind("api_acl", Map(("users", Map(("saltdev", new List<object?> { "::ffff:10.0.0.1", "0:0:0:0:0:0:0:1" })))));
        Assert.True(o.ApiAcl!.Allows("saltdev", "10.0.0.1"));
        Assert.True(o.ApiAcl.Allows("saltdev", "::1"));
        Assert.False(o.ApiAcl.Allows("saltdev", "10.0.0.2"));
        Assert.Equal(["10.0.0.1", "::1"], Bind("authorized_ips", "::ffff:10.0.0.1, 0:0:0:0:0:0:0:1").AuthorizedIps);
    }
}
