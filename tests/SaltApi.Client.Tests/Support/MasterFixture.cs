using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.EmbeddedMaster;

namespace SaltApi.Client.Tests.Support;

/// <summary>
/// The real embedded master (ROUTER on a free port, bus sockets in a temp sock_dir) and the real client
/// layer on top of it: file eauth with saltdev (everything) and limited (test.* only), minions
/// ms--0 … ms--4 that answer and quiet1 that never does. The request channel runs over ZeroMQ here and over
/// Salt's TCP transport in <see cref="TcpMasterFixture"/>.
/// </summary>
public class MasterFixture : IAsyncLifetime, IDisposable
{
    public const string Password = "saltdev";

    private readonly TempDir dir = new();

    public EmbeddedMaster.SaltMaster Master { get; private set; } = null!;

    public SaltClientLayer Layer { get; private set; } = null!;

    public string SockDir => Path.Combine(dir.Path, "s");

    public OrderedDictionary<string, object?> Config { get; private set; } = null!;

    /// <summary>The master's <c>transport</c>: the request channel both sides speak.</summary>
    public virtual string Transport => "zeromq";

    /// <summary>Options added to the config of the master and the client layer.</summary>
    protected virtual void Configure(OrderedDictionary<string, object?> config)
    {
    }

    public static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            m[k] = v;
        }

        return m;
    }

    public static OrderedDictionary<string, object?> MakeConfig(string root, int port, Action<OrderedDictionary<string, object?>>? tweak = null)
    {
        var cfg = Map(
            ("interface", "127.0.0.1"),
            ("ret_port", (long)port),
            ("sock_dir", Path.Combine(root, "s")),
            ("cachedir", Path.Combine(root, "c")),
            ("timeout", 1L),
            // find_job's publish waits gather_job_timeout and is not sent again once it reached the master: 3 s so
            // that a loaded machine does not fail the stragglers' ping.
            ("gather_job_timeout", 3L),
            ("netapi_enable_clients", new List<object?> { "local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "ssh", "wheel", "wheel_async" }),
            ("external_auth", Map(
                ("file", Map(
                    ("^filename", Path.Combine(root, "users")),
                    ("^filetype", "text"),
                    ("saltdev", new List<object?> { ".*", "@runner", "@wheel", "@jobs" }),
                    ("limited", new List<object?> { "test.*" }),
                    ("*", new List<object?> { "test.ping" }),
                    ("adm%", new List<object?> { "grains.*", Map(("ms--1", new List<object?> { "test.*" })) }))))),
            (EmbeddedMaster.SaltMaster.ConfigKey, Map(
                ("minions", new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4", "quiet1" }),
                ("silent", new List<object?> { "quiet1" }),
                ("latency_ms", 1L),
                ("auth_failure_delay", 0.05))));
        tweak?.Invoke(cfg);
        return cfg;
    }

    public static void WriteUsers(string root) =>
        File.WriteAllText(Path.Combine(root, "users"), "saltdev:saltdev\nlimited:saltdev\n");

    public async Task InitializeAsync()
    {
        WriteUsers(dir.Path);
        Config = MakeConfig(dir.Path, 0, c =>
        {
            c["transport"] = Transport;
            Configure(c);
        });
        Master = await EmbeddedMaster.SaltMaster.StartAsync(Config, NullLoggerFactory.Instance);
        Config["ret_port"] = (long)Master.RetPort;
        Layer = SaltClientLayer.Create(Config, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        await Layer.DisposeAsync();
        await Master.DisposeAsync();
        dir.Dispose();
    }

    public void Dispose()
    {
        dir.Dispose();
        GC.SuppressFinalize(this);
    }

    public Task<IReadOnlyList<object?>> Run(params (string Key, object? Value)[] low) =>
        Layer.Client.RunAsync(Map(low), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    public static (string, object?)[] Eauth(string user = "saltdev") => [("eauth", "file"), ("username", user), ("password", Password)];
}

/// <summary>The same master and client layer with <c>transport: tcp</c>.</summary>
public sealed class TcpMasterFixture : MasterFixture
{
    public override string Transport => "tcp";
}
