using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Channel;
using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Jobs;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Targeting;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.EmbeddedMaster.Wheel;
using SaltApi.Protocol.Config;
using SaltApi.Protocol.Values;
using SaltApi.PythonValues;

namespace SaltApi.EmbeddedMaster;

/// <summary>
/// A Salt master in-process: the request channel (ROUTER on <c>interface:ret_port</c>), the event bus
/// (unix sockets in <c>sock_dir</c>), eauth, ACLs, tokens, a job cache, runners, wheel and simulated
/// minions. Started by the daemon when the master config has an <c>embedded_master</c> section.
/// </summary>
public sealed class SaltMaster : IAsyncDisposable
{
    /// <summary>The master-config key that enables the embedded master (ours; Salt has no such key).</summary>
    public const string ConfigKey = "embedded_master";

    private readonly CancellationTokenSource stop = new();
    // The root keys written at start, removed at stop (the sock_dir files stay, as a real master's).
    private readonly List<string> createdFiles = [];
    private IRequestServer? server;
    private EventPublisher? bus;
    private Timer? cleaner;
    private Timer? presenceTimer;
    private MinionClock? clock;
    private int disposed;

    // Jobs waiting for their minion latency at once; beyond this a job waits on a coarse timer instead.
    private const int MinionClockCapacity = 100_000;

    private SaltMaster()
    {
    }

    /// <summary>The port the request channel is bound to (useful when <c>ret_port</c> is 0).</summary>
    public int RetPort { get; private set; }

    internal MasterContext? Context { get; private set; }

    /// <summary>Checks the embedded master's own options (<c>embedded_master</c>, <c>loop_interval</c>); every wrong one is recorded in <paramref name="root"/>'s errors.</summary>
    public static void CheckOptions(ConfigBinder root)
    {
        ArgumentNullException.ThrowIfNull(root);
        _ = Bind(root);
    }

    private static EmbeddedOptions Bind(ConfigBinder root)
    {
        _ = root.GetNumber("loop_interval", 60);
        return EmbeddedOptions.Bind(root);
    }

    /// <summary>Binds every socket and starts the minions. Throws when a socket cannot be bound.</summary>
    public static async Task<SaltMaster> StartAsync(IReadOnlyDictionary<string, object?> masterConfig, ILoggerFactory logging, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(masterConfig);
        ArgumentNullException.ThrowIfNull(logging);
        cancellationToken.ThrowIfCancellationRequested();
        var log = logging.CreateLogger("SaltApi.EmbeddedMaster");
        var binder = new ConfigBinder(masterConfig);
        var config = MasterConfig.Bind(binder);
        var options = Bind(binder);
        ConfigException.ThrowIfAny(binder);
        if (config.IpcMode != "ipc")
        {
            // Deliberate difference: the embedded master serves the bus on unix sockets only.
            log.LogWarning("embedded master: ipc_mode {Mode} is not supported; serving the event bus on unix sockets in {SockDir}", config.IpcMode, config.SockDir);
        }

        var master = new SaltMaster();
        try
        {
            master.StartCore(masterConfig, config, options, log);
        }
        catch
        {
            await master.DisposeAsync();
            throw;
        }

        return master;
    }

    private void StartCore(IReadOnlyDictionary<string, object?> opts, MasterConfig config, EmbeddedOptions options, ILogger log)
    {
        Directory.CreateDirectory(config.SockDir);
        Directory.CreateDirectory(config.CacheDir);
        // Every file name in the token dir is a live token: it is 0700 (an existing one with group or
        // other bits is fixed, and said so), never listable by other users.
        if (UnixFiles.EnsurePrivateDir(config.TokenDir, out var tokenDirMode) && log.IsEnabled(LogLevel.Warning))
        {
            log.LogWarning("token directory {Dir} had mode {Mode}: set to 0700 (its file names are live tokens)", config.TokenDir, Convert.ToString((int)tokenDirMode, 8));
        }

        bus = new EventPublisher(log, options.ReaderQueue, options.MaxBusReaders);
        var pubOpen = config.ExternalAuth.Count > 0 || opts.Get("publisher_acl") is not null and not false;
        bus.Start(config.EventPubPath, config.EventPullPath, pubOpen);

        var registry = new MinionRegistry(options);
        var ck = new CheckMinions(registry, config.Nodegroups);
        var externalAuth = config.ExternalAuth;
        var loadAuth = new LoadAuth(
            externalAuth,
            new EauthModules(externalAuth, opts, log),
            new TokenStore(config.TokenDir, config.HashType),
            new FailureDelay(options.AuthFailureDelay),
            opts,
            log);
        var jobs = new JobCache(config.CacheDir, config.HashType, config.KeepJobs, options.MaxJobs, options.MaxCachedReturns, options.WriteJobCache, log);
        var running = new RunningJobs();
        clock = new MinionClock(MinionClockCapacity, stop.Token);
        var executor = new MinionExecutor(registry, bus, jobs, running, clock, options.LatencyMs, log);
        var pki = opts.Get("pki_dir") as string ?? Path.Combine(config.CacheDir, "pki");
        var keys = new KeyStore(pki, registry, bus, config.HashType, log);
        keys.Load();
        var rootKeys = WriteRootKeys(opts, config.CacheDir);
        Context = new MasterContext(opts, config, options, bus, registry, ck, new Acl(ck), loadAuth, jobs, running, executor, keys, rootKeys, log, stop.Token);

        var clear = new ClearFuncs(Context);
        Func<byte[], Task<byte[]?>> handle = clear.HandleAsync;
        if (options.WorkersStartDelay > 0)
        {
            // workers_start_delay: as a salt-master whose MWorkers are not up yet, hold requests until they are.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var delay = TimeSpan.FromSeconds(options.WorkersStartDelay);
            var token = stop.Token;
            handle = async payload =>
            {
                var wait = delay - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, token);
                    }
                    catch (OperationCanceledException)
                    {
                        return null; // stopping: never answered
                    }
                }

