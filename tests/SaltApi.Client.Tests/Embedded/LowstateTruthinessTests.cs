using SaltApi.Client.Tests.Support;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Embedded;

/// <summary>
/// Lowstate flags are read with Python's <c>bool()</c>, as Salt reads them: the string "false" is true
/// (it is a non-empty string), so it asks for the full return exactly as Salt does.
/// </summary>
public sealed class LowstateTruthinessTests(MasterFixture m) : IClassFixture<MasterFixture>
{
    private static (string, object?)[] Low(params (string, object?)[] kv) => [.. kv, .. Eauth()];

    [Theory]
    [InlineData("false")]
    [InlineData("0")]
    [InlineData("no")]
    public async Task Local_full_return_as_a_nonempty_string_is_true(string flag)
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--1"), ("fun", "test.ping"), ("full_return", flag)));

        var one = Assert.IsType<OrderedDictionary<string, object?>>(((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--1"]);
        Assert.Equal(true, one["ret"]);
        Assert.Equal(0L, one["retcode"]);
    }

    [Fact]
    public async Task Local_full_return_empty_string_is_false()
    {
        var result = await m.Run(Low(("client", "local"), ("tgt", "ms--1"), ("fun", "test.ping"), ("full_return", "")));

        Assert.Equal(true, ((OrderedDictionary<string, object?>)Assert.Single(result)!)["ms--1"]);
    }

    [Fact]
    public async Task Runner_full_return_false_string_is_the_whole_ret_event()
    {
        var result = await m.Run(Low(("client", "runner"), ("fun", "test.arg"), ("full_return", "false")));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["data", "tag"], ret.Keys);
    }
}
