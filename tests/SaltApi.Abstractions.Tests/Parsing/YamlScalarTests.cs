using System.Globalization;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Parsing;

namespace SaltApi.Abstractions.Tests.Parsing;

/// <summary>
/// The shared YAML 1.1 scalar rules against PyYAML 6.0.3's own answers: each row is
/// <c>type(yaml.safe_load(text)).__name__</c> and its <c>repr()</c>, printed by python3.
/// </summary>
public class YamlScalarTests
{
    [Theory]
    [InlineData("", "NoneType", "None")]
    [InlineData("~", "NoneType", "None")]
    [InlineData("null", "NoneType", "None")]
    [InlineData("NULL", "NoneType", "None")]
    [InlineData("Null", "NoneType", "None")]
    [InlineData("yes", "bool", "True")]
    [InlineData("No", "bool", "False")]
    [InlineData("ON", "bool", "True")]
    [InlineData("off", "bool", "False")]
    [InlineData("TRUE", "bool", "True")]
    [InlineData("y", "str", "y")]
    [InlineData("n", "str", "n")]
    [InlineData("0", "int", "0")]
    [InlineData("-1", "int", "-1")]
    [InlineData("+12", "int", "12")]
    [InlineData("0b101", "int", "5")]
    [InlineData("0x_ff", "int", "255")]
    [InlineData("0755", "int", "493")]
    [InlineData("1:30", "int", "90")]
    [InlineData("1_000", "int", "1000")]
    [InlineData("1.5", "float", "1.5")]
    [InlineData("1.", "float", "1.0")]
    [InlineData("-.5e+3", "str", "-.5e+3")]
    [InlineData(".5", "float", "0.5")]
    [InlineData(".inf", "float", "inf")]
    [InlineData("-.Inf", "float", "-inf")]
    [InlineData("+.INF", "float", "inf")]
    [InlineData(".NaN", "float", "nan")]
    [InlineData("1e5", "str", "1e5")]
    [InlineData("1.0e5", "str", "1.0e5")]
    [InlineData("1.0e+5", "float", "100000.0")]
    [InlineData("1:30.5", "float", "90.5")]
    [InlineData("abc", "str", "abc")]
    [InlineData("0.1_2", "float", "0.12")]
    [InlineData("-0", "int", "0")]
    public void Plain_scalars_resolve_as_pyyaml(string text, string type, string repr)
    {
        var (gotType, gotRepr) = YamlScalar.Classify(text) switch
        {
            YamlScalarKind.Null => ("NoneType", "None"),
            YamlScalarKind.Bool => ("bool", YamlScalar.ToBool(text) ? "True" : "False"),
            YamlScalarKind.Int => ("int", YamlInt.TryParse(text, out var i) ? i.ToString(CultureInfo.InvariantCulture) : "?"),
            YamlScalarKind.Float => ("float", YamlScalar.TryFloat(text, out var d) ? FloatRepr(d) : "?"),
            _ => ("str", text),
        };
        Assert.Equal((type, repr), (gotType, gotRepr));
    }

    [Theory]
    [InlineData("2024-01-02", true)]
    [InlineData("2024-1-2 3:04:05.5 +01:00", true)]
    [InlineData("2024-01-02x", false)]
    public void Timestamps_are_recognised(string text, bool expected) => Assert.Equal(expected, YamlScalar.IsTimestamp(text));

    [Theory]
    [InlineData("._")]
    [InlineData(".e+3")]
    public void A_float_python_cannot_build_is_refused(string text) => Assert.False(YamlScalar.TryFloat(text, out _));

    private static string FloatRepr(double d) => SaltJson.FormatFloat(d) switch
    {
        "NaN" => "nan",
        "Infinity" => "inf",
        "-Infinity" => "-inf",
        var f => f,
    };
}
