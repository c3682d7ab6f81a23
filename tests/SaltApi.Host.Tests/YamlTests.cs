using SaltApi.Host.Configuration;

namespace SaltApi.Host.Tests;

public class YamlTests
{
    private static object? Value(string yaml)
    {
        var map = SaltYaml.Load("v: " + yaml + "\n", "/test.yaml", new ConfigLocations());
        return map["v"];
    }

    [Theory]
    [InlineData("~")]
    [InlineData("null")]
    [InlineData("Null")]
    [InlineData("NULL")]
    [InlineData("")]
    public void Null_scalars(string yaml) => Assert.Null(Value(yaml));

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("TRUE", true)]
    [InlineData("yes", true)]
    [InlineData("Yes", true)]
    [InlineData("on", true)]
    [InlineData("ON", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("NO", false)]
    [InlineData("off", false)]
    [InlineData("Off", false)]
    public void Yaml11_booleans(string yaml, bool expected) => Assert.Equal(expected, Value(yaml));

    [Theory]
    [InlineData("yEs")]
    [InlineData("y")]
    [InlineData("n")]
    [InlineData("tRUE")]
    public void Not_booleans_in_pyyaml(string yaml) => Assert.Equal(yaml, Value(yaml));

    [Theory]
    [InlineData("8001", 8001L)]
    [InlineData("-12", -12L)]
    [InlineData("+7", 7L)]
    [InlineData("0", 0L)]
    [InlineData("1_000", 1000L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0b101", 5L)]
    [InlineData("1:30", 90L)]
    // Salt's loader strips leading zeros before PyYAML sees an octal: 0755 is 755.
    [InlineData("0755", 755L)]
    [InlineData("00", 0L)]
    [InlineData("-010", -8L)]
    public void Integers(string yaml, long expected) => Assert.Equal(expected, Value(yaml));

    [Fact]
    public void Integers_beyond_long_are_ulong() => Assert.Equal(18446744073709551615UL, Value("18446744073709551615"));

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("-0.25", -0.25)]
    [InlineData("1.", 1.0)]
    [InlineData(".5", 0.5)]
    [InlineData("1.0e+3", 1000.0)]
    [InlineData("1_0.5", 10.5)]
    [InlineData("1:30.5", 90.5)]
    public void Floats(string yaml, double expected) => Assert.Equal(expected, Value(yaml));

    [Fact]
    public void Infinity_and_nan()
    {
        Assert.Equal(double.PositiveInfinity, Value(".inf"));
        Assert.Equal(double.NegativeInfinity, Value("-.Inf"));
        Assert.True(double.IsNaN((double)Value(".NaN")!));
    }

    [Theory]
    // PyYAML (YAML 1.1) has no 0o octal, needs a dot and a signed exponent for floats, keeps dates as Salt does.
    [InlineData("0o17")]
    [InlineData("1e3")]
    [InlineData("2026-11-26")]
    [InlineData("0x")]
    [InlineData("=")]
    [InlineData("127.0.0.1")]
    [InlineData("12abc")]
    public void Strings_that_look_like_numbers(string yaml) => Assert.Equal(yaml, Value(yaml));

    [Theory]
    [InlineData("'8001'", "8001")]
    [InlineData("\"true\"", "true")]
    [InlineData("'~'", "~")]
    [InlineData("\"\"", "")]
    [InlineData("!!str 5", "5")]
    [InlineData("! 5", "5")]
    public void Quoted_and_tagged_scalars_are_strings(string yaml, string expected) => Assert.Equal(expected, Value(yaml));

    [Fact]
    public void Explicit_tags()
    {
        Assert.Equal(5L, Value("!!int '5'"));
        Assert.Equal(2.5, Value("!!float '2.5'"));
        Assert.Null(Value("!!null ''"));
        Assert.Equal(new byte[] { 1, 2, 3 }, Value("!!binary AQID"));
    }

    [Fact]
    public void Maps_keep_order_and_lists_are_lists()
    {
        var map = SaltYaml.Load("b: 1\na: [x, 2, {k: v}]\nc:\n  z: 1\n  y: 2\n", "/t", new ConfigLocations());
        Assert.Equal(["b", "a", "c"], map.Keys);
        var list = Assert.IsType<List<object?>>(map["a"]);
        Assert.Equal("x", list[0]);
        Assert.Equal(2L, list[1]);
        Assert.Equal("v", Assert.IsType<OrderedDictionary<string, object?>>(list[2])["k"]);
        Assert.Equal(["z", "y"], Assert.IsType<OrderedDictionary<string, object?>>(map["c"]).Keys);
    }

    [Fact]
    public void Non_string_keys_become_python_str()
    {
        var map = SaltYaml.Load("1: a\ntrue: b\n~: c\n1.5: d\n", "/t", new ConfigLocations());
        Assert.Equal(["1", "True", "None", "1.5"], map.Keys);
    }

    [Fact]
    public void Anchors_aliases_and_merge_keys()
    {
        var map = SaltYaml.Load(
            "base: &b {port: 1, host: h}\nother:\n  <<: *b\n  port: 2\nlist: &l [1]\nsame: *l\n",
            "/t",
            new ConfigLocations());
        var other = Assert.IsType<OrderedDictionary<string, object?>>(map["other"]);
        Assert.Equal(2L, other["port"]);
        Assert.Equal("h", other["host"]);
        Assert.Same(map["list"], map["same"]);
    }

    [Fact]
    public void Duplicate_keys_are_an_error_with_line_and_key()
    {
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("a: 1\nrest_wsgi:\n  port: 1\n  port: 2\n", "/etc/salt/master", new ConfigLocations()));
        Assert.Equal("/etc/salt/master", e.File);
        Assert.Equal(4, e.Line);
        Assert.Equal("rest_wsgi.port", e.Key);
        Assert.Contains("conflicting ID 'port'", e.Message);
    }

    [Fact]
    public void Syntax_errors_name_file_and_line()
    {
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("a: 1\nb: [1, 2\nc: 3\n", "/x/master", new ConfigLocations()));
        Assert.Equal("/x/master", e.File);
        Assert.True(e.Line >= 2, e.Message);
        Assert.Contains("/x/master, line", e.Message);
    }

    [Fact]
    public void A_document_that_is_not_a_map_is_an_error()
    {
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("- a\n- b\n", "/x/master", new ConfigLocations()));
        Assert.Contains("conf should be a document, not <class 'list'>", e.Message);
    }

    [Fact]
    public void Empty_documents_are_empty_maps()
    {
        Assert.Empty(SaltYaml.Load("", "/t", new ConfigLocations()));
        Assert.Empty(SaltYaml.Load("# only a comment\n", "/t", new ConfigLocations()));
        Assert.Empty(SaltYaml.Load("---\n...\n", "/t", new ConfigLocations()));
    }

    [Fact]
    public void Two_documents_are_an_error()
    {
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("a: 1\n---\nb: 2\n", "/t", new ConfigLocations()));
        Assert.Contains("single document", e.Message);
    }

    [Fact]
    public void Locations_record_every_key()
    {
        var locations = new ConfigLocations();
        SaltYaml.Load("a: 1\nrest_wsgi:\n  port: 8001\n", "/m", locations);
        Assert.Equal(("/m", 3), locations.Find("rest_wsgi.port"));
        Assert.Equal(("/m", 2), locations.Find("rest_wsgi.host"));
        Assert.Null(locations.Find("nothing"));
    }
}
