using System.Text.RegularExpressions;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Minions;

// The arguments of a job as a minion reads them (load_args_and_kwargs), and the publish data each run gets.
internal sealed partial class MinionExecutor
{
    [GeneratedRegex(@"^([^\d\W][\w.-]*)=(?!=)(.*)$", RegexOptions.Singleline)]
    private static partial Regex KwargPattern();

    /// <summary>
    /// Salt's <c>load_args_and_kwargs</c>: a trailing <c>{"__kwarg__": true}</c> map (popped in place, so
    /// fun_args shows it without the marker) and <c>k=v</c> strings become kwargs; a function with
    /// <c>**kwargs</c> also gets the publish data as <c>__pub_*</c>.
    /// </summary>
    public static (List<object?> Args, OrderedDictionary<string, object?> Kwargs) LoadArgsAndKwargs(PySignature sig, List<object?> args, OrderedDictionary<string, object?> data)
    {
        var pos = new List<object?>();
        var kw = Py.Map();
        var invalid = new List<string>();
        foreach (var arg in args)
        {
            if (arg is OrderedDictionary<string, object?> map && map.Get("__kwarg__") is true)
            {
                map.Remove("__kwarg__");
                foreach (var (k, v) in map)
                {
                    if (sig.AcceptsKwargs || sig.HasParam(k))
                    {
                        kw[k] = v;
                    }
                    else
                    {
                        invalid.Add($"{k}={PyValue.Str(v)}");
                    }
                }

                continue;
            }

            if (arg is string s && KwargPattern().Match(s) is { Success: true } m)
            {
                var k = m.Groups[1].Value;
                if (sig.AcceptsKwargs || sig.HasParam(k))
                {
                    kw[k] = m.Groups[2].Value;
                }
                else
                {
                    invalid.Add($"{k}={m.Groups[2].Value}");
                }

                continue;
            }

            pos.Add(arg);
        }

        if (invalid.Count > 0)
        {
            throw new SaltInvocationError("The following keyword arguments are not valid: " + string.Join(", ", invalid));
        }

        if (sig.AcceptsKwargs)
        {
            foreach (var (k, v) in data)
            {
                kw["__pub_" + k] = v;
            }
        }

        return (pos, kw);
    }

    // True when no value holds a map, and lists hold plain values only: nothing a minion changes in place.
    private static bool IsFlat(OrderedDictionary<string, object?> m)
    {
        foreach (var (_, v) in m)
        {
            if (v is OrderedDictionary<string, object?>)
            {
                return false;
            }

            if (v is List<object?> l)
            {
                foreach (var item in l)
                {
                    if (item is OrderedDictionary<string, object?> or List<object?>)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    private static OrderedDictionary<string, object?> DeepCopy(OrderedDictionary<string, object?> m)
    {
        var r = new OrderedDictionary<string, object?>(m.Count, StringComparer.Ordinal);
        foreach (var (k, v) in m)
        {
            r[k] = DeepCopyValue(v);
        }

        return r;
    }

    private static object? DeepCopyValue(object? v)
    {
        switch (v)
        {
            case OrderedDictionary<string, object?> m:
                return DeepCopy(m);
            case List<object?> l:
                var copy = new List<object?>(l.Count);
                foreach (var item in l)
                {
                    copy.Add(DeepCopyValue(item));
                }

                return copy;
            default:
                return v;
        }
    }
}
