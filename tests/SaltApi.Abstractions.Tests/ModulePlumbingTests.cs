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

    // Booleans as the modules read them (not Python's bool(): "false" is false); YAML already gives true/false.
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData(" yes ", true)]
    [InlineData("on", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    [InlineData("0", false)]
    [InlineData("", false)]
    [InlineData(1L, true)]
    [InlineData(0L, false)]
    [InlineData(0.5, true)]
    public void Booleans_read_as_the_modules_always_have(object value, bool expected)
    {
        var s = Section(("disable_ssl", value));
        Assert.Equal(expected, s.GetBool("disable_ssl", !expected));
        Assert.Empty(s.Problems);
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
            ("debug", "maybe"),
            ("host", new List<object?> { "a" }),
            ("cors_origin", new Dictionary<string, object?> { ["a"] = 1L }),
            ("drain_timeout", "soon"));
        Assert.Equal(0, s.GetPort());
        Assert.Equal(100, s.GetInt("thread_pool", 100));
        Assert.Equal(1024, s.GetSize("max_request_body_size", 1024));
        Assert.False(s.GetBool("debug", false));
        Assert.Equal("localhost", s.GetString("host", "localhost"));
        Assert.Empty(s.GetStringList("cors_origin"));
        Assert.Equal(TimeSpan.FromSeconds(2), s.GetSeconds("drain_timeout", TimeSpan.FromSeconds(2)));

        var e = Assert.Throws<NetapiConfigException>(s.ThrowIfInvalid);
        Assert.Equal(
            ["rest_x.port", "rest_x.thread_pool", "rest_x.max_request_body_size", "rest_x.debug", "rest_x.host", "rest_x.cors_origin", "rest_x.drain_timeout"],
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
