using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace SaltApi.Host.Tests;

/// <summary>The test plugins built beside the tests, and folders made from them.</summary>
internal static class TestPlugins
{
    /// <summary>testplugins/ in the test output: one folder per plugin.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "testplugins");

    /// <summary>The daemon's own plugins folder (RestWsgi, ...).</summary>
    public static string HostPlugins => Path.Combine(Path.GetDirectoryName(Testing.Daemon.HostDll)!, "plugins");

    /// <summary>Copies test plugins into a fresh folder laid out as a plugin directory.</summary>
    public static string Folder(params string[] names)
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-plugins-").FullName;
        foreach (var name in names)
        {
            Copy(Path.Combine(Root, name), Path.Combine(dir, name));
        }

        return dir;
    }

    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>The SaltApi.Abstractions version the assembly file references, read from its metadata.</summary>
    public static Version? ReferencedContract(string dll)
    {
        using var pe = new PEReader(File.OpenRead(dll));
        var md = pe.GetMetadataReader();
        return md.AssemblyReferences.Select(md.GetAssemblyReference).Where(r => md.GetString(r.Name) == "SaltApi.Abstractions").Select(r => r.Version).FirstOrDefault();
    }

    /// <summary>Rewrites the major version of the assembly's SaltApi.Abstractions reference in place.</summary>
    public static void PatchContractMajor(string dll, ushort major)
    {
        var bytes = File.ReadAllBytes(dll);
        int offset;
        using (var pe = new PEReader(new MemoryStream(bytes)))
        {
            var md = pe.GetMetadataReader();
            var row = md.AssemblyReferences.Select((h, i) => (h, i)).Single(x => md.GetString(md.GetAssemblyReference(x.h).Name) == "SaltApi.Abstractions").i;
            // AssemblyRef rows start with MajorVersion (2 bytes).
            offset = pe.PEHeaders.MetadataStartOffset + md.GetTableMetadataOffset(TableIndex.AssemblyRef) + (row * md.GetTableRowSize(TableIndex.AssemblyRef));
        }

        BitConverter.TryWriteBytes(bytes.AsSpan(offset, 2), major);
        File.WriteAllBytes(dll, bytes);
    }
}
