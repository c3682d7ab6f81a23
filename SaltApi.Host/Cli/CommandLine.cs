using System.Text;
using SaltApi.Host.Logging;

namespace SaltApi.Host.Cli;

/// <summary>What the command line asked for. Null means "not given": the config file decides (spec/06 §1).</summary>
internal sealed record CommandLine
{
    public string? ConfigDir { get; init; }

    public string? PidFile { get; init; }

    public string? LogLevel { get; init; }

    public string? LogFile { get; init; }

    public string? LogFileLevel { get; init; }

    public bool Daemon { get; init; }

    public bool Version { get; init; }

    public bool VersionsReport { get; init; }

    public bool Help { get; init; }

    /// <summary>Positional arguments; salt-api takes none and ignores them.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
}

/// <summary>A command-line error in optparse's words; printed after the usage line, exit status 2.</summary>
internal sealed class CommandLineException(string message) : Exception(message);

/// <summary>
/// salt-api's command line (salt.utils.parsers.SaltAPIParser, an optparse parser): short options with
/// attached or separate values, long options with <c>=</c> or a separate value, unique prefixes of long
/// options, <c>--</c> ending the options.
/// </summary>
internal static class CommandLineParser
{
    public const string Prog = "salt-api";

    private sealed record Option(string? Short, string Long, string? Metavar, Func<CommandLine, string?, string, CommandLine> Apply);

    private static readonly Option[] Options =
    [
        new(null, "--version", null, (c, _, _) => c with { Version = true }),
        new("-V", "--versions-report", null, (c, _, _) => c with { VersionsReport = true }),
        new("-h", "--help", null, (c, _, _) => c with { Help = true }),
        new("-c", "--config-dir", "CONFIG_DIR", (c, v, _) => c with { ConfigDir = v }),
        new("-d", "--daemon", null, (c, _, _) => c with { Daemon = true }),
        new(null, "--pid-file", "PIDFILE", (c, v, _) => c with { PidFile = v }),
        new("-l", "--log-level", "LOG_LEVEL", (c, v, typed) => c with { LogLevel = CheckLevel(typed, v!) }),
        new(null, "--log-file", "API_LOGFILE", (c, v, typed) => c with { LogFile = CheckLogFile(typed, v!) }),
        new(null, "--log-file-level", "LOG_LEVEL_LOGFILE", (c, v, typed) => c with { LogFileLevel = CheckLevel(typed, v!) }),
    ];

    /// <summary>Parses the arguments; throws <see cref="CommandLineException"/> as optparse would error.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var result = new CommandLine();
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                positional.AddRange(args.Skip(i + 1));
                break;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                var name = eq >= 0 ? arg[..eq] : arg;
                var option = MatchLong(name);
                string? value = null;
                if (option.Metavar is not null)
                {
                    if (eq >= 0)
                    {
                        value = arg[(eq + 1)..];
                    }
                    else if (i + 1 < args.Count)
                    {
                        value = args[++i];
                    }
                    else
                    {
                        throw new CommandLineException($"{option.Long} option requires 1 argument");
                    }
                }
                else if (eq >= 0)
                {
                    throw new CommandLineException($"{option.Long} option does not take a value");
                }

