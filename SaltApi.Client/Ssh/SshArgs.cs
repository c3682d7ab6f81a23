using System.Globalization;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Lowstate;
using SaltApi.Protocol.Values;
using SaltApi.PythonValues;

namespace SaltApi.Client.Ssh;

/// <summary>A salt-ssh command line and the secrets that go to it through a Saltfile, never the command line.</summary>
internal sealed record SshCommand(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, object?> Secrets, IReadOnlyList<string> Dropped);

/// <summary>
/// SSHClient.cmd_sync and _prep_ssh as a salt-ssh command line: only sanitize_kwargs's option names pass, cast to
/// its types, each as one <c>--option=value</c> argument; the target, function and arguments follow <c>--</c>,
/// so that no value is ever read as an option. Salt's history here is CVE-2020-16846 (shell injection through
/// ssh_priv and other options): nothing goes through a shell.
/// </summary>
internal static class SshArgs
{
    private enum Kind
    {
        Str,
        Int,
        Bool,
        List,
    }

    /// <summary>Marks an option whose value goes to the Saltfile (a password: never on a command line that ps shows).</summary>
    private const string Secret = "(saltfile)";

    /// <summary>
    /// SSHClient.sanitize_kwargs's names and types, with salt-ssh's option for each. Null: salt-ssh has no option for it
    /// (host, ssh_port, ssh_sudo_user, ssh_timeout: give them in the roster), or it is refused on purpose: ssh_log_file
    /// (a file anywhere the master's user may write), rosters (would widen the roster folders roster_file is checked
    /// against), saltfile (a file on the master host that could set any option), ssh_askpass (no terminal to ask on),
    /// verbose (would put text before the JSON), ssh_key_deploy (salt-api takes it but its run_iter never calls
    /// key_deploy; salt-ssh's run() would copy a key to the hosts). These are dropped, with a warning in the log.
    /// </summary>
    private static readonly (string Name, Kind Kind, string? Flag)[] Options =
    [
        ("host", Kind.Str, null),
        ("ssh_user", Kind.Str, "--user"),
        ("ssh_passwd", Kind.Str, Secret),
        ("ssh_port", Kind.Int, null),
        ("ssh_sudo", Kind.Bool, "--sudo"),
        ("ssh_sudo_user", Kind.Str, null),
        ("ssh_priv", Kind.Str, "--priv"),
        ("ssh_priv_passwd", Kind.Str, Secret),
        ("ssh_identities_only", Kind.Bool, "--identities-only"),
        ("ssh_remote_port_forwards", Kind.Str, "--remote-port-forwards"),
        ("ssh_options", Kind.List, "--ssh-option"),
        ("ssh_max_procs", Kind.Int, "--max-procs"),
        ("ssh_askpass", Kind.Bool, null),
        ("ssh_key_deploy", Kind.Bool, null), // SSHClient's run_iter never deploys keys; salt-ssh's command line would
        ("ssh_update_roster", Kind.Bool, "--update-roster"),
        ("ssh_scan_ports", Kind.Str, "--scan-ports"),
        ("ssh_scan_timeout", Kind.Int, "--scan-timeout"),
        ("ssh_timeout", Kind.Int, null),
        ("ssh_log_file", Kind.Str, null),
        ("raw_shell", Kind.Bool, "--raw-shell"),
        ("refresh_cache", Kind.Bool, "--refresh-cache"),
        ("roster", Kind.Str, "--roster"),
        ("roster_file", Kind.Str, "--roster-file"),
        ("rosters", Kind.List, null),
        ("ignore_host_keys", Kind.Bool, "--ignore-host-keys"),
        ("extra_filerefs", Kind.Str, "--extra-filerefs"),
        ("min_extra_mods", Kind.Str, "--min-extra-modules"),
        ("thin_extra_mods", Kind.Str, "--thin-extra-modules"),
        ("verbose", Kind.Bool, null),
        ("static", Kind.Bool, null), // always given: one JSON document
        ("ssh_wipe", Kind.Bool, "--wipe"),
        ("rand_thin_dir", Kind.Bool, "--rand-thin-dir"),
        ("regen_thin", Kind.Bool, "--regen-thin"),
        ("ssh_run_pre_flight", Kind.Bool, "--pre-flight"),
        ("no_host_keys", Kind.Bool, "--no-host-keys"),
        ("saltfile", Kind.Str, null),
    ];

    /// <summary>
    /// sanitize_kwargs filters "ProxyCommand" in any string. Deliberate difference: ssh reads its options without
    /// regard to case, and these others run a command too; all are filtered, in any case.
    /// </summary>
    private static readonly string[] Unsafe = ["proxycommand", "localcommand", "knownhostscommand", "match "];

    /// <summary>salt-ssh's target options (TargetOptionsMixIn) for the tgt_type values a roster can match.</summary>
    private static readonly Dictionary<string, string?> TargetFlags = new(StringComparer.Ordinal)
    {
        ["glob"] = null,
        ["pcre"] = "--pcre",
        ["list"] = "--list",
        ["grain"] = "--grain",
        ["grain_pcre"] = "--grain-pcre",
        ["nodegroup"] = "--nodegroup",
        ["range"] = "--range",
        ["ipcidr"] = "--ipcidr",
    };

