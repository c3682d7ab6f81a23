using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

public class YamlifyTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("-5", "-5")]
    [InlineData("1.5", "1.5")]
    [InlineData("true", "true")]
    [InlineData("yes", "true")]
    [InlineData("None", "null")]
    [InlineData("null", "null")]
    [InlineData("abc", "\"abc\"")]
    [InlineData("{a: 1}", "{\"a\": 1}")]
    [InlineData("[1, two]", "[1, \"two\"]")]
    [InlineData("a: 1", "\"a: 1\"")]
    [InlineData("- a", "\"- a\"")]
    [InlineData("1_000", "\"1_000\"")]
    [InlineData("   ", "\"   \"")]
    [InlineData("---", "\"---\"")]
    [InlineData("a\tb", "\"a\\tb\"")]
    [InlineData("2026-11-26", "\"2026-11-26\"")]
    [InlineData("#comment", "\"#comment\"")]
    [InlineData("1 #one", "1")]
    [InlineData("|", "\"|\"")]
    [InlineData("!foo", "\"!foo\"")]
    [InlineData("'quoted'", "\"quoted\"")]
    [InlineData("[1, 2", "\"[1, 2\"")]
    [InlineData("k=v", "\"k=v\"")]
    public void Yamlifies_as_Salt(string input, string expectedJson) =>
        Assert.Equal(expectedJson, SaltJson.Serialize(FormYamlify.Arg(input)));

    [Fact]
    public void Non_strings_pass_through() => Assert.Equal(5L, FormYamlify.Arg(5L));
}
