namespace SaltApi.EmbeddedMaster.Values;

/// <summary>File writes with Salt's modes (no-ops for modes on Windows, where Salt does not set them either).</summary>
internal static class UnixFiles
{
    public const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode World = Owner | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    public const UnixFileMode Readable = Owner | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates a directory 0700, or takes group/other bits off an existing one. Answers true when an existing
    /// directory's mode had to be fixed (its old mode in <paramref name="was"/>), so the caller can say so.
    /// </summary>
    public static bool EnsurePrivateDir(string path, out UnixFileMode was)
    {
        was = PrivateDir;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return false;
        }

        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, PrivateDir);
        }

        was = File.GetUnixFileMode(path);
        if ((was & ~PrivateDir) == 0)
        {
            return false;
        }

        File.SetUnixFileMode(path, was & PrivateDir);
        return true;
    }

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Writes <c>path.tmp</c> (created owner-only) then renames it over <paramref name="path"/>; the final mode is applied before the rename.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> bytes, UnixFileMode mode = Owner)
    {
        var tmp = path + ".tmp";
        File.Delete(tmp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Owner;
        }

        using (var fs = new FileStream(tmp, options))
        {
            fs.Write(bytes);
        }

        SetMode(tmp, mode);
        File.Move(tmp, path, overwrite: true);
    }
}