    /// <summary>Builds the command line for a lowstate whose <c>fun</c> is one function name.</summary>
    public static SshCommand Build(IReadOnlyDictionary<string, object?> low, SshOptions options, string? saltfile, string? jid = null)
    {
        var tgtType = low.GetValueOrDefault("tgt_type") is { } tt ? PyValue.Str(tt) : "glob";
        if (!TargetFlags.TryGetValue(tgtType, out var tgtFlag))
        {
            throw new SaltInvocationException($"tgt_type '{tgtType}' is not supported by salt-ssh");
        }

        var tgt = low.GetValueOrDefault("tgt") switch
        {
            string s => s,
            List<object?> list when tgtType == "list" && list.All(i => i is string) => string.Join(',', list.Cast<string>()),
            _ => throw new SaltInvocationException("ssh: 'tgt' must be a string"),
        };
        if (tgt.Length == 0)
        {
            throw new SaltInvocationException("ssh: 'tgt' must not be empty");
        }

        if (low.GetValueOrDefault("fun") is not string fun || fun.Length == 0)
        {
            throw new SaltInvocationException("ssh: 'fun' must be one function name");
        }

        var argv = new List<string> { "-c", options.ConfigDir, "--out=json", "--static", "--no-color" };
        if (tgtFlag is not null)
        {
            argv.Add(tgtFlag);
        }

        // _prep_ssh: "if timeout: opts['timeout'] = timeout".
        if (PyValue.Truthy(low.GetValueOrDefault("timeout")) && ToInt(low["timeout"]) is { } timeout)
        {
            argv.Add("--timeout=" + timeout.ToString(CultureInfo.InvariantCulture));
        }

        var secrets = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var dropped = new List<string>();
        foreach (var (name, kind, flag) in Options)
        {
            if (!low.TryGetValue(name, out var raw))
            {
                continue;
            }

            var value = Cast(kind, raw);
            if (value is null || flag is null)
            {
                dropped.Add(name);
                continue;
            }

            switch (value)
            {
                case bool b:
                    if (b)
                    {
                        argv.Add(flag);
                    }

                    break;
                case long l:
                    argv.Add(flag + "=" + l.ToString(CultureInfo.InvariantCulture));
                    break;
                case List<string> items:
                    argv.AddRange(items.Select(i => flag + "=" + i));
                    break;
                case string s when flag == Secret:
                    secrets[name] = s;
                    break;
                case string s when name == "roster_file":
                    argv.Add(flag + "=" + RosterFile(s, options.Rosters));
                    break;
                case string s:
                    argv.Add(flag + "=" + s);
                    break;
            }
        }

        if (saltfile is not null)
        {
            // Always one of ours (maybe empty): salt-ssh would otherwise read $SALT_SALTFILE, ./Saltfile or ~/.salt/Saltfile.
            argv.Add("--saltfile=" + saltfile);
        }

        if (jid is not null)
        {
            argv.Add("--jid=" + jid);
        }

        argv.Add("--");
        argv.Add(tgt);
        argv.Add(fun);
        // condition_input, then salt.client.ssh._convert_args: a map becomes key=value arguments, the rest str().
        foreach (var arg in ClientLowstate.ConditionInput(ClientLowstate.ArgList(low.GetValueOrDefault("arg")), low.GetValueOrDefault("kwarg")))
        {
            if (arg is IReadOnlyDictionary<string, object?> map)
            {
                argv.AddRange(map.Where(kv => kv.Key != "__kwarg__").Select(kv => kv.Key + "=" + PyValue.Str(kv.Value)));
            }
            else
            {
                argv.Add(PyValue.Str(arg));
            }
        }

        if (argv.Exists(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new SaltInvocationException("ssh: an argument holds a NUL character");
        }

        return new SshCommand(argv, secrets, dropped);
    }

    /// <summary>
    /// salt.roster.get_roster_file with <c>__disable_custom_roster</c> (as salt-api sets it): the name is looked up in
    /// each configured roster folder. Deliberate difference: a name found in none of them is refused (400); Salt then
    /// falls back to the name as given, any path on the master host. A name that leaves its folder is refused too.
    /// </summary>
    internal static string RosterFile(string name, IReadOnlyList<string> rosters)
    {
        var relative = name.Trim('/');
        if (relative.Length > 0)
        {
            foreach (var folder in rosters)
            {
                var root = Path.GetFullPath(folder);
                var file = Path.GetFullPath(Path.Combine(root, relative));
                if (file.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(file))
                {
                    return file;
                }
            }
        }

        throw new SaltInvocationException($"roster_file '{name}' is not a file in the configured rosters");
    }

    /// <summary>sanitize_kwargs's cast; null when Python's cast fails (or would raise) or the value is unsafe.</summary>
    private static object? Cast(Kind kind, object? v) => kind switch
    {
        Kind.Bool => PyValue.Truthy(v),
        Kind.Int => ToInt(v),
        Kind.Str => PyValue.Str(v) is var s && IsSafe(s) ? s : null,
        _ => v is List<object?> list ? list.OfType<string>().Where(IsSafe).ToList() : null,
    };

    private static bool IsSafe(string s) =>
        !Array.Exists(Unsafe, u => s.TrimStart().Contains(u, StringComparison.OrdinalIgnoreCase) && (u != "match " || s.TrimStart().StartsWith(u, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Python's <c>int(value)</c> for the values a lowstate holds; null where it raises.</summary>
    private static long? ToInt(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d when double.IsFinite(d) && Math.Abs(d) < 9e18 => (long)Math.Truncate(d),
        string s => ConfigBinder.PythonInt(s),
        _ => null,
    };
}
