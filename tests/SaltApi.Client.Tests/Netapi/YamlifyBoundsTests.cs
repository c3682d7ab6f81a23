using System.Diagnostics;
using System.Numerics;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Parsing;
using SaltApi.Client.Runner;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>yamlify_arg of runner arguments on numbers of a million digits (built digit by digit with BigInteger before).</summary>
public class YamlifyBoundsTests
{
    [Theory]
    [InlineData("0b", '1')]
    [InlineData("0x", 'f')]
    [InlineData("0", '7')]
    [InlineData("1", '0')]
    [InlineData("-0b", '1')]
    public void A_mebibyte_integer_is_refused_at_once(string prefix, char digit)
    {
        var clock = Stopwatch.StartNew();
        Assert.Throws<SaltInvocationException>(() => RunnerYamlify.Arg(prefix + new string(digit, 1 << 20)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Fact]
    public void Integers_up_to_the_cap_keep_their_values()
    {
        Assert.Equal((BigInteger.One << InputLimits.MaxIntDigits) - 1, RunnerYamlify.Arg("0b" + new string('1', InputLimits.MaxIntDigits)));
        Assert.Equal(18446744073709551615UL, RunnerYamlify.Arg("18446744073709551615"));
        Assert.Equal(-255L, RunnerYamlify.Arg("-0x_ff"));
    }
}
