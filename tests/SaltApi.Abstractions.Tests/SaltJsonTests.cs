using System.Text;
using SaltApi.Abstractions.Json;

namespace SaltApi.Abstractions.Tests;

public class SaltJsonTests
{
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(2.5, "2.5")]
    [InlineData(1795712743.4158463, "1795712743.4158463")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1.5e-5, "1.5e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(123456789012345678.0, "1.2345678901234568e+17")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(100.0, "100.0")]
    [InlineData(1e22, "1e+22")]
    [InlineData(0.0, "0.0")]
    public void Floats_are_written_as_python_repr(double value, string expected) =>
        Assert.Equal(expected, SaltJson.Serialize(value));

    [Fact]
    public void Maps_and_lists_use_python_separators_and_keep_order()
    {
        var map = new OrderedDictionary<string, object?> { ["ms--1"] = true, ["ms--0"] = new List<object?> { 1L, null, "héllo ☃\n\"" } };
        Assert.Equal("{\"ms--1\": true, \"ms--0\": [1, null, \"héllo ☃\\n\\\"\"]}", SaltJson.Serialize(map));
    }

    [Theory]
    // Cases and messages from the transcripts of the real rest_wsgi (reference/rest_wsgi 12, 13, 56).
    [InlineData("[{\"client\": \"local\", \"tgt\": \"*\",", "Expecting property name enclosed in double quotes: line 1 column 33 (char 32)")]
    [InlineData("", "Expecting value: line 1 column 1 (char 0)")]
    [InlineData("garbage", "Expecting value: line 1 column 1 (char 0)")]
    [InlineData("[", "Expecting value: line 1 column 2 (char 1)")]
    [InlineData("{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)")]
    [InlineData("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)")]
    [InlineData("[\"abc", "Unterminated string starting at: line 1 column 2 (char 1)")]
    [InlineData("[1]\n x", "Extra data: line 2 column 2 (char 5)")]
    public void Parse_errors_read_as_pythons(string body, string message)
    {
        var e = Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Deep_nesting_and_invalid_utf8_are_errors_not_crashes()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        Assert.Contains("Nesting too deep", Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes(deep))).Message);
        var bad = Assert.Throws<SaltJsonException>(() => SaltJson.Parse(new byte[] { (byte)'[', (byte)'"', 0xff, (byte)'"', (byte)']' }));
        Assert.StartsWith("'utf-8' codec can't decode byte 0xff in position 2", bad.Message);
    }

    [Fact]
    public void Parse_gives_plain_ordered_values()
    {
        var v = SaltJson.Parse("[{\"b\": 1, \"a\": [2.5, true, null, 18446744073709551615]}]"u8);
        var chunk = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(Assert.IsType<List<object?>>(v)));
        Assert.Equal(["b", "a"], chunk.Keys);
        Assert.Equal(1L, chunk["b"]);
        Assert.Equal(new List<object?> { 2.5, true, null, ulong.MaxValue }, chunk["a"]);
    }

    [Fact]
    public void Integers_beyond_64_bits_stay_exact()
    {
        var v = Assert.IsType<List<object?>>(SaltJson.Parse("[20261126194917252515, -99999999999999999999]"u8));
        Assert.Equal(System.Numerics.BigInteger.Parse("20261126194917252515", System.Globalization.CultureInfo.InvariantCulture), v[0]);
        Assert.Equal("[20261126194917252515, -99999999999999999999]", SaltJson.Serialize(v));
    }

    [Fact]
    public void Integers_longer_than_Pythons_digit_limit_are_refused_as_Python_refuses_them()
    {
        var atLimit = Assert.IsType<System.Numerics.BigInteger>(SaltJson.Parse(System.Text.Encoding.ASCII.GetBytes("-" + new string('9', 4300))));
        Assert.True(atLimit < 0);
        var e = Assert.Throws<SaltJsonException>(() => SaltJson.Parse(System.Text.Encoding.ASCII.GetBytes("[" + new string('9', 4301) + "]")));
        Assert.StartsWith("Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits", e.Message, StringComparison.Ordinal);

        // A float of any length is parsed, as Python's float() does.
        Assert.IsType<double>(SaltJson.Parse(System.Text.Encoding.ASCII.GetBytes(new string('9', 5000) + ".5")));
    }

    [Fact]
    public void A_document_of_more_values_than_the_node_budget_is_refused()
    {
        var wide = "[" + string.Join(",", Enumerable.Repeat("{}", SaltApi.Abstractions.Parsing.InputLimits.MaxNodes)) + "]";
        var e = Assert.Throws<SaltJsonException>(() => SaltJson.Parse(Encoding.UTF8.GetBytes(wide)));
        Assert.Contains("too large", e.Message, StringComparison.Ordinal);

        var fits = "[" + string.Join(",", Enumerable.Repeat("{}", SaltApi.Abstractions.Parsing.InputLimits.MaxNodes - 1)) + "]";
        Assert.Equal(SaltApi.Abstractions.Parsing.InputLimits.MaxNodes - 1, Assert.IsType<List<object?>>(SaltJson.Parse(Encoding.UTF8.GetBytes(fits))).Count);
    }
}
