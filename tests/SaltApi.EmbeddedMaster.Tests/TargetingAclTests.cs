using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Targeting;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>check_minions (targeting) and the ACL language (spec/03 §6–7), in-process.</summary>
public sealed class TargetingAclTests
{
    private static readonly MinionRegistry Registry = new(EmbeddedOptions.From(Map(
        ("minions", new List<object?>
        {
            "web1", "web2", "db1",
            Map(("id", "mail"), ("grains", Map(("roles", new List<object?> { "smtp", "imap" }), ("os", "RedHat")))),
        }))));

    private static readonly CheckMinions Ck = new(Registry, Map(
        ("webs", "web*"),
        ("ids", new List<object?> { "db1", "ghost" }),
        ("nested", "N@webs or L@mail")));

    private static List<string> M(object? tgt, string type) => Ck.Check(tgt, type).Minions;

    [Fact]
    public void Glob_pcre_and_list()
    {
        Assert.Equal(["web1", "web2"], M("web*", "glob"));
        Assert.Equal(["db1", "mail", "web1", "web2"], M("*", "glob"));
        Assert.Equal(["web1", "web2"], M("w", "pcre")); // re.match: anchored at the start only
        Assert.Empty(M("(", "pcre"));
        var list = Ck.Check("web1,ghost", "list");
        Assert.Equal(["web1"], list.Minions);
        Assert.Equal(["ghost"], list.Missing);
        Assert.Equal(["db1", "web2"], M(new List<object?> { "db1", "web2" }, "list"));
    }

    [Fact]
    public void Grain_and_grain_pcre_match_values_and_list_items_case_insensitively()
    {
        Assert.Equal(["db1", "web1", "web2"], M("os:Debian", "grain"));
        Assert.Equal(["mail"], M("os:redhat", "grain"));
        Assert.Equal(["mail"], M("roles:smtp", "grain"));
        Assert.Equal(["mail"], M("roles:im*", "grain"));
        Assert.Equal(["db1", "mail", "web1", "web2"], M("kernel:Lin.*", "grain_pcre"));
        Assert.Empty(M("nosuchgrain:x", "grain"));
        Assert.Equal(["db1"], M("dns:ip4_nameservers:127.0.0.53", "grain").Where(m => m == "db1").ToList());
    }

    [Fact]
    public void Compound_and_or_not_parentheses_and_engines()
    {
        Assert.Equal(["web1"], M("web* and not web2", "compound"));
        Assert.Equal(["db1", "web1"], M("db1 or web1", "compound"));
        Assert.Equal(["db1", "mail"], M("not web*", "compound"));
        Assert.Equal(["mail", "web2"], M("( G@os:RedHat or E@web2 ) and not L@db1", "compound"));
        Assert.Equal(["web1"], M("web* and P@id:.*1$", "compound"));
        var r = Ck.Check("L@web1,nobody or db1", "compound");
        Assert.Equal(["db1", "web1"], r.Minions);
        Assert.Equal(["nobody"], r.Missing);
        Assert.Empty(M("web* and", "compound"));
    }

    [Fact]
    public void Nodegroups_as_strings_lists_and_nested()
    {
        Assert.Equal(["web1", "web2"], M("webs", "nodegroup"));
        Assert.Equal(["db1"], M("ids", "nodegroup"));
        Assert.Equal(["mail", "web1", "web2"], M("N@nested", "compound"));
        Assert.Empty(M("nosuchgroup", "nodegroup"));
    }

    [Fact]
    public void Ipcidr_matches_grain_addresses()
    {
        Assert.Equal(4, M("10.0.0.0/8", "ipcidr").Count);
        Assert.Empty(M("192.168.0.0/16", "ipcidr"));
    }

    private static bool Check(List<object?> acl, object fun, List<object?> args, params string[] minions) =>
        new Acl(Ck).AuthCheck(acl, fun, args, minions);

    [Fact]
    public void Function_regexes_are_anchored_at_the_start_only()
    {
        List<object?> acl = ["test"];
        Assert.True(Check(acl, "test.ping", [], "web1"));
        Assert.True(Check(acl, "testfoo.bar", [], "web1"));
        Assert.False(Check(acl, "cmd.test", [], "web1"));
        Assert.True(Check([], "saltutil.find_job", [], "web1")); // always allowed
        Assert.False(Check(["("], "test.ping", [], "web1")); // an invalid regex never matches
    }

    [Fact]
    public void Target_maps_require_every_targeted_minion_to_be_covered()
    {
        List<object?> acl = [Map(("web*", new List<object?> { "test.*" }))];
        Assert.True(Check(acl, "test.ping", [], "web1", "web2"));
        Assert.False(Check(acl, "test.ping", [], "web1", "db1"));
        Assert.False(Check(acl, "cmd.run", [], "web1"));
        List<object?> compound = [Map(("G@os:RedHat", new List<object?> { ".*" }))];
        Assert.True(Check(compound, "cmd.run", [], "mail"));
    }

