using System.Diagnostics;
using System.Numerics;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Parsing;
using SaltApi.NetapiKit.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

/// <summary>
/// The YAML loader, yamlify and the body parser on input built to exhaust them: deep nesting (the loader
/// used to recurse per level and end the process with a stack overflow), aliases, and numbers of a
/// million digits (built digit by digit with BigInteger: seconds of CPU each).
/// </summary>
public class YamlBoundsTests
{
    private const int Million = 1_000_000;

    // Generous: each case takes milliseconds; the bound only catches a return of quadratic work.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    public static TheoryData<string> DeepDocuments() => new()
    {
        "seq-open-close",
        "seq-open-only",
        "map-open-only",
        "flow-map-values",
        "block-seq",
        "block-keys",
    };

    private static string Deep(string name) => name switch
    {
        "seq-open-close" => new string('[', Million) + new string(']', Million),
        "seq-open-only" => new string('[', Million),
        "map-open-only" => new string('{', Million),
        "flow-map-values" => Repeat("{a: ", Million / 4) + "1" + new string('}', Million / 4),
        "block-seq" => Repeat("- ", Million / 2) + "x",
        "block-keys" => Repeat("? ", Million / 2) + "x",
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    [Theory]
    [MemberData(nameof(DeepDocuments))]
    public void A_million_levels_are_refused_at_once(string name)
    {
        var text = Deep(name);
        var clock = Stopwatch.StartNew();

        // A flow map of maps stops at its first key (unhashable); everything else at the depth limit.
        Assert.ThrowsAny<YamlLoadException>(() => Yaml.Load(text));
        Assert.True(clock.Elapsed < Bound, $"{name}: {clock.Elapsed}");
    }

    [Fact]
    public void Nesting_is_allowed_to_the_limit_and_refused_past_it()
    {
        var ok = Yaml.Load(new string('[', InputLimits.MaxDepth) + "1" + new string(']', InputLimits.MaxDepth));
        for (var i = 0; i < InputLimits.MaxDepth - 1; i++)
        {
            ok = Assert.Single(Assert.IsType<List<object?>>(ok));
        }

        Assert.Equal(1L, Assert.Single(Assert.IsType<List<object?>>(ok)));
        var depth = InputLimits.MaxDepth + 1;
        Assert.Throws<YamlLimitException>(() => Yaml.Load(new string('[', depth) + new string(']', depth)));
    }

    [Fact]
    public void An_alias_counts_the_depth_and_nodes_it_stands_for()
    {
        var anchored = "a: &a " + new string('[', 40) + new string(']', 40) + "\n";
        Assert.NotNull(Yaml.Load(anchored + "b: " + new string('[', 20) + "*a" + new string(']', 20) + "\n"));
        Assert.Throws<YamlLimitException>(() => Yaml.Load(anchored + "b: " + new string('[', 30) + "*a" + new string(']', 30) + "\n"));

        var laughs = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 9; i++)
        {
            laughs.Append(CultureInfoInvariant($"a{i}: &a{i} [")).Append(string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))).Append("]\n");
        }

        var clock = Stopwatch.StartNew();
        Assert.Throws<YamlLimitException>(() => Yaml.Load(laughs.ToString()));
        Assert.True(clock.Elapsed < Bound, clock.Elapsed.ToString());
    }

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);

    [Fact]
    public void Aliases_are_copies_as_before()
    {
        var v = Assert.IsType<OrderedDictionary<string, object?>>(Yaml.Load("x: &a {b: [1, 2]}\ny: *a\n"));
        Assert.Equal("{\"x\": {\"b\": [1, 2]}, \"y\": {\"b\": [1, 2]}}", SaltJson.Serialize(v));
        Assert.NotSame(v["x"], v["y"]);
    }

    [Theory]
    [InlineData("{*a1}: &a1 x")] // an alias key naming an anchor defined later: YamlDotNet's node model recursed until the stack overflowed
    [InlineData("&a [*a]")] // recursive
    [InlineData("[*nope]")]
    [InlineData("{[1]: 2}")] // unhashable key, as PyYAML
    [InlineData("{a: 1, a: 2}")] // SaltYamlSafeLoader: conflicting ID
    [InlineData("{null: 1, ~: 2}")]
    [InlineData("- : 1aa")] // YamlDotNet ends this mapping after its key (the node model threw ArgumentException: a 500)
    [InlineData("!!python/object:os.system x")]
    public void Malformed_or_unsafe_documents_are_refused(string text) => Assert.ThrowsAny<YamlLoadException>(() => Yaml.Load(text));

    public static TheoryData<string, string> HugeNumbers() => new()
    {
        { "binary", "0b" + new string('1', 1 << 20) },
        { "octal", "0" + new string('7', 1 << 20) },
        { "hex", "0x" + new string('f', 1 << 20) },
        { "decimal", "1" + new string('0', 1 << 20) },
        { "sexagesimal", "1" + Repeat(":59", (1 << 20) / 3) },
        { "negative-binary", "-0b" + new string('1', 1 << 20) },
    };

    [Theory]
    [MemberData(nameof(HugeNumbers))]
    public void A_mebibyte_integer_in_any_base_is_refused_without_big_number_work(string name, string text)
    {
        var clock = Stopwatch.StartNew();
        Assert.Throws<YamlLimitException>(() => Yaml.Load(text));
        Assert.Throws<YamlLimitException>(() => Yaml.Load("- " + text));
        Assert.True(clock.Elapsed < Bound, $"{name}: {clock.Elapsed}");
    }

    [Fact]
    public void A_mebibyte_float_is_parsed()
    {
        var clock = Stopwatch.StartNew();
        Assert.Equal(double.PositiveInfinity, Yaml.Load("1" + new string('0', 1 << 20) + ".5"));
        Assert.Equal(1.5, Yaml.Load("1.5" + new string('0', 1 << 20)));
        Assert.True(clock.Elapsed < Bound, clock.Elapsed.ToString());
    }

    [Theory]
    [InlineData("0b1010", "10")]
    [InlineData("-0x_ff", "-255")]
    [InlineData("0755", "493")]
    [InlineData("0_", "0")]
    [InlineData("+12", "12")]
    [InlineData("1_000", "1000")]
    [InlineData("190:20:30", "685230")]
    [InlineData("-1:30", "-90")]
    [InlineData("18446744073709551615", "18446744073709551615")]
    [InlineData("0x10000000000000000", "18446744073709551616")]
    public void Integers_keep_their_values(string text, string expected) =>
        Assert.Equal(expected, SaltJson.Serialize(Yaml.Load(text)));

    [Fact]
    public void Integers_up_to_the_digit_cap_parse_in_every_base()
    {
        var digits = InputLimits.MaxIntDigits;
        Assert.Equal((BigInteger.One << digits) - 1, Yaml.Load("0b" + new string('1', digits)));
        Assert.Equal((BigInteger.One << (4 * digits)) - 1, Yaml.Load("0x" + new string('f', digits)));
        Assert.Equal((BigInteger.One << (3 * digits)) - 1, Yaml.Load("0" + new string('7', digits)));
        Assert.Equal(BigInteger.Pow(10, digits - 1), Yaml.Load("1" + new string('0', digits - 1)));
        Assert.Throws<YamlLimitException>(() => Yaml.Load("1" + new string('0', digits)));
        Assert.Throws<YamlLimitException>(() => Yaml.Load("0b1" + new string('0', digits)));
    }

    [Fact]
    public void Dump_quotes_a_digit_string_past_the_cap()
    {
        var digits = new string('1', InputLimits.MaxIntDigits + 1);
        Assert.Equal($"- '{digits}'\n", Yaml.Dump(new List<object?> { digits }));
    }

    [Fact]
    public void Yamlify_keeps_bad_yaml_as_text_but_refuses_values_past_the_limits()
    {
        Assert.Equal("[1, 2", FormYamlify.Arg("[1, 2"));
        Assert.Throws<YamlLimitException>(() => FormYamlify.Arg(new string('[', 300_000)));
        Assert.Throws<YamlLimitException>(() => FormYamlify.Arg("0b" + new string('1', 1 << 20)));
    }

    [Theory]
    [InlineData("arg")]
    [InlineData("kwarg")]
    public void A_deep_form_value_is_a_400(string field)
    {
        var body = Encoding.UTF8.GetBytes($"client=local&tgt=ms-0&fun=test.arg&{field}=" + new string('[', Million));
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<HttpError>(() => BodyParser.Parse("application/x-www-form-urlencoded", body));
        Assert.Equal(400, e.Status);
        Assert.True(clock.Elapsed < Bound, clock.Elapsed.ToString());
    }

    [Theory]
    [InlineData("application/x-yaml")]
    [InlineData("text/yaml")]
    [InlineData("application/json")]
    public void A_deep_body_is_a_400(string contentType)
    {
        var e = Assert.Throws<HttpError>(() => BodyParser.Parse(contentType, Encoding.UTF8.GetBytes(new string('[', Million) + new string(']', Million))));
        Assert.Equal(400, e.Status);
    }
}
