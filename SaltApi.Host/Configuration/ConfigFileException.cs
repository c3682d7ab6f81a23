namespace SaltApi.Host.Configuration;

/// <summary>A config error with the file, line and key that caused it; the daemon prints it and exits non-zero.</summary>
internal sealed class ConfigFileException : Exception
{
    public ConfigFileException(string file, int line, string? key, string problem, Exception? inner = null)
        : base(Format(file, line, key, problem), inner)
    {
        File = file;
        Line = line;
        Key = key;
        Problem = problem;
        All = [this];
    }

    /// <summary>Every error at once (at least one): the place and key of the first are this one's.</summary>
    public ConfigFileException(IReadOnlyList<ConfigFileException> all)
        : base(string.Join(Environment.NewLine, all.Select(e => e.Message)))
    {
        var first = all[0];
        File = first.File;
        Line = first.Line;
        Key = first.Key;
        Problem = first.Problem;
        All = all;
    }

    /// <summary>Every error, each with its own file, line and key.</summary>
    public IReadOnlyList<ConfigFileException> All { get; }

    /// <summary>The file (absolute path) or "(defaults)".</summary>
    public string File { get; }

    /// <summary>1-based line; 0 when the error is about the whole file.</summary>
    public int Line { get; }

    /// <summary>The dotted key, when known.</summary>
    public string? Key { get; }

    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; }

    private static string Format(string file, int line, string? key, string problem)
    {
        var where = line > 0 ? $"{file}, line {line}" : file;
        return key is null
            ? $"Error parsing configuration file: {where}: {problem}"
            : $"Error in configuration file: {where}, key '{key}': {problem}";
    }
}
