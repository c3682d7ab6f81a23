namespace SaltApi.Testing;

/// <summary>
/// The repository and its committed test data (<c>tests/data</c>): wire captures and HTTP transcripts
/// recorded from a real Salt 3006.0 master and salt-api. Nothing is read from outside the repository.
/// </summary>
public static class TestData
{
    /// <summary>The repository root (the folder holding SaltApi.sln).</summary>
    public static string RepoRoot { get; } = FindUp("SaltApi.sln") ?? throw new InvalidOperationException("SaltApi.sln not found above " + AppContext.BaseDirectory);

    /// <summary><c>tests/data</c>.</summary>
    public static string Dir => Path.Combine(RepoRoot, "tests", "data");

    /// <summary>The captured wire vectors (request channel and event bus).</summary>
    public static string Vectors => Existing(Path.Combine(Dir, "vectors"));

    /// <summary>The HTTP transcripts of the real salt-api.</summary>
    public static string Reference => Existing(Path.Combine(Dir, "reference"));

    /// <summary>Reads a vector's bytes from its .hex file.</summary>
    public static byte[] VectorBytes(string name) =>
        Convert.FromHexString(File.ReadAllText(Path.Combine(Vectors, name + ".hex")).Trim());

    /// <summary>
    /// The names (without extension) of the vectors starting with <paramref name="prefix"/>, in order.
    /// Never empty: a data-driven theory without data is an error, not zero tests.
    /// </summary>
    public static IReadOnlyList<string> VectorNames(string prefix)
    {
        var names = Directory.GetFiles(Vectors, prefix + "*.hex")
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Order(StringComparer.Ordinal)
            .ToList();
        return names.Count > 0
            ? names
            : throw new InvalidOperationException($"no vectors '{prefix}*.hex' in {Vectors}: the test data is missing");
    }

    private static string Existing(string dir) =>
        Directory.Exists(dir) ? dir : throw new DirectoryNotFoundException("the committed test data is missing: " + dir);

    private static string? FindUp(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, file)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
