using System.Globalization;
using System.Numerics;
using SaltApi.Protocol.Jobs;

namespace SaltApi.Client.Lowstate;

/// <summary>Reading lowstate values the way Salt's Python code reads them.</summary>
internal static class ClientLowstate
{
    /// <summary>A mutable copy in the caller's key order.</summary>
    public static OrderedDictionary<string, object?> Copy(IReadOnlyDictionary<string, object?> low)
    {
        var copy = new OrderedDictionary<string, object?>(low.Count, StringComparer.Ordinal);
        foreach (var (k, v) in low)
        {
            copy[k] = v;
        }

        return copy;
    }

    /// <summary>Removes and returns a key (Python's <c>dict.pop(key, default)</c>).</summary>
    public static object? Pop(OrderedDictionary<string, object?> low, string key, object? fallback = null) =>
        low.Remove(key, out var v) ? v : fallback;

    /// <summary>LocalClient._get_timeout: an int, or an int-looking string; anything else is the config value.</summary>
    public static int LocalTimeout(object? value, int configTimeout) => value switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        bool b => b ? 1 : 0, // a Python bool is an int
        string s when int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => i,
        _ => configTimeout,
    };

    /// <summary>A wait in seconds as given (runner <c>timeout</c>); null when not a number.</summary>
    public static double? Seconds(object? value) => value switch
    {
        long l => l,
        ulong u => u,
        double d when double.IsFinite(d) => d,
        bool b => b ? 1 : 0,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
        _ => null,
    };

    /// <summary>
    /// <c>arg</c> as a list: absent → empty; a scalar is wrapped, as rest_cherrypy does before it calls
    /// NetapiClient. (Deliberate difference for rest_wsgi, which would iterate a string char by char.)
    /// </summary>
    public static List<object?> ArgList(object? arg) => arg switch
    {
        null => [],
        List<object?> l => [.. l],
        IEnumerable<object?> e when arg is not string && arg is not IReadOnlyDictionary<string, object?> => [.. e],
        _ => [arg],
    };

    /// <summary>salt.utils.args.condition_input: jid-looking ints to strings, kwarg appended as a <c>__kwarg__</c> map.</summary>
    public static List<object?> ConditionInput(List<object?> args, object? kwarg)
    {
        var ret = new List<object?>(args.Count + 1);
        foreach (var a in args)
        {
            ret.Add(JidLookingInt(a) is { } s ? s : a);
        }

        if (kwarg is IReadOnlyDictionary<string, object?> kw && kw.Count > 0)
        {
            var map = new OrderedDictionary<string, object?>(kw.Count + 1, StringComparer.Ordinal) { ["__kwarg__"] = true };
            foreach (var (k, v) in kw)
            {
                map[k] = v;
            }

            ret.Add(map);
        }

        return ret;
    }

    private static string? JidLookingInt(object? v)
    {
        var text = v switch
        {
            long l => l.ToString(CultureInfo.InvariantCulture),
            ulong u => u.ToString(CultureInfo.InvariantCulture),
            BigInteger b => b.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        return text is not null && Jid.IsJid(text) ? text : null;
    }
}
