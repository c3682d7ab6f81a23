using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Modules;
using SaltApi.Client;
using SaltApi.Host.Modules;

namespace SaltApi.Host.Hosting;

/// <summary>
/// The daemon's run: the embedded master (when configured), the shared client layer, then every enabled
/// module under the supervisor; stopping reverses it, draining modules within the stop bound.
/// </summary>
internal sealed class SaltApiService(
    IReadOnlyDictionary<string, object?> opts,
    DaemonOptions options,
    IReadOnlyList<EnabledModule> enabled,
    SupervisorOptions supervision,
    ILoggerFactory loggers,
    SignalState signals) : IHostedService, IAsyncDisposable
{
    private readonly ILogger log = loggers.CreateLogger("salt-api");
    private EmbeddedMaster.SaltMaster? master;
    private SaltClientLayer? layer;
    private ModuleSupervisor? supervisor;
    private Ops.OpsListener? ops;

    /// <summary>How long start waits for the modules to listen.</summary>
    internal static readonly TimeSpan ListenBound = TimeSpan.FromSeconds(30);

    /// <summary>Why start failed, already logged; the daemon exits non-zero.</summary>
    public Exception? StartFailure { get; private set; }

    /// <summary>The master config's <c>user</c> to drop root for, or null to stay as started.</summary>
    public SystemUser? SwitchTo { get; init; }

    /// <summary>Files opened as root (pidfile, log file) that are given to <see cref="SwitchTo"/>.</summary>
    public IReadOnlyList<string> OwnedFiles { get; init; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (options.EmbeddedMaster)
            {
                log.LogInformation("Starting the embedded master on {Uri}", options.Master.MasterUri);
                master = await EmbeddedMaster.SaltMaster.StartAsync(opts, loggers, cancellationToken);
            }

            if (SwitchTo is { } user)
            {
                SwitchUser(user);
            }

            layer = SaltClientLayer.Create(opts, loggers);
            supervisor = new ModuleSupervisor(enabled, opts, layer.Client, layer.Events, loggers, supervision, signals.Reload);
            supervisor.Start();
            if (options.Ops is { } opsOptions)
            {
                var client = layer;
                ops = await Ops.OpsListener.StartAsync(opsOptions, client.IsReadyAsync, loggers, cancellationToken);
            }

            // Ready (systemd's READY=1, the end of `salt-api -d`) once the modules listen, within a bound:
            // a module that waits without listening (TLS without a certificate) does not hold the start.
            var late = await supervisor.WaitListeningAsync(ListenBound, cancellationToken);
            if (late.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Netapi module(s) {Modules} not listening after {Seconds} s; reporting the salt-api started anyway", string.Join(", ", late), ListenBound.TotalSeconds);
            }
        }
        catch (Exception e)
        {
            StartFailure = e;
            // A port taken is the operator's to fix, and the message says how: no stack trace.
            log.LogCritical(e is EmbeddedMaster.PortTakenException ? null : e, "The salt-api could not start: {Message}", e.Message);
            await DisposeAllAsync();
            throw;
        }
    }

    /// <summary>
    /// As salt-api's start(): check_user before the modules run, so they bind and serve as the master's user
    /// (ports below 1024 then need CAP_NET_BIND_SERVICE, as for salt-api). The pidfile, the log file and the
    /// embedded master's folders are given to the user first, as Salt's verify_env does.
    /// </summary>
    private void SwitchUser(SystemUser user)
    {
        var owned = OwnedFiles.ToList();
        if (master is not null)
        {
            owned.AddRange([options.Master.CacheDir, options.Master.SockDir, opts.TryGetValue("pki_dir", out var pki) && pki is string p ? p : Path.Combine(options.Master.CacheDir, "pki")]);
        }

        UserSwitch.Chown(user, owned);
        if (UserSwitch.SwitchTo(user) is { } failure)
        {
            // Never keep running as root when another user is configured.
            throw new InvalidOperationException($"Salt configured to run as user \"{user.Name}\" but unable to switch: {failure}");
        }

        log.LogInformation("Running as user \"{User}\" (uid {Uid}, gid {Gid})", user.Name, user.Uid, user.Gid);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // As salt-api: "The salt-api is shutting down.." then "The salt-api is shutdown. ... received a SIGTERM. Exited."
        log.LogInformation("The salt-api is shutting down..");
        await DisposeAllAsync();
        log.LogInformation("The salt-api is shutdown. salt-api received a {Signal}. Exited.", signals.Received ?? "stop request");
    }

    public async ValueTask DisposeAsync() => await DisposeAllAsync();

    private async Task DisposeAllAsync()
    {
        if (ops is not null)
        {
            await ops.DisposeAsync();
            ops = null;
        }

        if (supervisor is not null)
        {
            await supervisor.DisposeAsync(); // stops the modules first, as StopAsync
            supervisor = null;
        }

        if (layer is not null)
        {
            await layer.DisposeAsync();
            layer = null;
        }

        if (master is not null)
        {
            await master.DisposeAsync();
            master = null;
        }
    }
}

/// <summary>The last stop signal received, for the shutdown message.</summary>
internal sealed class SignalState
{
    public string? Received { get; set; }

    /// <summary>Raised on SIGHUP: every module re-reads its certificates.</summary>
    public ReloadSignal Reload { get; } = new();
}
