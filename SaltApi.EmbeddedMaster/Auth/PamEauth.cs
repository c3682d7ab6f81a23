using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// salt/auth/pam.py: pam_start(service) + pam_authenticate + pam_acct_mgmt through libpam, the
/// conversation answering echo-off prompts with the password. Service from <c>auth.pam.service</c>
/// (default <c>login</c>). Groups are the user's OS groups (salt.utils.user.get_group_list).
/// </summary>
internal sealed partial class PamEauth(string service, ILogger log) : IEauthBackend
{
    private const int PamSuccess = 0;
    private const int PamPromptEchoOff = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PamMessage
    {
        public int MsgStyle;
        public IntPtr Msg;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PamResponse
    {
        public IntPtr Resp;
        public int RespRetcode;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PamConv
    {
        public IntPtr Conv;
        public IntPtr AppData;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int ConvFunc(int numMsg, IntPtr msg, IntPtr resp, IntPtr appData);

    [LibraryImport("libpam.so.0", EntryPoint = "pam_start", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PamStart(string service, string user, ref PamConv conv, out IntPtr handle);

    [LibraryImport("libpam.so.0", EntryPoint = "pam_authenticate")]
    private static partial int PamAuthenticate(IntPtr handle, int flags);

    [LibraryImport("libpam.so.0", EntryPoint = "pam_acct_mgmt")]
    private static partial int PamAcctMgmt(IntPtr handle, int flags);

    [LibraryImport("libpam.so.0", EntryPoint = "pam_end")]
    private static partial int PamEnd(IntPtr handle, int status);

    public bool Authenticate(string username, string password)
    {
        if (!OperatingSystem.IsLinux())
        {
            log.LogError("eauth pam: only available on Linux");
            return false;
        }

        var pwd = Marshal.StringToCoTaskMemUTF8(password);
        ConvFunc conv = (numMsg, msgs, resp, appData) =>
        {
            if (numMsg is <= 0 or > 32)
            {
                return 19; // PAM_CONV_ERR
            }

            // The response array and strings are freed by libpam with free(): allocate with malloc.
            var size = Marshal.SizeOf<PamResponse>();
            var array = Marshal.AllocHGlobal(size * numMsg);
            for (var i = 0; i < numMsg; i++)
            {
                var msgPtr = Marshal.ReadIntPtr(msgs, i * IntPtr.Size);
                var m = Marshal.PtrToStructure<PamMessage>(msgPtr);
                var r = new PamResponse
                {
                    Resp = m.MsgStyle == PamPromptEchoOff ? Marshal.StringToHGlobalAnsi(Marshal.PtrToStringUTF8(pwd)) : IntPtr.Zero,
                    RespRetcode = 0,
                };
                Marshal.StructureToPtr(r, array + (i * size), false);
            }

            Marshal.WriteIntPtr(resp, array);
            return PamSuccess;
        };
        var c = new PamConv { Conv = Marshal.GetFunctionPointerForDelegate(conv), AppData = IntPtr.Zero };
        try
        {
            var rc = PamStart(service, username, ref c, out var handle);
            if (rc != PamSuccess)
            {
                log.LogWarning("eauth pam: pam_start failed ({Code})", rc);
                return false;
            }

            rc = PamAuthenticate(handle, 0);
            if (rc == PamSuccess)
            {
                rc = PamAcctMgmt(handle, 0);
            }

            _ = PamEnd(handle, rc);
            return rc == PamSuccess;
        }
        catch (DllNotFoundException)
        {
            log.LogError("eauth pam: libpam.so.0 is not installed");
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            log.LogError("eauth pam: libpam.so.0 lacks the PAM entry points");
            return false;
        }
        finally
        {
            GC.KeepAlive(conv);
            // Clear the copy of the password before freeing it.
            var len = password.Length * 4;
            for (var i = 0; i < len; i++)
            {
                if (Marshal.ReadByte(pwd, i) == 0)
                {
                    break;
                }

                Marshal.WriteByte(pwd, i, 0);
            }

            Marshal.FreeCoTaskMem(pwd);
        }
    }

    /// <summary>The user's groups: primary group from /etc/passwd and memberships from /etc/group.</summary>
    public IReadOnlyList<string>? Groups(string username) => OsGroups.Of(username);
}

/// <summary>Salt's <c>get_group_list</c> from the local account files.</summary>
internal static class OsGroups
{
    public static IReadOnlyList<string> Of(string username)
    {
        var groups = new List<string>();
        try
        {
            string? gid = null;
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var f = line.Split(':');
                if (f.Length > 3 && f[0] == username)
                {
                    gid = f[3];
                    break;
                }
            }

            foreach (var line in File.ReadLines("/etc/group"))
            {
                var f = line.Split(':');
                if (f.Length < 4)
                {
                    continue;
                }

                if ((f[2] == gid || f[3].Split(',').Contains(username)) && !groups.Contains(f[0]))
                {
                    groups.Add(f[0]);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        groups.Sort(StringComparer.Ordinal);
        return groups;
    }
}
