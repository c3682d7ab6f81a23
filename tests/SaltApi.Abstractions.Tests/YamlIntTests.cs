using System.Diagnostics;
using System.Numerics;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Parsing;

namespace SaltApi.Abstractions.Tests;

public class YamlIntTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0b101", "-5")]
    [InlineData("0x_Ff", "255")]
    [InlineData("017", "15")]
    [InlineData("1:0", "60")]
    [InlineData("1_2:3_0", "750")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    public void Parses_every_yaml11_form(string text, string expected)
    {
        Assert.True(YamlInt.TryParse(text, out var value));
        Assert.Equal(BigInteger.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("0b2")]
    [InlineData("08")]
    [InlineData("0xg")]
    public void Refuses_a_digit_outside_its_base(string text) => Assert.False(YamlInt.TryParse(text, out _));

    [Fact]
    public void Power_of_two_bases_pack_bits_exactly()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var hex = string.Concat(Enumerable.Range(0, random.Next(1, 300)).Select(_ => "0123456789abcdef"[random.Next(16)]));
            Assert.True(YamlInt.TryParse("0x" + hex, out var value));
            Assert.Equal(BigInteger.Parse("0" + hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), value);
            Assert.True(YamlInt.TryParse("0b" + string.Concat(hex.Select(c => Convert.ToString(Convert.ToInt32(c.ToString(), 16), 2).PadLeft(4, '0'))), out var bits));
            Assert.Equal(value, bits);
        }
    }

    [Fact]
    public void A_mebibyte_of_digits_is_refused_in_one_scan()
    {
        var clock = Stopwatch.StartNew();
        foreach (var text in new[] { "0b" + new string('1', 1 << 20), "0x" + new string('f', 1 << 20), "0" + new string('7', 1 << 20), new string('9', 1 << 20), "1" + string.Concat(Enumerable.Repeat(":59", (1 << 20) / 3)) })
        {
            Assert.False(YamlInt.TryParse(text, out _));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Fact]
    public void Json_refuses_a_million_levels_and_a_mebibyte_integer()
    {
        Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes(new string('[', 1_000_000) + new string(']', 1_000_000))));
        Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes(new string('{', 1_000_000))));
        Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes("[1" + new string('0', 1 << 20) + "]")));
        Assert.Equal(double.PositiveInfinity, Assert.Single(Assert.IsType<List<object?>>(SaltJson.Parse(Encoding.UTF8.GetBytes("[1" + new string('0', 1 << 20) + ".5]")))));
    }
}
