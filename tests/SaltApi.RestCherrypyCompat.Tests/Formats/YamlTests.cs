using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

public class YamlTests
{
    private static OrderedDictionary<string, object?> Map(params (string K, object? V)[] kv)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in kv)
        {
            m[k] = v;
        }

        return m;
    }

    [Fact]
    public void Dump_matches_the_login_transcript()
    {
        var t = Transcript.Load("cp-08-login-yaml");
        var value = Map(("return", new List<object?>
        {
            Map(("token", "d8fb4b7d2b316527bdee7de5b6e080841ed75410"), ("expire", 1795756431.3273103), ("start", 1795713231.3273098),
                ("user", "saltdev"), ("eauth", "pam"), ("perms", new List<object?> { ".*", "@jobs", "@runner", "@wheel" })),
        }));
        Assert.Equal(t.ExactBody, Yaml.Dump(value));
    }

    [Fact]
    public void Dump_matches_the_local_yaml_transcript()
    {
        var t = Transcript.Load("cp-12-post-root-token-local-yaml");
        var value = Map(("return", new List<object?> { Map(("ms-4", true), ("ms-3", true), ("ms-2", true), ("ms-1", true), ("ms-0", true)) }));
        Assert.Equal(t.ExactBody, Yaml.Dump(value));
    }

    [Fact]
    public void Dump_sorts_keys_and_nests_blocks()
    {
        var value = Map(("return", "Welcome"), ("clients", new List<object?> { "local", "runner" }), ("a", Map(("x", Map(("y", 1L))), ("e", new List<object?>()), ("n", null))));
        Assert.Equal("a:\n  e: []\n  n: null\n  x:\n    y: 1\nclients:\n- local\n- runner\nreturn: Welcome\n", Yaml.Dump(value));
    }

    [Theory]
    [InlineData("yes", "'yes'")]
    [InlineData("123", "'123'")]
    [InlineData("1.5", "'1.5'")]
    [InlineData("null", "'null'")]
    [InlineData("", "''")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("it's", "it's")]
    [InlineData("@x", "'@x'")]
    [InlineData("-x", "-x")]
    [InlineData("- x", "'- x'")]
    [InlineData("héllo ☃", "héllo ☃")]
    [InlineData("two\nlines", "\"two\\nlines\"")]
    [InlineData("2026-11-26", "'2026-11-26'")]
    public void Dump_quotes_strings_that_would_not_round_trip(string s, string expected) =>
        Assert.Equal($"k: {expected}\n", Yaml.Dump(Map(("k", s))));

    [Fact]
    public void Dump_of_a_bare_scalar_ends_the_document() => Assert.Equal("Welcome\n...\n", Yaml.Dump("Welcome"));

    [Fact]
    public void Load_resolves_yaml_1_1_scalars()
    {
        var v = Yaml.Load("a: yes\nb: off\nc: 0x1f\nd: 010\ne: 1_000\nf: 1.5\ng: ~\nh: '1'\ni: 2026-01-01\nj: .inf\n") as OrderedDictionary<string, object?>;
        Assert.NotNull(v);
        Assert.Equal(true, v["a"]);
        Assert.Equal(false, v["b"]);
        Assert.Equal(31L, v["c"]);
        Assert.Equal(8L, v["d"]);
        Assert.Equal(1000L, v["e"]);
        Assert.Equal(1.5, v["f"]);
        Assert.Null(v["g"]);
        Assert.Equal("1", v["h"]);
        Assert.Equal("2026-01-01", v["i"]);
        Assert.Equal(double.PositiveInfinity, v["j"]);
    }

    [Fact]
    public void Load_reads_the_yaml_body_transcript_into_a_lowstate()
    {
        var v = Yaml.Load("- client: local\n  tgt: ms-0\n  fun: test.ping\n");
        Assert.Equal("[{\"client\": \"local\", \"tgt\": \"ms-0\", \"fun\": \"test.ping\"}]", SaltJson.Serialize(v));
    }

    [Fact]
    public void Load_rejects_bad_yaml_and_bombs()
    {
        Assert.Throws<YamlLoadException>(() => Yaml.Load("a: [1, 2"));
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        Assert.Throws<YamlLimitException>(() => Yaml.Load(bomb));
    }
}
