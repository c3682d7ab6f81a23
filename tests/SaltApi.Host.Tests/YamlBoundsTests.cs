using SaltApi.Abstractions.Parsing;
using SaltApi.Host.Configuration;

namespace SaltApi.Host.Tests;

/// <summary>The config loader shares the request bodies' bounds: it recursed once per level and built any int digit by digit.</summary>
public class YamlBoundsTests
{
    [Fact]
    public void A_config_nested_past_the_limit_is_a_clear_error()
    {
        var deep = InputLimits.MaxDepth + 1;
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("v: " + new string('[', deep) + new string(']', deep) + "\n", "/test.yaml", new ConfigLocations()));
        Assert.Contains("nested deeper than", e.Message, StringComparison.Ordinal);
        Assert.NotNull(SaltYaml.Load("v: " + new string('[', 30) + new string(']', 30) + "\n", "/test.yaml", new ConfigLocations()));
    }

    [Theory]
    [InlineData("0b", '1')]
    [InlineData("0x", 'f')]
    [InlineData("1", '0')]
    public void An_integer_past_the_digit_cap_is_a_clear_error(string prefix, char digit)
    {
        var e = Assert.Throws<ConfigFileException>(() => SaltYaml.Load("v: " + prefix + new string(digit, 1 << 20) + "\n", "/test.yaml", new ConfigLocations()));
        Assert.Contains("invalid value", e.Message, StringComparison.Ordinal);
    }
}
