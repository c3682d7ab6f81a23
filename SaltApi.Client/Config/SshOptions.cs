using SaltApi.Protocol.Config;

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

    /// <summary>Binds the options from the master config and its <c>saltapi_client</c> map.</summary>
    public static SshOptions From(IReadOnlyDictionary<string, object?> opts, IReadOnlyDictionary<string, object?> own, string configKey)
    {
        var d = new SshOptions();
        var confFile = opts.GetValueOrDefault("conf_file") as string;
        var o = new SshOptions
        {
            Program = ConfigValues.GetString(own, "salt_ssh", d.Program, configKey),
            ConfigDir = opts.GetValueOrDefault("config_dir") as string
                ?? (confFile is { Length: > 0 } && Path.IsPathRooted(confFile) ? Path.GetDirectoryName(confFile)! : d.ConfigDir),
            PkiDir = opts.GetValueOrDefault("pki_dir") as string is { Length: > 0 } pki ? pki : d.PkiDir,
            Rosters = opts.GetValueOrDefault("rosters") is null ? [] : ConfigValues.GetStringList(opts, "rosters"),
            MaxProcesses = ConfigValues.GetInt(own, "salt_ssh_procs", d.MaxProcesses, configKey),
            QueueLength = ConfigValues.GetInt(own, "salt_ssh_queue", d.QueueLength, configKey),
            WallClock = ConfigValues.GetSeconds(own, "salt_ssh_wall_clock", d.WallClock, configKey),
            MaxOutput = ConfigValues.GetInt(own, "salt_ssh_max_output", d.MaxOutput, configKey),
        };
        if (o.Program.Length == 0)
        {
            throw new ConfigException($"{configKey}.salt_ssh", "must name a program");
        }

        if (o.MaxProcesses is < 1 or > 1024 || o.QueueLength is < 0 or > 65536)
        {
            throw new ConfigException($"{configKey}.salt_ssh_procs", "salt_ssh_procs must be between 1 and 1024, salt_ssh_queue between 0 and 65536");
        }

        if (o.WallClock is <= 0 or > 86400 || double.IsNaN(o.WallClock))
        {
            throw new ConfigException($"{configKey}.salt_ssh_wall_clock", "must be between 0 and 86400 (seconds)");
        }

        if (o.MaxOutput < 1024)
        {
            throw new ConfigException($"{configKey}.salt_ssh_max_output", "must be at least 1024 (bytes)");
        }

        return o;
    }
}
