namespace SaltApi.Testing;

/// <summary>
/// A fact that needs a program from the system: skipped, naming the program and its Debian package,
/// when the program is not on the PATH (never silently passed); a failure in CI (<see cref="Requirement"/>).
/// </summary>
public sealed class ToolFactAttribute : RequiredFactAttribute
{
    public ToolFactAttribute(string tool, string package)
    {
        if (Find(tool) is null)
        {
            Skip = $"{tool} is not installed (apt-get install {package})";
        }
    }

    /// <summary>The full path of <paramref name="tool"/> on the PATH, or null.</summary>
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}

/// <summary>A theory that needs a program from the system, as <see cref="ToolFactAttribute"/>.</summary>
public sealed class ToolTheoryAttribute : RequiredTheoryAttribute
{
    public ToolTheoryAttribute(string tool, string package)
    {
        if (ToolFactAttribute.Find(tool) is null)
        {
            Skip = $"{tool} is not installed (apt-get install {package})";
        }
    }
}
