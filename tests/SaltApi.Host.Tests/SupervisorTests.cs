using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Modules;
using SaltApi.Host.Modules;
using SaltApi.Host.Plugins;

namespace SaltApi.Host.Tests;

public class SupervisorTests
{
    private static readonly SupervisorOptions Fast = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10));

    [Fact]
    public void Backoff_doubles_up_to_the_bound()
    {
        var o = new SupervisorOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10));
        Assert.Equal(
            [1, 2, 4, 8, 16, 32, 60, 60],
            Enumerable.Range(1, 8).Select(n => ModuleSupervisor.Backoff(n, o).TotalSeconds));
        Assert.Equal(60, ModuleSupervisor.Backoff(1000, o).TotalSeconds);
    }

    [Fact]
    public async Task A_crashing_module_is_restarted_while_another_keeps_running_and_stop_drains()
    {
        Crashing.Starts = 0;
        Serving.Running = 0;
        Serving.Drained = 0;
        var modules = new List<EnabledModule>
        {
            new(new NetapiModuleType("T", "t.dll", "1", typeof(Crashing), "crashing"), new Dictionary<string, object?>()),
            new(new NetapiModuleType("T", "t.dll", "1", typeof(Serving), "serving"), new Dictionary<string, object?> { ["port"] = 1L }),
        };
        await using var supervisor = new ModuleSupervisor(modules, new Dictionary<string, object?>(), new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast);
        supervisor.Start();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref Crashing.Starts) < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(Volatile.Read(ref Crashing.Starts) >= 4);
        Assert.Equal(1, Volatile.Read(ref Serving.Running));
        await supervisor.StopAsync();
        Assert.Equal(1, Volatile.Read(ref Serving.Drained));
    }

    [Fact]
    public async Task Modules_get_a_copy_of_their_section_and_the_whole_config()
    {
        Recording.Seen = new TaskCompletionSource<NetapiModuleContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var section = new OrderedDictionary<string, object?> { ["port"] = 5L, ["nested"] = new OrderedDictionary<string, object?> { ["k"] = "v" } };
        var config = new OrderedDictionary<string, object?> { ["recording"] = section, ["timeout"] = 5L };
        var modules = new List<EnabledModule> { new(new NetapiModuleType("T", "t.dll", "1", typeof(Recording), "recording"), section) };
        await using var supervisor = new ModuleSupervisor(modules, config, new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast);
        supervisor.Start();
        var context = await Recording.Seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5L, context.Section["port"]);
        Assert.Equal(5L, context.MasterConfig["timeout"]);
        Assert.False(context.Stopping.IsCancellationRequested);
        // A module that casts and changes its copy changes nothing for the daemon.
        ((OrderedDictionary<string, object?>)context.Section["nested"]!)["k"] = "changed";
        Assert.Equal("v", ((OrderedDictionary<string, object?>)section["nested"]!)["k"]);
        Assert.Throws<NotSupportedException>(() => ((IDictionary<string, object?>)context.MasterConfig)["timeout"] = 1L);
        await supervisor.StopAsync();
        Assert.True(context.Stopping.IsCancellationRequested);
    }

    [Fact]
    public async Task Ready_waits_for_every_module_to_listen_or_fail_and_names_one_that_does_neither()
    {
        Listens.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var modules = new List<EnabledModule>
        {
            new(new NetapiModuleType("T", "t.dll", "1", typeof(Listens), "listens"), new Dictionary<string, object?>()),
            new(new NetapiModuleType("T", "t.dll", "1", typeof(Crashing), "crashing"), new Dictionary<string, object?>()),
        };
        await using (var supervisor = new ModuleSupervisor(modules, new Dictionary<string, object?>(), new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast))
        {
            supervisor.Start();
            var wait = supervisor.WaitListeningAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
            Assert.False(wait.IsCompleted);   // "listens" waits on the gate: only it (or the 2-minute bound) can end the wait
            Listens.Gate.SetResult();
            Assert.Empty(await wait.WaitAsync(TimeSpan.FromSeconds(60)));   // "crashing" counts once its first run failed
        }

        // A module that never reports listening holds the start only for the bound, and is named.
        var silent = new List<EnabledModule> { new(new NetapiModuleType("T", "t.dll", "1", typeof(Serving), "serving"), new Dictionary<string, object?>()) };
        await using var other = new ModuleSupervisor(silent, new Dictionary<string, object?>(), new NoClient(), new NoEvents(), NullLoggerFactory.Instance, Fast);
        other.Start();
        Assert.Equal(["serving"], await other.WaitListeningAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));
    }

    public sealed class Listens : INetapiModule
    {
        internal static TaskCompletionSource Gate = new();

        public string ConfigKey => "listens";

        public async Task RunAsync(NetapiModuleContext context)
        {
            await Gate.Task;
            context.Listening?.Invoke();
            await Task.Delay(Timeout.Infinite, context.Stopping);
        }
    }

    public sealed class Crashing : INetapiModule
    {
        internal static int Starts;

        public string ConfigKey => "crashing";

        public Task RunAsync(NetapiModuleContext context)
        {
            Interlocked.Increment(ref Starts);
            throw new InvalidOperationException("boom");
        }
    }

    public sealed class Serving : INetapiModule
    {
        internal static int Running;
        internal static int Drained;

        public string ConfigKey => "serving";

        public async Task RunAsync(NetapiModuleContext context)
        {
            Interlocked.Increment(ref Running);
            try
            {
                await Task.Delay(Timeout.Infinite, context.Stopping);
            }
            catch (OperationCanceledException)
            {
            }

            await Task.Yield();
            Interlocked.Increment(ref Drained);
        }
    }

    public sealed class Recording : INetapiModule
    {
        internal static TaskCompletionSource<NetapiModuleContext> Seen = new();

        public string ConfigKey => "recording";

        public async Task RunAsync(NetapiModuleContext context)
        {
            Seen.TrySetResult(context);
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
