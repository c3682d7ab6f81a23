namespace SaltApi.Bench;

/// <summary>Where things are: the repository, its build output, the test data, our output.</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = FindUp("SaltApi.sln") ?? throw new InvalidOperationException("SaltApi.sln not found above " + AppContext.BaseDirectory);

    public static string Bench => Path.Combine(RepoRoot, "bench");

    public static string Out { get; } = Directory.CreateDirectory(Path.Combine(RepoRoot, "bench", "out")).FullName;

    public static string Lua => Path.Combine(Bench, "lua", "post.lua");

    public static string HostDll => Path.Combine(RepoRoot, "SaltApi.Host", "bin", "Release", "net10.0", "salt-api.dll");

    public static string CeilingDll => Path.Combine(Bench, "SaltApi.Bench.Ceiling", "bin", "Release", "net10.0", "SaltApi.Bench.Ceiling.dll");

    public static string FloorDll => Path.Combine(Bench, "SaltApi.Bench.Floor", "bin", "Release", "net10.0", "SaltApi.Bench.Floor.dll");

    public static string CodecDll => Path.Combine(Bench, "SaltApi.Bench.Codec", "bin", "Release", "net10.0", "SaltApi.Bench.Codec.dll");

    /// <summary>The captured wire vectors committed with the tests.</summary>
    public static string Vectors => Path.Combine(RepoRoot, "tests", "data", "vectors");

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
