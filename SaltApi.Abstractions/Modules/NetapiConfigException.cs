namespace SaltApi.Abstractions.Modules;

/// <summary>One wrong option of a module's section.</summary>
/// <param name="Key">The dotted key, section first: <c>rest_wsgi.port</c>.</param>
/// <param name="Message">What is wrong with it, without the key.</param>
public sealed record ConfigProblem(string Key, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {Message}";
}

/// <summary>
/// A module's section has wrong options. Thrown from <see cref="INetapiModule.CheckConfig"/> (every problem
/// of the section at once, as YARP's ConfigValidator reports them), the host logs one error line naming
/// each key and the file it was written in, and does not start the module. Thrown from
/// <see cref="INetapiModule.RunAsync"/>, the host logs it the same way and does not restart the module.
/// </summary>
public sealed class NetapiConfigException : Exception
{
    /// <summary>One problem.</summary>
    public NetapiConfigException(string key, string message)
        : this([new ConfigProblem(key, message)])
    {
    }

    /// <summary>Every problem of a section; at least one.</summary>
    public NetapiConfigException(IReadOnlyList<ConfigProblem> problems)
        : base(Describe(problems))
    {
        Problems = problems;
    }

    /// <summary>The problems, in the order they were found.</summary>
    public IReadOnlyList<ConfigProblem> Problems { get; }

    private static string Describe(IReadOnlyList<ConfigProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count == 0)
        {
            throw new ArgumentException("at least one problem is needed", nameof(problems));
        }

        return string.Join("; ", problems);
    }
}
