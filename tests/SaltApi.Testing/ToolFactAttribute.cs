using Xunit;

namespace SaltApi.Testing;

/// <summary>
/// A fact that needs a program from the system: skipped, naming the program and its Debian package,
/// when the program is not on the PATH (never silently passed).
/// </summary>
public sealed class ToolFactAttribute : FactAttribute
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
