using System.Text.RegularExpressions;
using SaltApi.Host.Cli;
using SaltApi.Host.Configuration;
using SaltApi.Host.Hosting;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>
/// The one config binder: a config with several wrong values (the master's, the daemon's, a module's section,
/// api_acl) is refused at start with every one of them listed, each with its file and line, as YARP's config
/// validation lists every wrong route; not only the first.
/// </summary>
public sealed partial class ConfigBinderDaemonTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-binder-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task The_daemon_exits_non_zero_listing_every_wrong_value_of_the_master_a_module_section_and_api_acl()
    {
        var tornado = FreePort.Next();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Daemon.StartAsync(
            extraYaml: $"""
                keep_jobs: forever
                log_granular_levels:
                  salt: loud
                saltapi_client:
                  request_threads: 0
                rest_tornado:
                  port: {tornado}
                  address: 127.0.0.1
                  thread_pool: many
                  api_acl:
                    users:
                      saltdev:
                        a: b
                """,
            configure: d => File.WriteAllText(
                Path.Combine(d, "master"),
                CherrypySection().Replace(File.ReadAllText(Path.Combine(d, "master")), "$0\n  api_acl: saltdev", 1)),
            waitForPorts: [tornado]));
        var output = e.Message;
        Assert.StartsWith("the daemon exited with 1:", output, StringComparison.Ordinal);
        string[] expected =
        [
            "key 'log_granular_levels.salt': expected a log level name, not 'loud'",
            "key 'keep_jobs': expected a number, not 'forever'",
            "key 'saltapi_client.request_threads': must be from 1 to 64, not 0",
            "Not loading 'rest_cherrypy': invalid option: rest_cherrypy.api_acl: expected a map, not 'saltdev'",
            "Not loading 'rest_tornado': invalid options: rest_tornado.thread_pool: expected an integer, not 'many'",
            "rest_tornado.api_acl.users.saltdev: expected an address or a list of addresses, not a map",
        ];
        foreach (var line in expected)
        {
            Assert.Contains(line, output, StringComparison.Ordinal);
        }

        // Each on an [ERROR] line of its own, naming the file and line it was written on; nothing started.
        var errors = output.Split('\n').Where(l => l.StartsWith("[ERROR", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, errors.Count);
        Assert.All(errors, l => Assert.Contains(", line ", l, StringComparison.Ordinal));
        Assert.DoesNotContain("listening on", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_wrong_master_and_daemon_value_is_one_error_with_its_own_file_line_and_key()
    {
        File.WriteAllText(Path.Combine(dir, "master"), "timeout: soon\nret_port: 99999\nlog_level: loud\nembedded_master:\n  minions: many\nsaltapi_ops:\n  port: 1\n  metrics: maybe\n");
        var config = MasterConfigLoader.Load(Path.Combine(dir, "master"), n => n == "HOME" ? "/nonexistent-home" : null);
        var e = Assert.Throws<ConfigFileException>(() => DaemonOptions.From(config, new CommandLine()));
        Assert.Equal(
            [("log_level", 3), ("embedded_master.minions", 5), ("ret_port", 2), ("timeout", 1), ("saltapi_ops.metrics", 8)],
            e.All.Select(a => (a.Key!, a.Line)));
        Assert.All(e.All, a => Assert.Equal(Path.Combine(dir, "master"), a.File));
        Assert.Contains("not 'soon'", e.All.Single(a => a.Key == "timeout").Problem, StringComparison.Ordinal);
        Assert.Equal(("log_level", 3), (e.Key, e.Line)); // the first, as before
    }

    [GeneratedRegex(@"rest_cherrypy:\n  port: \d+")]
    private static partial Regex CherrypySection();
}
