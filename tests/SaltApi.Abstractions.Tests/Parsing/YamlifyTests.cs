using SaltApi.Abstractions.Parsing;

namespace SaltApi.Abstractions.Tests.Parsing;

/// <summary>yamlify_arg's rules, with a loader that records what it was asked to load.</summary>
public class YamlifyTests
{
    private static object? Run(string text, object? loaded, bool ok = true) =>
        Yamlify.Arg(text, (string _, out object? v) =>
        {
            v = loaded;
            return ok;
        });

    [Theory]
    [InlineData("   ")]
    [InlineData("---")]
    [InlineData("...")]
    [InlineData("2026_1234")]
    [InlineData("a\tb")]
    public void Texts_yamlify_arg_never_loads_stay_text(string text) =>
        Assert.Same(text, Yamlify.Arg(text, (string _, out object? v) => throw new InvalidOperationException("loaded")));

    [Fact]
    public void None_is_null() => Assert.Null(Run("None", "None"));

    [Fact]
    public void A_map_is_kept_only_when_the_text_is_a_flow_map()
    {
        var map = new Dictionary<string, object?> { ["a"] = 1L };
        Assert.Same(map, Run("{a: 1}", map));
        Assert.Equal("a: 1", Run("a: 1", map));
    }

    [Fact]
    public void A_comment_keeps_the_text_unless_a_number_or_bool_is_left()
    {
        Assert.Equal(5L, Run("5 # five", 5L));
        Assert.Equal("x # y", Run("x # y", "x"));
        Assert.Equal("# y", Run("# y", null));
    }

    [Fact]
    public void What_does_not_load_stays_text() => Assert.Equal("[1, 2", Run("[1, 2", null, ok: false));

    [Fact]
    public void Non_strings_pass_through() => Assert.Equal(5L, Yamlify.Arg(5L, (string _, out object? v) => throw new InvalidOperationException()));
}
