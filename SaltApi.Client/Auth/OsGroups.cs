using System.Runtime.InteropServices;

namespace SaltApi.Client.Auth;

/// <summary>
/// salt.auth.pam.groups: salt.utils.user.get_group_list, the names of the groups whose ids
/// <c>os.getgrouplist(user, pw_gid)</c> gives (the system's name service, as the master's Python asks it).
/// </summary>
internal static unsafe partial class OsGroups
{
    private const int ERANGE = 34;

    /// <summary>The user's group names, sorted; null when the user is not known to this host (or not on Linux).</summary>
    public static List<string>? Of(string user)
    {
        if (!OperatingSystem.IsLinux() || user.Length == 0 || user.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            if (PrimaryGid(user) is not { } gid)
            {
                return null;
            }

            var ngroups = 64;
            uint[] gids;
            while (true)
            {
                gids = new uint[ngroups];
                var n = ngroups;
                fixed (uint* p = gids)
                {
                    if (GetGroupList(user, gid, p, &n) >= 0)
                    {
                        ngroups = n;
                        break;
                    }
                }

                if (n <= ngroups || n > 65536)
                {
                    return null;
                }

                ngroups = n;
            }

            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var g in gids.AsSpan(0, ngroups))
            {
                if (GroupName(g) is { } name)
                {
                    names.Add(name);
                }
            }

            return [.. names];
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static uint? PrimaryGid(string user)
    {
        for (var size = 1024; size <= 1 << 20; size *= 4)
        {
            var buf = new byte[size];
            Passwd pwd;
            Passwd* result;
            int rc;
            fixed (byte* b = buf)
            {
                rc = GetPwNamR(user, &pwd, b, (nuint)size, &result);
            }

            if (rc == ERANGE)
            {
                continue;
            }

            return rc == 0 && result != null ? pwd.Gid : null;
        }

        return null;
    }

    private static string? GroupName(uint gid)
    {
        for (var size = 1024; size <= 1 << 20; size *= 4)
        {
            var buf = new byte[size];
            Group grp;
            Group* result;
            fixed (byte* b = buf)
            {
                var rc = GetGrGidR(gid, &grp, b, (nuint)size, &result);
                if (rc == ERANGE)
                {
                    continue;
                }

                return rc == 0 && result != null && grp.Name != null ? Marshal.PtrToStringUTF8((IntPtr)grp.Name) : null;
            }
        }

        return null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Dir;
        public byte* Shell;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Group
    {
        public byte* Name;
        public byte* Password;
        public uint Gid;
        public byte** Members;
    }

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int GetPwNamR(string name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getgrgid_r")]
    private static partial int GetGrGidR(uint gid, Group* grp, byte* buf, nuint buflen, Group** result);

    [LibraryImport("libc", EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int GetGroupList(string user, uint group, uint* groups, int* ngroups);
}
