using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Tests;

/// <summary>What the contract gives every module: error statuses and typed, validating section readers.</summary>
public class ModulePlumbingTests
{
    private static ModuleSection Section(params (string Key, object? Value)[] values) =>
        new("rest_x", values.ToDictionary(v => v.Key, v => v.Value));

    [Theory]
    [InlineData(SaltErrorKind.Authentication, 401)]
    [InlineData(SaltErrorKind.Authorization, 401)]
    [InlineData(SaltErrorKind.Invocation, 400)]
    [InlineData(SaltErrorKind.MasterUnavailable, 503)]
    [InlineData(SaltErrorKind.Timeout, 504)]
    [InlineData(SaltErrorKind.ClientError, 500)]
    public void Each_error_kind_has_rest_cherrypys_status(SaltErrorKind kind, int status)
    {
        Assert.Equal(status, kind.HttpStatus());
    }

    [Fact]
    public void An_exception_maps_through_its_kind()
    {
        Assert.Equal(503, new SaltMasterUnavailableException("down").HttpStatus());
        Assert.Equal(401, new SaltAuthenticationException("no").HttpStatus());
    }

    // Booleans as Salt's `if opts.get(key)` reads them: Python's bool(). A quoted false-word is true, with a warning.
    [Theory]
    [InlineData(true, true, false)]
    [InlineData(false, false, false)]
    [InlineData("true", true, false)]
    [InlineData("True", true, false)]
    [InlineData(" yes ", true, false)]
    [InlineData("maybe", true, false)]
    [InlineData("1", true, false)]
    [InlineData("false", true, true)]
    [InlineData("False", true, true)]
    [InlineData("no", true, true)]
    [InlineData("off", true, true)]
    [InlineData("0", true, true)]
    [InlineData("None", true, true)]
    [InlineData("", false, false)]
    [InlineData(1L, true, false)]
    [InlineData(0L, false, false)]
    [InlineData(0.5, true, false)]
    [InlineData(0.0, false, false)]
    public void Booleans_read_as_pythons_bool(object value, bool expected, bool warned)
    {
        var s = Section(("disable_ssl", value));
        Assert.Equal(expected, s.GetBool("disable_ssl", !expected));
        Assert.Empty(s.Problems);
        Assert.Equal(warned, s.Warnings.Count == 1);
        if (warned)
        {
            Assert.Equal("rest_x.disable_ssl", s.Warnings[0].Key);
            Assert.Contains("reads as true", s.Warnings[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Collections_are_true_when_not_empty()
    {
        var s = Section(("a", new List<object?>()), ("b", new List<object?> { false }), ("c", new Dictionary<string, object?>()));
        Assert.False(s.GetBool("a", true));
        Assert.True(s.GetBool("b", false));
        Assert.False(s.GetBool("c", true));
        Assert.Empty(s.Problems);
    }

    // `opts.get(key, True) is False`: only YAML's false turns it off.
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData("False", true)]
    [InlineData("no", true)]
    [InlineData(0L, true)]
    [InlineData(null, true)]
    public void Not_false_switches_are_off_only_for_yaml_false(object? value, bool expected)
    {
        var s = Section(("enable_sessions", value));
        Assert.Equal(expected, s.GetNotFalse("enable_sessions"));
        Assert.True(Section().GetNotFalse("enable_sessions"));
    }

    // Integers as Python's int() reads them.
    [Theory]
    [InlineData("10", 10L)]
    [InlineData(" 10 ", 10L)]
    [InlineData("+10", 10L)]
    [InlineData("-3", -3L)]
    [InlineData("1_000", 1000L)]
    [InlineData(10.9, 10L)]
    [InlineData(-2.5, -2L)]
    [InlineData(true, 1L)]
    [InlineData(false, 0L)]
    [InlineData(7L, 7L)]
    public void Integers_read_as_pythons_int(object value, long expected)
    {
        var s = Section(("thread_pool", value));
        Assert.Equal(expected, s.GetLong("thread_pool", 99));
        Assert.Empty(s.Problems);
    }

    [Theory]
    [InlineData("1__0")]
    [InlineData("_10")]
    [InlineData("10.0")]
    [InlineData("0x10")]
    [InlineData("ten")]
    [InlineData("")]
    public void Text_that_pythons_int_refuses_is_a_problem(string value)
    {
        var s = Section(("thread_pool", value));
        Assert.Equal(99, s.GetLong("thread_pool", 99));
        Assert.Single(s.Problems);
    }

    [Fact]
    public void Absent_or_null_keys_give_the_fallback_without_a_problem()
    {
        var s = Section(("debug", null));
        Assert.True(s.GetBool("debug", true));
        Assert.Equal(7, s.GetInt("thread_pool", 7));
        Assert.Equal("x", s.GetString("host", "x"));
        Assert.Null(s.GetString("ssl_crt"));
        Assert.Empty(s.GetStringList("cors_origin"));
        Assert.Equal(TimeSpan.FromSeconds(3), s.GetSeconds("drain_timeout", TimeSpan.FromSeconds(3)));
        Assert.Equal(8000, s.GetPort("port", 8000));
        Assert.Empty(s.Problems);
        s.ThrowIfInvalid();
    }

    [Fact]
    public void Integers_strings_lists_and_sizes_are_read_typed()
    {
        var s = Section(
            ("port", "8001"),
            ("thread_pool", 12L),
            ("queue_size", 3.0),
            ("max_request_body_size", 2048L),
            ("host", 5L),
            ("flag", true),
            ("cors_origin", "https://a, https://b"),
            ("authorized_ips", new List<object?> { "10.0.0.1", 7L, null }),
            ("drain_timeout", 1.5));
        Assert.Equal(8001, s.GetPort());
        Assert.Equal(12, s.GetInt("thread_pool", 0));
        Assert.Equal(3, s.GetInt("queue_size", 0));
        Assert.Equal(2048, s.GetSize("max_request_body_size", 0));
        Assert.Equal("5", s.GetString("host"));
        Assert.Equal("True", s.GetString("flag"));
        Assert.Equal(["https://a", "https://b"], s.GetStringList("cors_origin"));
        Assert.Equal(["10.0.0.1", "7"], s.GetStringList("authorized_ips"));
        Assert.Equal(TimeSpan.FromSeconds(1.5), s.GetSeconds("drain_timeout", TimeSpan.Zero));
        Assert.Empty(s.Problems);
    }

    [Fact]
    public void Every_wrong_option_is_reported_at_once_with_its_dotted_key()
    {
        var s = Section(
            ("port", "banana"),
            ("thread_pool", "many"),
            ("max_request_body_size", -1L),
            ("host", new List<object?> { "a" }),
            ("cors_origin", new Dictionary<string, object?> { ["a"] = 1L }),
            ("drain_timeout", "soon"));
        Assert.Equal(0, s.GetPort());
        Assert.Equal(100, s.GetInt("thread_pool", 100));
        Assert.Equal(1024, s.GetSize("max_request_body_size", 1024));
        Assert.Equal("localhost", s.GetString("host", "localhost"));
        Assert.Empty(s.GetStringList("cors_origin"));
        Assert.Equal(TimeSpan.FromSeconds(2), s.GetSeconds("drain_timeout", TimeSpan.FromSeconds(2)));

        var e = Assert.Throws<NetapiConfigException>(s.ThrowIfInvalid);
        Assert.Equal(
            ["rest_x.port", "rest_x.thread_pool", "rest_x.max_request_body_size", "rest_x.host", "rest_x.cors_origin", "rest_x.drain_timeout"],
            e.Problems.Select(p => p.Key));
        Assert.Equal("rest_x.port: expected a TCP port (0-65535), not 'banana'", e.Problems[0].ToString());
        Assert.StartsWith("rest_x.port: expected a TCP port (0-65535), not 'banana'; rest_x.thread_pool: expected an integer, not 'many'; ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(65536L)]
    [InlineData(true)]
    [InlineData(80.5)]
    public void A_port_outside_tcps_range_is_a_problem(object port)
    {
        var s = Section(("port", port));
        s.GetPort();
        Assert.Equal("rest_x.port", Assert.Single(s.Problems).Key);
    }

    [Fact]
    public void A_missing_required_port_is_a_problem()
    {
        var s = Section();
        s.GetPort();
        Assert.Equal("rest_x.port: required: a TCP port (0-65535)", Assert.Single(s.Problems).ToString());
    }
}
