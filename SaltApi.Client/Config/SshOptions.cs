using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Client.Config;

/// <summary>
/// How the <c>ssh</c> client runs the master host's salt-ssh: Salt's own <c>rosters</c> and config dir, plus
/// our bounds under <c>saltapi_client</c> (names Salt does not have: <c>salt_ssh*</c>).
/// </summary>
internal sealed record SshOptions
{
    /// <summary><c>saltapi_client.salt_ssh</c>: the program, a path or a name looked up on PATH.</summary>
    public string Program { get; init; } = "salt-ssh";

    /// <summary>The master's config dir (<c>-c</c>): the folder of the config file the daemon read.</summary>
    public string ConfigDir { get; init; } = "/etc/salt";

    /// <summary>The master's <c>rosters</c>: the folders a lowstate's <c>roster_file</c> may name a file in.</summary>
    public IReadOnlyList<string> Rosters { get; init; } = [];

    /// <summary>The master's <c>pki_dir</c>: its <c>minions</c> folder holds the accepted minion keys.</summary>
    public string PkiDir { get; init; } = "/etc/salt/pki/master";

    /// <summary><c>saltapi_client.salt_ssh_procs</c>: salt-ssh processes running at once.</summary>
    public int MaxProcesses { get; init; } = 4;

    /// <summary><c>saltapi_client.salt_ssh_queue</c>: calls waiting for a process; one more is a 503.</summary>
    public int QueueLength { get; init; } = 32;

    /// <summary><c>saltapi_client.salt_ssh_wall_clock</c>: seconds a call may take, queue included, before its process group is killed.</summary>
    public double WallClock { get; init; } = 300;

    /// <summary><c>saltapi_client.salt_ssh_max_output</c>: bytes of salt-ssh's output read; more fails the call.</summary>
    public int MaxOutput { get; init; } = 16 * 1024 * 1024;

    /// <summary>Binds the options from the master config (<paramref name="b"/>) and its <c>saltapi_client</c> map (<paramref name="own"/>); every wrong option is recorded.</summary>
    public static SshOptions Bind(ConfigBinder b, ConfigBinder own)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(own);
        var opts = b.Values;
        var d = new SshOptions();
        var confFile = opts.GetValueOrDefault("conf_file") as string;
        var o = new SshOptions
        {
            Program = own.GetString("salt_ssh", d.Program),
            ConfigDir = opts.GetValueOrDefault("config_dir") as string
                ?? (confFile is { Length: > 0 } && Path.IsPathRooted(confFile) ? Path.GetDirectoryName(confFile)! : d.ConfigDir),
            PkiDir = opts.GetValueOrDefault("pki_dir") as string is { Length: > 0 } pki ? pki : d.PkiDir,
            Rosters = b.GetList("rosters") ?? [],
            MaxProcesses = own.GetInt("salt_ssh_procs", d.MaxProcesses, 1, 1024),
            QueueLength = own.GetInt("salt_ssh_queue", d.QueueLength, 0, 65536),
            WallClock = own.GetNumber("salt_ssh_wall_clock", d.WallClock, 0, 86400),
            MaxOutput = own.GetInt("salt_ssh_max_output", d.MaxOutput, 1024),
        };
        if (o.Program.Length == 0)
        {
            own.Problem("salt_ssh", "must name a program");
            o = o with { Program = d.Program };
        }

        if (o.WallClock <= 0)
        {
            own.Problem("salt_ssh_wall_clock", "must be more than 0 and at most 86400 (seconds)");
            o = o with { WallClock = d.WallClock };
        }

        return o;
    }
}