                return await clear.HandleAsync(payload);
            };
        }

        // As Salt's ReqServerChannel.factory: the master's transport picks the request server.
        server = config.Transport == "tcp"
            ? new TcpRequestServer(log, handle, options.MaxPendingRequests, options.MaxConcurrentRequests, options.MaxRequestBytes)
            : new RequestServer(log, handle, options.MaxPendingRequests, options.MaxConcurrentRequests, options.MaxRequestBytes);
        try
        {
            server.Bind(config.Interface, config.RetPort);
        }
        catch (Exception e) when (e is NetMQ.AddressAlreadyInUseException or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
        {
            throw new PortTakenException(
                $"the embedded master cannot listen on {config.Interface}:{config.RetPort} (ret_port): another process holds it. "
                + "A salt-master on this host holds 4506: to serve that master, remove the embedded_master section and give the daemon its config (-c /etc/salt); "
                + "to run the demo beside it, give this config another ret_port (and other module ports), or stop the salt-master",
                e);
        }

        RetPort = server.Port;

        // The files whose existence salt-api takes as "the master runs" (NetapiClient, LocalClient).
        foreach (var marker in new[] { config.WorkersPath, Path.Combine(config.SockDir, "publish_pull.ipc") })
        {
            UnixFiles.WriteAtomic(marker, []);
        }

        cleaner = new Timer(_ => jobs.Clean(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var presence = new Presence(registry, bus);
        presence.FireStartEvents();
        if (PyValue.Truthy(opts.Get("presence_events")))
        {
            var interval = TimeSpan.FromSeconds(Math.Max(0.05, new ConfigBinder(opts).GetNumber("loop_interval", 60)));
            presenceTimer = new Timer(_ => presence.Tick(), null, interval, interval);
        }
        if (log.IsEnabled(LogLevel.Information))
        {
            log.LogInformation("embedded master listening on tcp://{Interface}:{Port}, event bus in {SockDir}, {Count} simulated minions", config.Interface, RetPort, config.SockDir, options.Minions.Count);
        }
    }

    // Salt's SMaster.__prep_key: a fresh random key per trusted local user in {cachedir}/.{user}_key (0400).
    private Dictionary<string, string> WriteRootKeys(IReadOnlyDictionary<string, object?> opts, string cachedir)
    {
        var users = new HashSet<string>(StringComparer.Ordinal) { opts.Get("user") as string ?? "root", Environment.UserName };
        users.UnionWith((Py.AsMap(opts.Get("publisher_acl")) ?? Py.Map()).Keys.Where(u => !u.Contains('*', StringComparison.Ordinal)));
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var user in users.Where(EmbeddedOptions.ValidId))
        {
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(56));
            var path = Path.Combine(cachedir, $".{user}_key");
            try
            {
                File.Delete(path);
                UnixFiles.WriteAtomic(path, System.Text.Encoding.ASCII.GetBytes(key), UnixFileMode.UserRead);
                createdFiles.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            keys[user] = key;
        }

        return keys;
    }

    /// <summary>
    /// Stops serving and releases the sockets; the job cache and tokens stay on disk. As a real master stopped with
    /// SIGTERM (or killed), the files in <c>sock_dir</c> stay: the event bus sockets and the "master running" markers
    /// (<c>workers.ipc</c>, <c>publish_pull.ipc</c>), so that clients see what they see during a real master's
    /// restart, a master that seems to run and does not answer. The next start replaces them.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stop.CancelAsync();
        clock?.Dispose();
        foreach (var part in new IAsyncDisposable?[] { cleaner, presenceTimer, server })
        {
            if (part is not null)
            {
                await part.DisposeAsync();
            }
        }

        Context?.Jobs.Complete();
        if (bus is not null)
        {
            await bus.DisposeAsync();
        }

        foreach (var f in createdFiles)
        {
            try
            {
                File.Delete(f);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}

/// <summary>A port the embedded master must listen on is held by another process; the message says what to do.</summary>
public sealed class PortTakenException(string message, Exception inner) : IOException(message, inner);
