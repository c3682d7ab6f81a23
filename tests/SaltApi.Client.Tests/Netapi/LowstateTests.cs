using SaltApi.Abstractions.Client;
using SaltApi.Client.Auth;
using SaltApi.Client.Batch;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Runner;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Netapi;

public sealed class LowstateTests
{
    [Theory]
    [InlineData(30L, 30)]
    [InlineData("30", 30)]
    [InlineData(" 7 ", 7)]
    [InlineData(60.5, 5)]
    [InlineData("60.5", 5)]
    [InlineData("soon", 5)]
    [InlineData(null, 5)]
    [InlineData(true, 1)]
    public void Local_timeout_has_Salts_int_semantics(object? value, int expected) =>
        Assert.Equal(expected, ClientLowstate.LocalTimeout(value, 5));

    [Fact]
    public void Condition_input_turns_jid_ints_into_strings_and_appends_kwarg_first_flagged()
    {
        var args = ClientLowstate.ConditionInput([System.Numerics.BigInteger.Parse("20261126174303307032", System.Globalization.CultureInfo.InvariantCulture), 12L, "x"], Map(("b", 2L)));

        Assert.Equal("20261126174303307032", args[0]);
        Assert.Equal(12L, args[1]);
        Assert.Equal("x", args[2]);
        var kw = Assert.IsType<OrderedDictionary<string, object?>>(args[3]);
        Assert.Equal(["__kwarg__", "b"], kw.Keys);
        Assert.Equal(true, kw["__kwarg__"]);
    }

    [Fact]
    public void Empty_kwarg_adds_nothing() => Assert.Equal(["a"], ClientLowstate.ConditionInput(["a"], Map()).Cast<string>());

    [Fact]
    public void Scalar_arg_is_a_one_item_list()
    {
        Assert.Equal(["x"], ClientLowstate.ArgList("x").Cast<string>());
        Assert.Empty(ClientLowstate.ArgList(null));
        Assert.Single(ClientLowstate.ArgList(Map(("a", 1L))));
    }

    [Fact]
    public void Runner_low_is_reformatted_as_salt_api_does()
    {
        var load = RunnerClient.ReformatLow(Map(
            ("client", "runner"), ("fun", "test.arg"), ("arg", new List<object?> { 1L, "a=b", "c", "2", Map(("__kwarg__", true), ("m", 3L)) }),
            ("kwarg", Map(("x", 1L))), ("extra", "e"), ("token", "tok"), ("key", "rootkey"), ("auth_list", new List<object?>())));

        Assert.Equal(["fun", "kwarg", "token", "client", "cmd"], load.Keys);
        var kwarg = (OrderedDictionary<string, object?>)load["kwarg"]!;
        Assert.Equal(["kwarg", "arg"], kwarg.Keys);
        Assert.Equal(new List<object?> { 1L, "c", 2L }, kwarg["arg"]);
        var kw = (OrderedDictionary<string, object?>)kwarg["kwarg"]!;
        Assert.Equal(["a", "m", "x", "extra"], kw.Keys);
        Assert.Equal("b", kw["a"]);
    }

    [Theory]
    [InlineData("None", null)]
    [InlineData("true", true)]
    [InlineData("no", false)]
    [InlineData("12", 12L)]
    [InlineData("-3", -3L)]
    [InlineData("2.5", 2.5)]
    [InlineData("hello", "hello")]
    [InlineData("20261126174303307032_123", "20261126174303307032_123")]
    [InlineData("a#b", "a#b")]
    [InlineData("", "")]
    [InlineData("{a: 1}", "{a: 1}")]
    [InlineData("1 # one", 1L)]
    [InlineData("#c", "#c")]
    [InlineData("x # y", "x # y")]
    [InlineData("'quoted'", "quoted")]
    [InlineData("\"a b\"", "a b")]
    [InlineData("0x1f", 31L)]
    [InlineData("017", 15L)]
    [InlineData("1_000", "1_000")]
    [InlineData("-1_000", -1000L)]
    [InlineData("1e5", "1e5")]
    [InlineData("1.5e+3", 1500.0)]
    [InlineData("!", "!")]
    [InlineData("|", "|")]
    [InlineData("2024-01-01", "2024-01-01")]
    [InlineData("~", null)]
    [InlineData("y", "y")]
    public void Yamlify_scalars(string text, object? expected) => Assert.Equal(expected, RunnerYamlify.Arg(text));

    [Theory]
    [InlineData("10%", 5, 1)]
    [InlineData("50%", 5, 2)]
    [InlineData("100%", 5, 5)]
    [InlineData("1%", 5, 1)]
    [InlineData("0%", 5, 0)]
    [InlineData("3", 5, 3)]
    [InlineData(2L, 5, 2)]
    public void Batch_number(object batch, int minions, int expected) => Assert.Equal(expected, BatchClient.BatchNumber(batch, minions));

    [Fact]
    public void Invalid_batch_has_no_number() => Assert.Null(BatchClient.BatchNumber("lots", 5));

    private static readonly OrderedDictionary<string, object?> ExternalAuth = Map(
        ("pam", Map(
            ("alice", new List<object?> { "test.*", "@runner", Map(("web*", new List<object?> { "test.*" })) }),
            ("*", new List<object?> { "test.ping", "@runner" }),
            ("ops%", new List<object?> { "grains.*", Map(("db*", new List<object?> { "pkg.*" })) }),
            ("nobody", new List<object?>()))));

    [Fact]
    public void Permissions_sum_user_star_and_groups_then_sort_strings_before_maps()
    {
        var perms = Permissions.Of(new SaltToken("t", "alice", "pam", 0, 1, ["ops"]), ExternalAuth);

        Assert.NotNull(perms);
        Assert.Equal(["@runner", "grains.*", "test.*", "test.ping"], perms.Take(4).Cast<string>());
        Assert.Equal("db*", ((OrderedDictionary<string, object?>)perms[4]!).Keys.Single());
        Assert.Equal("web*", ((OrderedDictionary<string, object?>)perms[5]!).Keys.Single());
        Assert.Equal(6, perms.Count);
    }

    [Fact]
    public void Permissions_do_not_grow_from_call_to_call()
    {
        var token = new SaltToken("t", "alice", "pam", 0, 1, null);
        var first = Permissions.Of(token, ExternalAuth);
        var second = Permissions.Of(token, ExternalAuth);

        Assert.Equal(first!.Count, second!.Count);
        Assert.Equal(3, ((List<object?>)((OrderedDictionary<string, object?>)ExternalAuth["pam"]!)["alice"]!).Count);
    }

    [Fact]
    public void Permissions_use_the_exact_user_key_and_always_add_star()
    {
        Assert.Equal(["@runner", "test.ping"], Permissions.Of(new SaltToken("t", "al*", "pam", 0, 1, null), ExternalAuth)!.Cast<string>());
        Assert.Null(Permissions.Of(new SaltToken("t", "x", "ldap", 0, 1, null), ExternalAuth));
    }
}
