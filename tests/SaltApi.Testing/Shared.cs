namespace SaltApi.Testing;

/// <summary>The project's reference material in <c>../shared</c> beside the repository.</summary>
public static class Shared
{
    /// <summary>The repository root (the folder holding SaltApi.sln).</summary>
    public static string RepoRoot { get; } = FindUp("SaltApi.sln") ?? throw new InvalidOperationException("SaltApi.sln not found above " + AppContext.BaseDirectory);

    /// <summary><c>../shared</c> next to the repository, or <c>$SALTAPI_SHARED</c>.</summary>
    public static string Dir { get; } = Environment.GetEnvironmentVariable("SALTAPI_SHARED") is { Length: > 0 } env
        ? env
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>The captured wire vectors.</summary>
    public static string Vectors => Path.Combine(Dir, "vectors");

    /// <summary>The HTTP transcripts of the real salt-api.</summary>
    public static string Reference => Path.Combine(Dir, "reference");

    /// <summary>Response fixtures recorded by other clients.</summary>
    public static string Fixtures => Path.Combine(Dir, "fixtures");

    /// <summary>Reads a vector's bytes from its .hex file.</summary>
    public static byte[] VectorBytes(string name) =>
        Convert.FromHexString(File.ReadAllText(Path.Combine(Vectors, name + ".hex")).Trim());

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
