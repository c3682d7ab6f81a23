using System.Globalization;
using System.Text.Json;
using SaltApi.Protocol.Values;

namespace SaltApi.Protocol.Tests.Values;

/// <summary>
/// PyValue against CPython's own answers. py_value_table.json is written by make_py_value_table.py
/// (next to this file: <c>python3 make_py_value_table.py &gt; py_value_table.json</c>); rerun it to add cases.
/// </summary>
public class PyValueTests
{
    private static readonly JsonElement Table = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Values", "py_value_table.json"))).RootElement;

    private static TheoryData<int> Indexes(string section)
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Table.GetProperty(section).GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    public static TheoryData<int> ValueCases => Indexes("values");

    public static TheoryData<int> KeyCases => Indexes("key_text");

    public static TheoryData<int> GlobCases => Indexes("fnmatch");

    [Theory]
    [MemberData(nameof(ValueCases))]
    public void Str_repr_and_bool_are_pythons(int index)
    {
        var c = Table.GetProperty("values")[index];
        var value = Build(c.GetProperty("value"));
        Assert.Equal(c.GetProperty("repr").GetString(), PyValue.Repr(value));
        Assert.Equal(c.GetProperty("str").GetString(), PyValue.Str(value));
        Assert.Equal(c.GetProperty("bool").GetBoolean(), PyValue.Truthy(value));
    }

    [Theory]
    [MemberData(nameof(KeyCases))]
    public void Key_text_is_json_dumps_key_text(int index)
    {
        var c = Table.GetProperty("key_text")[index];
        Assert.Equal(c.GetProperty("text").GetString(), PyValue.KeyText(Build(c.GetProperty("key"))));
    }

    [Theory]
    [MemberData(nameof(GlobCases))]
    public void Fnmatch_is_pythons_fnmatchcase(int index)
    {
        var c = Table.GetProperty("fnmatch")[index];
        Assert.Equal(c.GetProperty("match").GetBoolean(), PyValue.FnMatch(c.GetProperty("name").GetString()!, c.GetProperty("pattern").GetString()!));
    }

    [Theory]
    [InlineData("web1", "web*", true)] // fnmatch(line, expr)
    [InlineData("web*", "web1", false)] // the pattern is expr, never line
    [InlineData("test.ping", "test\\..*", true)] // expr as a full regex
    [InlineData("test.pingx", "test\\.ping", false)]
    [InlineData("a)(b", "a)(b", true)] // equal, though not a regex
    [InlineData("ab", "a)(b", false)]
    public void Expr_match_is_salts(string line, string expr, bool expected) =>
        Assert.Equal(expected, PyValue.ExprMatch(line, expr));

    [Fact]
    public void Repr_of_deep_nesting_is_bounded()
    {
        object? v = "x";
        for (var i = 0; i < 10_000; i++)
        {
            v = new List<object?> { v };
        }

        var repr = PyValue.Repr(v);
        Assert.StartsWith(new string('[', 65) + "...]", repr, StringComparison.Ordinal);
        Assert.Equal(65 * 2 + 3, repr.Length);
    }

    // Rebuilds a tagged value (see make_py_value_table.py) in our value model.
    private static object? Build(JsonElement e)
    {
        var kind = e[0].GetString();
        return kind switch
        {
            "none" => null,
            "bool" => e[1].GetBoolean(),
            "int" => long.TryParse(e[1].GetString(), CultureInfo.InvariantCulture, out var l) ? l : ulong.Parse(e[1].GetString()!, CultureInfo.InvariantCulture), // as msgpack reads them
            "float" => e[1].GetString() switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                "nan" => double.NaN,
                var f => double.Parse(f!, CultureInfo.InvariantCulture),
            },
            "str" => e[1].GetString(),
            "bytes" => Convert.FromBase64String(e[1].GetString()!),
            "list" => e[1].EnumerateArray().Select(Build).ToList(),
            "dict" => e[1].EnumerateArray().Aggregate(new OrderedDictionary<string, object?>(StringComparer.Ordinal), (m, kv) =>
            {
                m[kv[0].GetString()!] = Build(kv[1]);
                return m;
            }),
            "datetime" => DateTime.Parse(e[1].GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            _ => throw new InvalidDataException(kind),
        };
    }
}
