using SaltApi.Client.Tests.Support;

namespace SaltApi.Client.Tests.Ssh;

/// <summary>
/// A stand-in for the salt-ssh program: a shell script in a temp folder. salt-ssh is an external program the ssh
/// client starts, not a wire; these scripts test what happens around it (who may start it, its bounds).
/// </summary>
internal sealed class FakeSaltSsh : IDisposable
{
    private readonly TempDir dir = new();

    public FakeSaltSsh(string body)
    {
        Program = Path.Combine(dir.Path, "salt-ssh");
        File.WriteAllText(Program, $"#!/bin/sh\nD='{dir.Path}'\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Records its argv (one argument a line) to argv.&lt;pid&gt; and answers <c>{"web1": true}</c>.</summary>
    public static FakeSaltSsh Recording() => new("""
        printf '%s\n' "$@" > "$D/argv.$$"
        echo '{"web1": true}'
        """);

    public string Program { get; }

    public string Dir => dir.Path;

    /// <summary>How many times it was started.</summary>
    public int Starts => Directory.GetFiles(dir.Path, "argv.*").Length;

    public void Dispose() => dir.Dispose();
}
