using System.Collections.ObjectModel;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Modules;
using SaltApi.Host.Plugins;

namespace SaltApi.Host.Modules;

/// <summary>A module the config enables: its type, its config section, and where a dotted key was written ("file, line N").</summary>
internal sealed record EnabledModule(NetapiModuleType Type, IReadOnlyDictionary<string, object?> Section, Func<string, string>? Where = null);

/// <summary>How the supervisor restarts and stops modules.</summary>
/// <param name="FirstBackoff">Delay before the first restart of a failed module.</param>
/// <param name="MaxBackoff">The backoff doubles up to this.</param>
/// <param name="StableAfter">A module that ran this long before failing restarts after <paramref name="FirstBackoff"/> again.</param>
/// <param name="StopTimeout">
/// The stop bound: how long a module has to drain its requests and return once stopping starts. Modules get it
/// as <see cref="NetapiModuleContext.StopTimeout"/>; the supervisor waits that long plus <see cref="StopGrace"/>.
/// </param>
internal sealed record SupervisorOptions(TimeSpan FirstBackoff, TimeSpan MaxBackoff, TimeSpan StableAfter, TimeSpan StopTimeout)
{
    /// <summary>Beyond the stop bound, for a module that drained to the bound to release its listener and return.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    public static SupervisorOptions Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), NetapiModuleContext.DefaultStopTimeout);
}

