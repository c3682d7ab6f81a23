using System.Collections;
using System.Globalization;

namespace SaltApi.EmbeddedMaster.Values;

/// <summary>Building and reading the plain value tree (maps, lists, paths); Python's <c>bool()</c>, <c>str()</c> and matching are PyValue's.</summary>
internal static class Py
{
    /// <summary>A fresh ordered map, the value model's map type.</summary>
    public static OrderedDictionary<string, object?> Map() => new(StringComparer.Ordinal);

    /// <summary>Builds a map from pairs, in order (sized for them and a key more, as <c>_stamp</c> is often added).</summary>
    public static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var m = new OrderedDictionary<string, object?>(pairs.Length + 1, StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            m[k] = v;
        }

        return m;
    }

    /// <summary>A shallow copy of a map (sized for it and a key more).</summary>
    public static OrderedDictionary<string, object?> Copy(IEnumerable<KeyValuePair<string, object?>> source)
    {
        var m = source is IReadOnlyCollection<KeyValuePair<string, object?>> c ? new OrderedDictionary<string, object?>(c.Count + 1, StringComparer.Ordinal) : Map();
        foreach (var (k, v) in source)
        {
            m[k] = v;
        }

        return m;
    }

    /// <summary>The value of a key, or null.</summary>
    public static object? Get(this IReadOnlyDictionary<string, object?> map, string key) => map.TryGetValue(key, out var v) ? v : null;

    /// <summary>The value as a list (a single value becomes a one-item list).</summary>
    public static List<object?> AsList(object? v) => v switch
    {
        null => [],
        List<object?> l => l,
        string s => [s],
        IEnumerable<KeyValuePair<string, object?>> => [v],
        IEnumerable e => e.Cast<object?>().ToList(),
        _ => [v],
    };

    /// <summary>The map, when the value is one.</summary>
    public static OrderedDictionary<string, object?>? AsMap(object? v) => v switch
    {
        OrderedDictionary<string, object?> m => m,
        IEnumerable<KeyValuePair<string, object?>> e => Copy(e),
        _ => null,
    };

    /// <summary>Salt's <c>traverse_dict_and_list</c>: follows <paramref name="key"/> split at <paramref name="delimiter"/> through maps and list indexes.</summary>
    public static bool TryTraverse(object? data, string key, string delimiter, out object? value)
    {
        value = data;
        foreach (var part in key.Split(delimiter))
        {
            switch (value)
            {
                case OrderedDictionary<string, object?> m when m.TryGetValue(part, out var v):
                    value = v;
                    break;
                case List<object?> l when int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < l.Count:
                    value = l[i];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        return true;
    }
}
