using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Values;

/// <summary>Python's TypeError from calling a function with arguments that do not fit its signature.</summary>
internal sealed class PyTypeError(string message) : Exception(message);

/// <summary>An exception a Salt function raises; <see cref="PyClass"/> is the Python class name shown.</summary>
internal class PyException(string pyClass, string message) : Exception(message)
{
    public string PyClass { get; } = pyClass;
}

/// <summary>Salt's CommandExecutionError.</summary>
internal sealed class CommandExecutionError(string message) : PyException("CommandExecutionError", message);

/// <summary>Salt's SaltInvocationError.</summary>
internal sealed class SaltInvocationError(string message) : PyException("SaltInvocationError", message);

/// <summary>Arguments bound to a signature: named parameters, then the <c>*args</c> and <c>**kwargs</c> rest.</summary>
internal sealed class BoundArgs
{
    public OrderedDictionary<string, object?> Named { get; } = Py.Map();

    public List<object?> VarArgs { get; } = [];

    public OrderedDictionary<string, object?> VarKwargs { get; } = Py.Map();

    public object? this[string name] => Named.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// A Python signature: <c>def name(required..., optional=default..., *args, **kwargs)</c>, with
/// Python's binding rules and TypeError texts.
/// </summary>
internal sealed record PySignature(string Name, string[] Required, (string Name, object? Default)[] Optional, bool VarArgs, bool VarKwargs)
{
    /// <summary>Whether the function takes <c>**kwargs</c> (Salt then adds <c>__pub_*</c>).</summary>
    public bool AcceptsKwargs => VarKwargs;

    /// <summary>Whether a keyword is a named parameter.</summary>
    public bool HasParam(string name) => Required.Contains(name) || Optional.Any(o => o.Name == name);

    public BoundArgs Bind(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var b = new BoundArgs();
        var names = Required.Concat(Optional.Select(o => o.Name)).ToArray();
        for (var i = 0; i < args.Count; i++)
        {
            if (i < names.Length)
            {
                b.Named[names[i]] = args[i];
            }
            else if (VarArgs)
            {
                b.VarArgs.Add(args[i]);
            }
            else
            {
                var max = names.Length;
                var takes = Optional.Length > 0 ? $"from {Required.Length} to {max}" : max.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new PyTypeError($"{Name}() takes {takes} positional argument{(max == 1 && Optional.Length == 0 ? "" : "s")} but {args.Count} {(args.Count == 1 ? "was" : "were")} given");
            }
        }

        foreach (var (k, v) in kwargs)
        {
            if (names.Contains(k))
            {
                if (b.Named.ContainsKey(k))
                {
                    throw new PyTypeError($"{Name}() got multiple values for argument '{k}'");
                }

                b.Named[k] = v;
            }
            else if (VarKwargs)
            {
                b.VarKwargs[k] = v;
            }
            else
            {
                throw new PyTypeError($"{Name}() got an unexpected keyword argument '{k}'");
            }
        }

        var missing = Required.Where(r => !b.Named.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            var list = missing.Count == 1 ? $"'{missing[0]}'" : string.Join(", ", missing.Take(missing.Count - 1).Select(m => $"'{m}'")) + $" and '{missing[^1]}'";
            throw new PyTypeError($"{Name}() missing {missing.Count} required positional argument{(missing.Count == 1 ? "" : "s")}: {list}");
        }

        foreach (var (n, d) in Optional)
        {
            if (!b.Named.ContainsKey(n))
            {
                b.Named[n] = d;
            }
        }

        // Keep the declared order of named parameters.
        var ordered = Py.Map();
        foreach (var n in names)
        {
            ordered[n] = b.Named[n];
        }

        b.Named.Clear();
        foreach (var (k, v) in ordered)
        {
            b.Named[k] = v;
        }

        return b;
    }
}
