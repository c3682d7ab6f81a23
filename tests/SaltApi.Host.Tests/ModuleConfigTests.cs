using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Modules;
using SaltApi.Host.Modules;
using SaltApi.Host.Plugins;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary>A module's wrong options: one error at start naming the key and the file, no restart loop; the stop bound.</summary>
public class ModuleConfigTests
{
    private static readonly SupervisorOptions Fast = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(3));

    [Fact]
    public async Task A_bad_rest_wsgi_port_is_one_error_naming_key_and_file_and_rest_cherrypy_still_serves()
    {
        var plugins = TestPlugins.Folder("CrashingModule");
        try
        {
            await using var daemon = await Daemon.StartAsync(
                extraYaml: Crashing(plugins),
                configure: dir => Rewrite(dir, WsgiPort(), "rest_wsgi:\n  port: banana"),
                waitForPorts: []);
            await daemon.WaitForPortAsync(daemon.CherrypyPort, TimeSpan.FromSeconds(60));
            using (var response = await daemon.Http.GetAsync(daemon.Cherrypy))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var output = await AfterTwoRestartsAsync(daemon);
            var errors = output.Split('\n').Where(l => l.Contains("rest_wsgi", StringComparison.Ordinal) && l.StartsWith("[ERROR", StringComparison.Ordinal)).ToList();
            var error = Assert.Single(errors);
            Assert.Contains("Not loading 'rest_wsgi': invalid option: rest_wsgi.port: expected a TCP port (0-65535), not 'banana'", error, StringComparison.Ordinal);
            Assert.Contains($"({Path.Combine(daemon.Dir, "master")}, line ", error, StringComparison.Ordinal);
            Assert.DoesNotContain("Restarting netapi module 'rest_wsgi'", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Starting netapi module 'rest_wsgi'", output, StringComparison.Ordinal);
            Assert.False(daemon.HasExited);
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }

    /// <summary>The test plugin that throws at every start, as a module of the daemon's config.</summary>
    private static string Crashing(string plugins) => $"netapi_plugin_dirs: [{plugins}]\ncrashing_module:\n  marker: {plugins}/crashes\n";

    /// <summary>
    /// The control for "no restart loop": waits until the crashing module beside the refused one has been
    /// restarted twice by the same supervisor (after 1 s, then 2 s), then returns the daemon's output.
    /// </summary>
    private static async Task<string> AfterTwoRestartsAsync(Daemon daemon)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (Regex.Count(daemon.Output, "Starting netapi module 'crashing_module'") < 3)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"the crashing module was not restarted twice:\n{daemon.Output}");
            await Task.Delay(50);
        }

        return daemon.Output;
    }


    [Fact]
    public async Task Every_bad_rest_cherrypy_option_is_on_one_line_and_rest_wsgi_still_serves()
    {
        var plugins = TestPlugins.Folder("CrashingModule");
        try
        {
            await using var daemon = await Daemon.StartAsync(
                extraYaml: Crashing(plugins),
                configure: dir => Rewrite(dir, new Regex("  disable_ssl: true"), "  disable_ssl: true\n  thread_pool: many\n  ssl_min_version: '1.1'"),
                waitForPorts: []);
            await daemon.WaitForPortAsync(daemon.WsgiPort, TimeSpan.FromSeconds(60));
            var output = await AfterTwoRestartsAsync(daemon);
            var error = Assert.Single(output.Split('\n'), l => l.Contains("Not loading 'rest_cherrypy'", StringComparison.Ordinal));
            Assert.Contains("invalid options: rest_cherrypy.ssl_min_version: must be 1.2 or 1.3, not '1.1'", error, StringComparison.Ordinal);
            Assert.Contains("rest_cherrypy.thread_pool: expected an integer, not 'many'", error, StringComparison.Ordinal);
            Assert.Contains($"({Path.Combine(daemon.Dir, "master")}, line ", error, StringComparison.Ordinal);
            Assert.DoesNotContain("Restarting netapi module 'rest_cherrypy'", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }

    [Fact]
    public void The_refusal_names_each_key_where_it_was_written()
    {
        var e = new NetapiConfigException([new ConfigProblem("m.port", "bad"), new ConfigProblem("m.other", "worse")]);
        var line = ModuleGate.Refusal("m", e, key => key switch
        {
            "m.port" => "/etc/salt/master.d/m.conf, line 2",
            "m" => "/etc/salt/master.d/m.conf, line 1",
            _ => "(default)",
        });
        Assert.Equal("Not loading 'm': invalid options: m.port: bad (/etc/salt/master.d/m.conf, line 2); m.other: worse (/etc/salt/master.d/m.conf, line 1)", line);
    }

    [Fact]
    public async Task A_module_refusing_its_options_while_running_is_not_restarted()
    {
        BadOptions.Starts = 0;
        Crashes.Starts = 0;
        var modules = new List<EnabledModule>
        {
            new(new NetapiModuleType("T", "t.dll", "1", typeof(BadOptions), "bad_options"), new Dictionary<string, object?>()),
            new(new NetapiModuleType("T", "t.dll", "1", typeof(Crashes), "crashes"), new Dictionary<string, object?>()),
        };
        await using var supervisor = new ModuleSupervisor(modules, new Dictionary<string, object?>(), new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast);
        supervisor.Start();

        // The control: a crashing module beside it restarts every 10-40 ms with these options; once it has been
        // restarted five times, a restart of the refusing one would have shown too.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref Crashes.Starts) < 6)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"the crashing module started {Crashes.Starts} times");
            await Task.Delay(10);
        }

        Assert.Equal(1, Volatile.Read(ref BadOptions.Starts));
        await supervisor.StopAsync();
    }

    [Fact]
    public async Task Modules_get_the_hosts_stop_bound()
    {
        StopBound.Seen = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var modules = new List<EnabledModule> { new(new NetapiModuleType("T", "t.dll", "1", typeof(StopBound), "stop_bound"), new Dictionary<string, object?>()) };
        await using var supervisor = new ModuleSupervisor(modules, new Dictionary<string, object?>(), new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast);
        supervisor.Start();
        Assert.Equal(TimeSpan.FromSeconds(3), await StopBound.Seen.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await supervisor.StopAsync();
        Assert.Equal(TimeSpan.FromSeconds(10), SupervisorOptions.Default.StopTimeout);
    }

    private static Regex WsgiPort() => new(@"rest_wsgi:\n  port: \d+");

    private static void Rewrite(string dir, Regex what, string with)
    {
        var file = Path.Combine(dir, "master");
        var text = File.ReadAllText(file);
        Assert.Matches(what, text);
        File.WriteAllText(file, what.Replace(text, with, 1));
    }

    public sealed class BadOptions : INetapiModule
    {
        internal static int Starts;

        public string ConfigKey => "bad_options";

        public Task RunAsync(NetapiModuleContext context)
        {
            Interlocked.Increment(ref Starts);
            throw new NetapiConfigException("bad_options.port", "expected a TCP port");
        }
    }

    public sealed class Crashes : INetapiModule
    {
        internal static int Starts;

        public string ConfigKey => "crashes";

        public Task RunAsync(NetapiModuleContext context)
        {
            Interlocked.Increment(ref Starts);
            throw new InvalidOperationException("crashes always fails to start");
        }
    }

    public sealed class StopBound : INetapiModule
    {
        internal static TaskCompletionSource<TimeSpan> Seen = new();

        public string ConfigKey => "stop_bound";

        public async Task RunAsync(NetapiModuleContext context)
        {
            Seen.TrySetResult(context.StopTimeout);
            await Task.Delay(Timeout.Infinite, context.Stopping);
        }
    }

    private sealed class NoClient : INetapiClient
    {
        public IReadOnlyList<string> Clients => [];

        public Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IReadOnlyList<object?>? Permissions(SaltToken token) => null;

        public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class NoEvents : IEventStream
    {
        public IEventSubscription Subscribe() => throw new NotSupportedException();
    }
}
