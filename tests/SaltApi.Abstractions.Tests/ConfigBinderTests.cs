using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Modules;
using SaltApi.PythonValues;

namespace SaltApi.Abstractions.Tests;

/// <summary>The one config binder: every wrong value at once (key path, value, what was expected); unknown keys ignored.</summary>
public sealed class ConfigBinderTests
{
    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] items) => items.ToDictionary(i => i.Key, i => i.Value);

    [Fact]
    public void Every_wrong_value_is_recorded_with_its_key_path_value_and_expectation_and_the_fallback_returned()
    {
        var b = new ConfigBinder(Map(
            ("timeout", "soon"),
            ("ret_port", 99999L),
            ("interface", new List<object?> { "a" }),
            ("nodegroups", "web"),
            ("rosters", Map(("a", 1L))),
            ("keep_jobs", "forever"),
            ("saltapi_client", Map(("request_threads", 0L), ("event_batch_ms", 5000L)))));
        Assert.Equal(5, b.GetInt("timeout", 5));
        Assert.Equal(4506, b.GetPort("ret_port", 4506));
        Assert.Equal("0.0.0.0", b.GetString("interface", "0.0.0.0"));
        Assert.Null(b.GetMap("nodegroups"));
        Assert.Equal([], b.GetList("rosters"));
        Assert.Equal(24, b.GetNumber("keep_jobs", 24));
        var own = b.Section("saltapi_client");
        Assert.Equal(8, own.GetInt("request_threads", 8, 1, 64));
        Assert.Equal(5, own.GetNumber("event_batch_ms", 5, 0, 1000));
        Assert.Equal(
            [
                "timeout: expected an integer, not 'soon'",
                "ret_port: expected a TCP port (0-65535), not 99999",
                "interface: expected a string, not a list",
                "nodegroups: expected a map, not 'web'",
                "rosters: expected a list, not a map",
                "keep_jobs: expected a number, not 'forever'",
                "saltapi_client.request_threads: must be from 1 to 64, not 0",
                "saltapi_client.event_batch_ms: must be from 0 to 1000, not 5000",
            ],
            b.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Absent_null_and_unknown_keys_are_no_problem()
    {
        var b = new ConfigBinder(Map(("timeout", null), ("no_such_option", "x"), ("rest_wsgi", Map(("whatever", 1L)))));
        Assert.Equal(5, b.GetInt("timeout", 5));
        Assert.Equal(60, b.GetNumber("loop_interval", 60));
        Assert.Null(b.GetList("rosters"));
        Assert.Empty(b.Section("saltapi_client").Values);
        Assert.Equal(8000, b.Section("rest_wsgi").GetPort("port", 8000));
        Assert.Empty(b.Errors);
    }

    [Theory]
    [InlineData("7", 7L)]
    [InlineData(" -1_000 ", -1000L)]
    [InlineData(2.9, 2L)]
    [InlineData(true, 1L)]
    public void Integers_are_read_as_Pythons_int_reads_them(object value, long expected)
    {
        var b = new ConfigBinder(Map(("n", value)));
        Assert.Equal(expected, b.GetLong("n", 0));
        Assert.Empty(b.Errors);
    }

    [Theory]
    [InlineData("1__0")]
    [InlineData("_1")]
    [InlineData("0x10")]
    [InlineData("")]
    public void What_Pythons_int_refuses_is_a_problem(string value)
    {
        var b = new ConfigBinder(Map(("n", value)));
        Assert.Equal(3, b.GetLong("n", 3));
        Assert.Equal("n", Assert.Single(b.Errors).Key);
    }

    [Fact]
    public void A_section_that_is_not_a_map_is_a_problem_and_reads_as_empty_sharing_its_parents_errors()
    {
        var b = new ConfigBinder(Map(("embedded_master", "yes"), ("saltapi_ops", Map(("port", "x")))));
        Assert.Empty(b.Section("embedded_master").Values);
        Assert.Equal(0, b.Section("saltapi_ops").GetInt("port", 0));
        Assert.Equal(["embedded_master", "saltapi_ops.port"], b.Errors.Select(e => e.Key));
    }

    [Fact]
    public void A_module_section_reports_every_problem_at_once_nested_ones_included()
    {
        var s = new ModuleSection("rest_tornado", Map(("port", "banana"), ("thread_pool", "many"), ("api_acl", Map(("users", "bob")))));
        s.GetPort();
        s.GetInt("thread_pool", 128, 1);
        s.Binder.Section("api_acl").Section("users");
        var e = Assert.Throws<NetapiConfigException>(s.ThrowIfInvalid);
        Assert.Equal(["rest_tornado.port", "rest_tornado.thread_pool", "rest_tornado.api_acl.users"], e.Problems.Select(p => p.Key));
        Assert.Equal("expected a map, not 'bob'", e.Problems[2].Message);
    }

    [Fact]
    public void Quoted_false_reads_as_true_as_Salt_reads_it_with_a_warning()
    {
        var b = new ConfigBinder(Map(("debug", "False"), ("enable_sessions", 0L)), "rest_cherrypy");
        Assert.True(b.GetBool("debug", false));
        Assert.True(b.GetNotFalse("enable_sessions"));
        Assert.Equal(["rest_cherrypy.debug", "rest_cherrypy.enable_sessions"], b.Warnings.Select(w => w.Key));
        Assert.Empty(b.Errors);
    }

    [Theory]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1")]
    [InlineData("0:0:0:0:0:0:0:1", "::1")]
    [InlineData(" 10.0.0.2 ", "10.0.0.2")]
    [InlineData("*", "*")]
    [InlineData("10", "10")]
    [InlineData("host.example", "host.example")]
    public void Configured_addresses_take_the_form_the_client_address_is_compared_in(string configured, string canonical) =>
        Assert.Equal(canonical, ClientAddress.Canonical(configured));
}
