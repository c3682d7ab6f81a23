using SaltApi.Abstractions.Errors;
using SaltApi.Client.Targeting;
using SaltApi.Protocol.Config;

namespace SaltApi.Client.Tests.Targeting;

/// <summary>Client-side nodegroup expansion, against salt.utils.minions.nodegroup_comp and LocalClient._prep_pub.</summary>
public sealed class NodegroupsTests
{
    private static readonly Dictionary<string, object?> Groups = new()
    {
        ["group1"] = "L@host1,host2,host3",
        ["group2"] = new List<object?> { "G@foo:bar", "or", "web1*" },
        ["group3"] = new List<object?> { "N@group1", "or", "N@group2" },
        ["missing_group"] = new List<object?> { "N@group1", "or", "N@group4" },
        ["list_group"] = new List<object?> { "foo", "bar" },
        ["list_group2"] = new List<object?> { "foo", "bar", "baz*" },
        ["regex_group"] = new List<object?> { "web[0-9]", "db" },
        ["nested_list"] = "N@list_group and not bar",
        ["self"] = "N@self or web1",
        ["number"] = 42L,
    };

    private static readonly MasterConfig Master = new() { Nodegroups = Groups, ConfFile = "/etc/salt/master" };

    [Theory]
    [InlineData("group1", "L@host1,host2,host3")]
    [InlineData("group2", "G@foo:bar or web1*")]
    [InlineData("group3", "( ( L@host1,host2,host3 ) or ( G@foo:bar or web1* ) )")]
    [InlineData("missing_group", "( ( L@host1,host2,host3 ) or )")]
    [InlineData("list_group", "L@foo,bar")]
    [InlineData("list_group2", "foo bar baz*")]
    [InlineData("regex_group", "E@web[0-9],db")]
    [InlineData("nested_list", "( L@foo,bar and not bar )")]
    [InlineData("self", "( or web1 )")]
    public void Comp_expands_as_nodegroup_comp(string group, string expected) =>
        Assert.Equal(expected, string.Join(' ', Nodegroups.Comp(group, Groups)!));

    [Fact]
    public void Comp_of_unknown_or_untyped_groups_is_nothing()
    {
        Assert.Null(Nodegroups.Comp("nosuchgroup", Groups));
        Assert.Null(Nodegroups.Comp("number", Groups));
    }

    [Fact]
    public void Nodegroup_target_becomes_compound()
    {
        Assert.Equal(("( ( L@host1,host2,host3 ) or ( G@foo:bar or web1* ) )", "compound"), Nodegroups.PrepTarget("group3", "nodegroup", Master));
        Assert.Equal(("L@foo,bar", "compound"), Nodegroups.PrepTarget("list_group", "nodegroup", Master));
    }

    [Fact]
    public void N_at_words_of_a_compound_target_are_expanded_and_the_rest_kept()
    {
        Assert.Equal(("G@os:Debian and L@host1,host2,host3", "compound"), Nodegroups.PrepTarget("G@os:Debian and N@group1", "compound", Master));
        // A group of several words keeps its meaning inside the expression: it is parenthesized.
        Assert.Equal(("G@os:Debian and ( G@foo:bar or web1* )", "compound"), Nodegroups.PrepTarget("G@os:Debian and N@group2", "compound", Master));
        Assert.Equal(("not ( ( L@host1,host2,host3 ) or ( G@foo:bar or web1* ) )", "compound"), Nodegroups.PrepTarget("not N@group3", "compound", Master));
        Assert.Equal(("web1 or L@foo,bar", "compound"), Nodegroups.PrepTarget(new List<object?> { "web1", "or", "N@list_group" }, "compound", Master));
        Assert.Equal(("web*  and  db*".Replace("  ", " ", StringComparison.Ordinal), "compound"), Nodegroups.PrepTarget("web*  and  db*", "compound", Master));
    }

    [Fact]
    public void Other_target_types_pass_unchanged()
    {
        var list = new List<object?> { "N@group1" };
        Assert.Same(list, Nodegroups.PrepTarget(list, "list", Master).Tgt);
        Assert.Equal(("N@group1", "glob"), Nodegroups.PrepTarget("N@group1", "glob", Master));
    }

    [Fact]
    public void Unknown_nodegroups_are_refused_with_Salts_message()
    {
        var e = Assert.Throws<SaltInvocationException>(() => Nodegroups.PrepTarget("nosuchgroup", "nodegroup", Master));
        Assert.Equal("Node group nosuchgroup unavailable in /etc/salt/master", e.Message);
        e = Assert.Throws<SaltInvocationException>(() => Nodegroups.PrepTarget("web1 or N@nosuchgroup", "compound", Master));
        Assert.Equal("Node group nosuchgroup unavailable in /etc/salt/master", e.Message);
        Assert.Throws<SaltInvocationException>(() => Nodegroups.PrepTarget(new List<object?> { "group1" }, "nodegroup", Master));
    }

    [Fact]
    public void An_expansion_that_doubles_per_level_is_bounded()
    {
        // g0 = L@a; gN = N@g(N-1) or N@g(N-1): 2^30 words if unbounded.
        var groups = new Dictionary<string, object?> { ["g0"] = "L@a" };
        for (var i = 1; i <= 30; i++)
        {
            groups[$"g{i}"] = $"N@g{i - 1} or N@g{i - 1}";
        }

        var master = new MasterConfig { Nodegroups = groups };
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<SaltInvocationException>(() => Nodegroups.PrepTarget("g30", "nodegroup", master));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), started.Elapsed.ToString());
        Assert.Equal(("( ( L@a ) or ( L@a ) )", "compound"), Nodegroups.PrepTarget("g1", "nodegroup", master));
    }
}