/// <summary>
/// Runs every enabled module on its own task and restarts one that throws, with exponential backoff,
/// while the others keep serving. Deliberate difference: Salt's ProcessManager restarts a dead module
/// process every 10 s without backoff; here modules share one process, so isolation is per task and a
/// crash loop backs off (1, 2, 4 ... 60 s).
/// </summary>
internal sealed class ModuleSupervisor(
    IReadOnlyList<EnabledModule> enabled,
    IReadOnlyDictionary<string, object?> masterConfig,
    INetapiClient client,
    IEventStream events,
    ILoggerFactory loggers,
    SupervisorOptions options,
    ReloadSignal? reload = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly ILogger log = loggers.CreateLogger("salt-api");
    private readonly List<Task> running = [];

    private readonly List<(string Key, TaskCompletionSource Settled)> settled = [];

    /// <summary>Starts every module's loop; returns at once.</summary>
    public void Start()
    {
        foreach (var module in enabled)
        {
            var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            settled.Add((module.Type.ConfigKey, first));
            running.Add(Task.Run(() => SuperviseAsync(module, first)));
        }
    }

    /// <summary>
    /// Waits until every module listens (or its first run ended: refused options, a failure), at most
    /// <paramref name="bound"/>; returns the modules still not listening then.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitListeningAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(settled.Select(s => s.Settled.Task));
        await Task.WhenAny(all, Task.Delay(bound, cancellationToken)).ConfigureAwait(false);
        return settled.Where(s => !s.Settled.Task.IsCompleted).Select(s => s.Key).ToList();
    }

    /// <summary>Cancels the modules' stop token and waits up to the stop bound for them to drain.</summary>
    public async Task StopAsync()
    {
        await stopping.CancelAsync();
        var all = Task.WhenAll(running);
        var finished = await Task.WhenAny(all, Task.Delay(options.StopTimeout + SupervisorOptions.StopGrace));
        if (finished != all)
        {
            log.LogWarning("Netapi modules did not stop within {Seconds} s; exiting anyway", options.StopTimeout.TotalSeconds);
        }
    }

    private async Task SuperviseAsync(EnabledModule module, TaskCompletionSource settledFirst)
    {
        try
        {
            await SuperviseLoopAsync(module, settledFirst);
        }
        finally
        {
            settledFirst.TrySetResult();
        }
    }

    private async Task SuperviseLoopAsync(EnabledModule module, TaskCompletionSource settledFirst)
    {
        var key = module.Type.ConfigKey;
        var moduleLog = loggers.CreateLogger(key);
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            try
            {
                var instance = module.Type.Create();
                var context = new NetapiModuleContext(ReadOnly(module.Section), ReadOnly(masterConfig), client, events, moduleLog, stopping.Token)
                {
                    StopTimeout = options.StopTimeout,
                    Listening = () =>
                    {
                        // At warning, so that the default log_level shows it: salt-api's CherryPy prints its
                        // "ENGINE Serving on ..." lines whatever the level; the module's own line is at info.
                        log.LogWarning("Netapi module '{Key}' ({Plugin} {Version}) is serving, port {Port}", key, module.Type.Plugin, module.Type.Version, PortOf(module.Section));
                        settledFirst.TrySetResult();
                    },
                    Reload = reload ?? new ReloadSignal(),
                };
                log.LogInformation("Starting netapi module '{Key}' ({Plugin} {Version})", key, module.Type.Plugin, module.Type.Version);
                await Task.Run(() => instance.RunAsync(context), CancellationToken.None);
                if (stopping.IsCancellationRequested)
                {
                    break;
                }

                log.LogError("Netapi module '{Key}' stopped serving on its own", key);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (NetapiConfigException e)
            {
                // Wrong options do not get better by restarting: one error, and the module stays stopped.
                log.LogError("{Message}", ModuleGate.Refusal(key, e, module.Where ?? (_ => "(default)")));
                break;
            }
            catch (Exception e)
            {
                if (stopping.IsCancellationRequested)
                {
                    log.LogWarning(e, "Netapi module '{Key}' failed while stopping", key);
                    break;
                }

                if (PortTaken(e))
                {
                    // The operator's to fix, and the message says how: no stack trace.
                    log.LogError("Netapi module '{Key}' died: {Message} Another process holds port {Port} (salt-api, or a second daemon with the same config?): stop it, or give '{Key}' another port", key, e.Message, PortOf(module.Section), key);
                }
                else
                {
                    log.LogError(e, "Netapi module '{Key}' died: {Message}", key, e.Message);
                }
            }

            settledFirst.TrySetResult();
            failures = DateTime.UtcNow - started >= options.StableAfter ? 1 : failures + 1;
            var delay = Backoff(failures, options);
            // As Salt's ProcessManager: "Process <target> died ..., restarting..."
            log.LogInformation("Restarting netapi module '{Key}' in {Seconds} s", key, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Whether a module failed because its address is taken (Kestrel's bind, or a socket of its own).</summary>
    internal static bool PortTaken(Exception e) =>
        e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
        || (e.InnerException is { } inner && PortTaken(inner));

    /// <summary>The section's <c>port</c> as written, for the start-up line.</summary>
    internal static string PortOf(IReadOnlyDictionary<string, object?> section) =>
        section.TryGetValue("port", out var port) ? Convert.ToString(port, System.Globalization.CultureInfo.InvariantCulture) ?? "?" : "?";

    /// <summary>The delay before restart number <paramref name="failures"/> (1-based): first, 2×first, 4×first, ... up to the max.</summary>
    internal static TimeSpan Backoff(int failures, SupervisorOptions options)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var ticks = Math.Min(options.FirstBackoff.Ticks * factor, options.MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A deep copy, so one module cannot change what another sees.</summary>
    internal static IReadOnlyDictionary<string, object?> ReadOnly(IReadOnlyDictionary<string, object?> map) =>
        new ReadOnlyDictionary<string, object?>((IDictionary<string, object?>)DeepCopy(map)!);

    private static object? DeepCopy(object? value) => value switch
    {
        IReadOnlyDictionary<string, object?> map => new OrderedDictionary<string, object?>(map.Select(kv => KeyValuePair.Create(kv.Key, DeepCopy(kv.Value))), StringComparer.Ordinal),
        List<object?> list => list.Select(DeepCopy).ToList(),
        byte[] bytes => bytes.ToArray(),
        _ => value,
    };

    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await StopAsync();
        }

        stopping.Dispose();
    }
}