    [Fact]
    public void Argument_restrictions_match_positional_and_keyword_values()
    {
        List<object?> acl = [Map(("*", new List<object?> { Map(("pkg.install", Map(("args", new List<object?> { "^vim$", null }), ("kwargs", Map(("refresh", "True")))))) }))];
        var kw = Map(("__kwarg__", true), ("refresh", true));
        Assert.True(Check(acl, "pkg.install", ["vim", "anything", kw], "web1"));
        Assert.False(Check(acl, "pkg.install", ["emacs", "x", kw], "web1"));
        Assert.False(Check(acl, "pkg.install", ["vim", kw], "web1")); // second positional missing
        Assert.False(Check(acl, "pkg.install", ["vim", "x", Map(("__kwarg__", true), ("refresh", false))], "web1"));
    }

    [Fact]
    public void Compound_jobs_pass_only_when_every_function_is_allowed()
    {
        // Deliberate difference: Salt 3006 passes the list when any one function is allowed.
        Assert.False(Check(["test.*"], new List<object?> { "cmd.run", "test.ping" }, [new List<object?>(), new List<object?>()], "web1"));
        Assert.True(Check(["test.*"], new List<object?> { "test.echo", "test.ping" }, [new List<object?>(), new List<object?>()], "web1"));
    }

    [Fact]
    public void Spec_check_for_runner_and_wheel_forms()
    {
        object S(List<object?> acl, string fun, string form, object? args = null) => Acl.SpecCheck(acl, fun, args ?? Map(), form);
        Assert.Equal(true, S(["@runner"], "jobs.lookup_jid", "runner"));
        Assert.Equal(true, S(["@runners"], "jobs.lookup_jid", "runner"));
        Assert.Equal(true, S(["@jobs"], "jobs.lookup_jid", "runner"));
        Assert.Equal(false, S(["@jobs"], "manage.up", "runner"));
        Assert.Equal(false, S(["@wheel"], "jobs.lookup_jid", "runner"));
        Assert.Equal(true, S([Map(("@runner", new List<object?> { "jobs.*" }))], "jobs.active", "runner"));
        Assert.Equal(false, S([Map(("@runner", new List<object?> { "jobs.*" }))], "manage.up", "runner"));
        Assert.Equal(true, S([Map(("@manage", new List<object?> { "status" }))], "manage.status", "runner"));
        Assert.Equal(false, S([], "jobs.active", "runner"));
        Assert.IsType<OrderedDictionary<string, object?>>(S([".*"], "nodot", "runner"));
        Assert.Equal(false, S([".*"], "jobs.active", "runner")); // plain function regexes do not grant runners
        var args = Map(("arg", new List<object?> { "20260101000000000000" }), ("kwarg", Map()));
        Assert.Equal(true, S([Map(("@jobs", new List<object?> { Map(("lookup_jid", Map(("args", new List<object?> { "^2026" })))) }))], "jobs.lookup_jid", "runner", args));
        Assert.Equal(false, S([Map(("@jobs", new List<object?> { Map(("lookup_jid", Map(("args", new List<object?> { "^2025" })))) }))], "jobs.lookup_jid", "runner", args));
    }

    [Fact]
    public void Fill_auth_list_users_globs_regexes_groups_and_star()
    {
        var provider = Map(
            ("^filename", "/x"),
            ("alice", new List<object?> { "a.*" }),
            ("web-.*", new List<object?> { "regex.*" }),
            ("ops*", new List<object?> { "glob.*" }),
            ("admins%", new List<object?> { "group.*" }),
            ("*", new List<object?> { "star.*" }));
        Assert.Equal(["a.*"], LoadAuth.FillAuthList(provider, "alice", [], false));
        Assert.Equal(["regex.*"], LoadAuth.FillAuthList(provider, "web-1", [], false));
        Assert.Equal(["glob.*"], LoadAuth.FillAuthList(provider, "ops2", [], false));
        Assert.Equal(["a.*", "group.*"], LoadAuth.FillAuthList(provider, "alice", ["admins"], false));
        Assert.Equal(["star.*"], LoadAuth.FillAuthList(provider, "nobody", [], false));
        Assert.Equal(["group.*", "star.*"], LoadAuth.FillAuthList(provider, "nobody", ["admins"], false));
        Assert.Equal(["a.*", "star.*"], LoadAuth.FillAuthList(provider, "alice", [], true)); // permissive_acl
    }
}
