using SaltApi.PythonValues;

namespace SaltApi.Protocol.Config;

/// <summary>Wrong config values, every one found by the <see cref="ConfigBinder"/>; the host adds each one's file and line.</summary>
public sealed class ConfigException : Exception
{
    /// <summary>One problem.</summary>
    public ConfigException(string key, string message)
        : this([new ConfigError(key, message)])
    {
    }

    /// <summary>Every problem found; at least one.</summary>
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(string.Join("; ", errors ?? throw new ArgumentNullException(nameof(errors))))
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("at least one problem is needed", nameof(errors));
        }

        Errors = errors;
    }

    /// <summary>The first offending key, dotted for nested ones (<c>saltapi_client.request_threads</c>).</summary>
    public string Key => Errors[0].Key;

    /// <summary>Every problem, in the order found.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>Binds <paramref name="opts"/> with <paramref name="bind"/>; throws one <see cref="ConfigException"/> with every problem found, if there is any.</summary>
    public static T Bind<T>(IReadOnlyDictionary<string, object?> opts, Func<ConfigBinder, T> bind)
    {
        ArgumentNullException.ThrowIfNull(bind);
        var binder = new ConfigBinder(opts);
        var bound = bind(binder);
        ThrowIfAny(binder);
        return bound;
    }

    /// <summary>Throws one <see cref="ConfigException"/> with every problem <paramref name="binder"/> found, if there is any.</summary>
    public static void ThrowIfAny(ConfigBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        if (binder.Errors.Count > 0)
        {
            throw new ConfigException(binder.Errors.ToList());
        }
    }
}
