using SaltApi.Host.Cli;

namespace SaltApi.Host.Tests;

public class CommandLineTests
{
    [Fact]
    public void Nothing_given_leaves_everything_to_the_config()
    {
        var c = CommandLineParser.Parse([]);
        Assert.Null(c.ConfigDir);
        Assert.Null(c.LogLevel);
        Assert.Null(c.PidFile);
        Assert.False(c.Daemon);
    }

    [Theory]
    [InlineData("-c", "/etc/x")]
    [InlineData("-c/etc/x")]
    [InlineData("--config-dir=/etc/x")]
    [InlineData("--config-dir", "/etc/x")]
    [InlineData("--config=/etc/x")]
    public void Config_dir_in_every_optparse_spelling(params string[] args) =>
        Assert.Equal("/etc/x", CommandLineParser.Parse(args).ConfigDir);

    [Fact]
    public void Logging_and_pid_options()
    {
        var c = CommandLineParser.Parse(["-l", "DEBUG", "--log-file", "api.log", "--log-file-level=trace", "--pid-file=/run/x.pid"]);
        Assert.Equal("debug", c.LogLevel);
        Assert.Equal("api.log", c.LogFile);
        Assert.Equal("trace", c.LogFileLevel);
        Assert.Equal("/run/x.pid", c.PidFile);
        Assert.Equal("info", CommandLineParser.Parse(["-linfo"]).LogLevel);
    }

    [Fact]
    public void Flags()
    {
        Assert.True(CommandLineParser.Parse(["--version"]).Version);
        Assert.True(CommandLineParser.Parse(["-V"]).VersionsReport);
        Assert.True(CommandLineParser.Parse(["--versions"]).VersionsReport);
        Assert.True(CommandLineParser.Parse(["-h"]).Help);
        Assert.True(CommandLineParser.Parse(["-d"]).Daemon);
        var grouped = CommandLineParser.Parse(["-dc", "/x"]);
        Assert.True(grouped.Daemon);
        Assert.Equal("/x", grouped.ConfigDir);
    }

    [Theory]
    [InlineData("no such option: --bogus", "--bogus")]
    [InlineData("no such option: -x", "-x")]
    [InlineData("-c option requires 1 argument", "-c")]
    [InlineData("option -l: invalid choice: 'loud' (choose from 'all', ", "-l", "loud")]
    [InlineData("option --log-file-level: invalid choice: 'x'", "--log-file-l=x")]
    [InlineData("ambiguous option: --ver", "--ver")]
    public void Errors_in_optparse_words(string expected, params string[] args)
    {
        var e = Assert.Throws<CommandLineException>(() => CommandLineParser.Parse(args));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("Usage: salt-api [options]\n\nsalt-api: error: ", CommandLineParser.ErrorText(e.Message));
    }

    [Fact]
    public void Help_text_lists_every_option_in_optparse_layout()
    {
        var help = CommandLineParser.HelpText("/etc/salt");
        Assert.StartsWith("Usage: salt-api [options]\n\nThe Salt API system manages network API connectors for the Salt Master\n\nOptions:\n", help);
        Assert.Contains("\n  --version             show program's version number and exit\n", help);
        Assert.Contains("\n  -V, --versions-report\n                        Show program's dependencies version number and exit.\n", help);
        Assert.Contains("\n  -h, --help            show this help message and exit\n", help);
        Assert.Contains("  -c CONFIG_DIR, --config-dir=CONFIG_DIR\n", help);
        Assert.Contains("Default: '/etc/salt'.", help);
        Assert.Contains("\n  Logging Options:\n", help);
        Assert.Contains("    -l LOG_LEVEL, --log-level=LOG_LEVEL\n", help);
        Assert.Contains("--log-file=API_LOGFILE", help);
        Assert.Contains("--log-file-level=LOG_LEVEL_LOGFILE", help);
        Assert.All(help.Split('\n'), line => Assert.True(line.Length <= 80, line));
    }

    [Fact]
    public void Version_line_and_report_in_salts_form()
    {
        Assert.Matches(@"^salt-api \d+\.\d+\.\d+.* \(SaltApi\)$", VersionReport.VersionLine);
        var report = VersionReport.Report([("RestWsgi", "1.0.0")]);
        var lines = report.Split('\n');
        Assert.Equal("Salt Version:", lines[0]);
        Assert.Contains("Dependency Versions:", lines);
        Assert.Contains("System Versions:", lines);
        // Entries are right-aligned on one column: every ": " sits at the same place.
        var entries = lines.Where(l => l.StartsWith(' ') && l.Contains(": ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(entries);
        Assert.Single(entries.Select(l => l.IndexOf(": ", StringComparison.Ordinal)).Distinct());
        Assert.Contains(entries, l => l.TrimStart().StartsWith("YamlDotNet: 16.3.0", StringComparison.Ordinal));
        Assert.Contains(entries, l => l.TrimStart().StartsWith("RestWsgi: 1.0.0", StringComparison.Ordinal));
        Assert.Contains(" ", lines);
    }
}