                result = option.Apply(result, value, option.Long);
                continue;
            }

            if (arg.Length > 1 && arg[0] == '-')
            {
                // Grouped short flags (-dV) and attached values (-c/etc/salt, -ldebug).
                for (var j = 1; j < arg.Length; j++)
                {
                    var flag = "-" + arg[j];
                    var option = Options.FirstOrDefault(o => o.Short == flag) ?? throw new CommandLineException($"no such option: {flag}");
                    if (option.Metavar is null)
                    {
                        result = option.Apply(result, null, flag);
                        continue;
                    }

                    string value;
                    if (j + 1 < arg.Length)
                    {
                        value = arg[(j + 1)..];
                    }
                    else if (i + 1 < args.Count)
                    {
                        value = args[++i];
                    }
                    else
                    {
                        throw new CommandLineException($"{flag} option requires 1 argument");
                    }

                    result = option.Apply(result, value, flag);
                    break;
                }

                continue;
            }

            positional.Add(arg);
        }

        return result with { Arguments = positional };
    }

    private static Option MatchLong(string name)
    {
        var exact = Options.FirstOrDefault(o => o.Long == name);
        if (exact is not null)
        {
            return exact;
        }

        // optparse accepts any unambiguous prefix of a long option.
        var candidates = Options.Where(o => o.Long.StartsWith(name, StringComparison.Ordinal)).ToList();
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new CommandLineException($"no such option: {name}"),
            _ => throw new CommandLineException($"ambiguous option: {name} ({string.Join(", ", candidates.Select(c => c.Long))}?)"),
        };
    }

    private static string CheckLevel(string option, string value) =>
        SaltLogLevels.TryParse(value, out _)
            ? value.ToLowerInvariant()
            : throw new CommandLineException($"option {option}: invalid choice: '{value}' (choose from {string.Join(", ", SaltLogLevels.Names.Select(n => $"'{n}'"))})");

    // A syslog URL must name a known facility and a valid port, as Salt's handler setup checks.
    private static string CheckLogFile(string option, string value)
    {
        if (SyslogTarget.IsUrl(value))
        {
            try
            {
                _ = SyslogTarget.Parse(value);
            }
            catch (FormatException e)
            {
                throw new CommandLineException($"option {option}: {e.Message}");
            }
        }

        return value;
    }

    /// <summary>The usage line optparse prints before an error.</summary>
    public static string Usage => $"Usage: {Prog} [options]";

    /// <summary>What optparse prints for an error: usage, then "prog: error: message" (stderr, exit 2).</summary>
    public static string ErrorText(string message) => $"{Usage}\n\n{Prog}: error: {message}\n";

    /// <summary>The -h text, laid out as optparse's IndentedHelpFormatter does for SaltAPIParser.</summary>
    public static string HelpText(string defaultConfigDir)
    {
        var levels = string.Join(", ", SaltLogLevels.Names.Select(n => $"'{n}'"));
        var sb = new StringBuilder();
        sb.Append(Usage).Append("\n\n");
        sb.Append("The Salt API system manages network API connectors for the Salt Master\n\n");
        sb.Append("Options:\n");
        Entry(sb, "  ", "--version", "show program's version number and exit");
        Entry(sb, "  ", "-V, --versions-report", "Show program's dependencies version number and exit.");
        Entry(sb, "  ", "-h, --help", "show this help message and exit");
        Entry(sb, "  ", "-c CONFIG_DIR, --config-dir=CONFIG_DIR", $"Pass in an alternative configuration directory. Default: '{defaultConfigDir}'.");
        Entry(sb, "  ", "-d, --daemon", "Run the salt-api as a daemon.");
        Entry(sb, "  ", "--pid-file=PIDFILE", "Specify the location of the pidfile. Default: '/var/run/salt-api.pid'.");
        sb.Append('\n');
        sb.Append("  Logging Options:\n");
        sb.Append("    Logging options which override any settings defined on the\n");
        sb.Append("    configuration files.\n\n");
        Entry(sb, "    ", "-l LOG_LEVEL, --log-level=LOG_LEVEL", $"Console logging log level. One of {levels}. Default: 'warning'.");
        Entry(sb, "    ", "--log-file=API_LOGFILE", "Log file path. Default: '/var/log/salt/api'.");
        Entry(sb, "    ", "--log-file-level=LOG_LEVEL_LOGFILE", $"Logfile logging log level. One of {levels}. Default: 'warning'.");
        return sb.ToString();
    }

    // optparse: option strings in a 24-column field; help wrapped to the 80-column terminal width.
    private static void Entry(StringBuilder sb, string indent, string opts, string help)
    {
        const int helpColumn = 24;
        const int width = 80 - 2;
        var head = indent + opts;
        var lines = Wrap(help, width - helpColumn);
        if (head.Length + 2 <= helpColumn)
        {
            sb.Append(head.PadRight(helpColumn)).Append(lines[0]).Append('\n');
            lines.RemoveAt(0);
        }
        else
        {
            sb.Append(head).Append('\n');
        }

        foreach (var line in lines)
        {
            sb.Append(new string(' ', helpColumn)).Append(line).Append('\n');
        }
    }

    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }

            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        lines.Add(line.ToString());
        return lines;
    }
}
