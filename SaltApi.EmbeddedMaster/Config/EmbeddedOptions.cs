using System.Globalization;
using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.EmbeddedMaster.Config;

/// <summary>One simulated minion as configured: its id and extra grains.</summary>
internal sealed record MinionSpec(string Id, IReadOnlyDictionary<string, object?> Grains);

/// <summary>
/// Our own options, from the <c>embedded_master:</c> map (Salt has no such section). Unknown keys are
/// ignored; wrong types fail the start.
/// </summary>
internal sealed record EmbeddedOptions
{
    private const string ConfigKey = SaltMaster.ConfigKey;

    /// <summary>The simulated minions (<c>minions: 5</c> → <c>ms--0</c> … <c>ms--4</c>, or a list of ids / maps).</summary>
    public IReadOnlyList<MinionSpec> Minions { get; init; } = [];

    /// <summary><c>latency_ms</c>: how long a minion takes to answer a job.</summary>
    public double LatencyMs { get; init; } = 5;

    /// <summary><c>silent</c>: ids of minions that never answer.</summary>
    public IReadOnlySet<string> Silent { get; init; } = new HashSet<string>();

    /// <summary><c>silent_share</c>: fraction (0..1) of minions that never answer (the last ones by id order).</summary>
    public double SilentShare { get; init; }

    /// <summary><c>grains</c>: grains added to every simulated minion.</summary>
    public IReadOnlyDictionary<string, object?> Grains { get; init; } = ConfigBinder.Empty;

    /// <summary><c>auth_failure_delay</c>: Salt's initial failed-auth delay M in seconds (1.0).</summary>
    public double AuthFailureDelay { get; init; } = 1.0;

    /// <summary><c>max_jobs</c>: the job cache never holds more jobs than this (oldest dropped first).</summary>
    public int MaxJobs { get; init; } = 10000;

    /// <summary><c>max_cached_returns</c>: minion returns kept in the job cache in all (oldest jobs dropped first).</summary>
    public long MaxCachedReturns { get; init; } = 2_000_000;

    /// <summary><c>max_pending_requests</c>: requests queued beyond this are dropped (the client retries).</summary>
    public int MaxPendingRequests { get; init; } = 10000;

    /// <summary><c>max_concurrent_requests</c>: requests handled at once.</summary>
    public int MaxConcurrentRequests { get; init; } = 256;

    /// <summary><c>max_request_bytes</c>: the largest request the ret port accepts (ZeroMQ drops the peer's larger messages).</summary>
    public long MaxRequestBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary><c>reader_queue</c>: frames a bus reader may fall behind before it is disconnected.</summary>
    public int ReaderQueue { get; init; } = 100_000;

    /// <summary><c>max_bus_readers</c>: connections accepted on each bus socket.</summary>
    public int MaxBusReaders { get; init; } = 1024;

    /// <summary>
    /// <c>publish_delay_ms</c>: how long the master takes to answer a publish (0). A real master's publish takes
    /// tens of milliseconds (a worker picks it up, checks eauth, writes the job cache, sends it to the minions);
    /// this lets a bench or a test see the client wait for it. The wait is asynchronous: no worker is held.
    /// </summary>
    public double PublishDelayMs { get; init; }

    /// <summary>
    /// <c>workers_start_delay</c>: seconds after the start during which the ret port takes requests but no worker answers
    /// them (0). A salt-master binds ret_port at once, but its MWorkers take 10-25 s to start on a loaded host; its queue
    /// device holds what comes meanwhile and the workers run it when they start. Here too: requests are held and handled
    /// when the delay ends. For tests and benches of a master's restart.
    /// </summary>
    public double WorkersStartDelay { get; init; }

    /// <summary>
    /// <c>write_job_cache</c>: also write each job's load under <c>{cachedir}/jobs</c> as Salt's local_cache does.
    /// Off by default: the job cache is kept in memory, and the files cost more than the rest of a publish
    /// (four files created and removed per job). Deliberate difference: Salt always writes them.
    /// </summary>
    public bool WriteJobCache { get; init; }

    /// <summary>Binds the options from the <c>embedded_master</c> value (a map, or null/empty for defaults); throws one <see cref="ConfigException"/> naming every wrong option.</summary>
    public static EmbeddedOptions From(object? section) => ConfigException.Bind(new Dictionary<string, object?> { [ConfigKey] = section }, Bind);

    /// <summary>Binds the options from the top of a master config; every wrong option is recorded in <paramref name="root"/>'s errors.</summary>
    public static EmbeddedOptions Bind(ConfigBinder root)
    {
        ArgumentNullException.ThrowIfNull(root);
        // embedded_master: true (or an empty key) is the defaults.
        var map = root.Values.GetValueOrDefault(ConfigKey) is bool ? new ConfigBinder(ConfigBinder.Empty, ConfigKey) : root.Section(ConfigKey);
        var minions = ParseMinions(map);
        var silent = new HashSet<string>(StringComparer.Ordinal);
        var share = 0.0;
        switch (map.Values.GetValueOrDefault("silent"))
        {
            case null: break;
            case double or long: share = map.GetNumber("silent", 0, 0, 1); break;
            case string str: silent.Add(str); break;
            case IEnumerable<object?> list: silent.UnionWith(list.Select(id => Convert.ToString(id, CultureInfo.InvariantCulture) ?? "")); break;
            default: map.Problem("silent", "expected a list of minion ids or a share between 0 and 1"); break;
        }

        return new EmbeddedOptions
        {
            Minions = minions,
            LatencyMs = map.GetNumber("latency_ms", 5, 0),
            PublishDelayMs = map.GetNumber("publish_delay_ms", 0, 0, 600_000),
            WorkersStartDelay = map.GetNumber("workers_start_delay", 0, 0, 3600),
            Silent = silent,
            SilentShare = share,
            Grains = map.GetMap("grains") ?? ConfigBinder.Empty,
            AuthFailureDelay = map.GetNumber("auth_failure_delay", 1.0, 0),
            MaxJobs = map.GetInt("max_jobs", 10000, 1),
            MaxCachedReturns = map.GetLong("max_cached_returns", 2_000_000, 1),
            MaxPendingRequests = map.GetInt("max_pending_requests", 10000, 1),
            MaxConcurrentRequests = map.GetInt("max_concurrent_requests", 256, 1),
            ReaderQueue = map.GetInt("reader_queue", 100_000, 1),
            MaxRequestBytes = map.GetLong("max_request_bytes", 100L * 1024 * 1024, 1024),
            MaxBusReaders = map.GetInt("max_bus_readers", 1024, 1),
            WriteJobCache = map.GetBool("write_job_cache", false),
        };
    }

    private static List<MinionSpec> ParseMinions(ConfigBinder section)
    {
        const string Key = "minions";
        switch (section.Values.GetValueOrDefault(Key))
        {
            case null:
                return Numbered(5);
            case long or string when section.GetInt(Key, -1, 0, 1_000_000) is var n and >= 0:
                return Numbered(n);
            case IEnumerable<object?> list:
                var result = new List<MinionSpec>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in list)
                {
                    MinionSpec? spec = item switch
                    {
                        string id => new MinionSpec(id, ConfigBinder.Empty),
                        long l => new MinionSpec(l.ToString(CultureInfo.InvariantCulture), ConfigBinder.Empty),
                        IReadOnlyDictionary<string, object?> map => MinionMap(section, new ConfigBinder(map)),
                        _ => null,
                    };
                    if (spec is null)
                    {
                        section.Problem(Key, "expected minion ids or {id, grains} maps");
                    }
                    else if (!ValidId(spec.Id))
                    {
                        section.Problem(Key, $"invalid minion id '{spec.Id}'");
                    }
                    else if (seen.Add(spec.Id))
                    {
                        result.Add(spec);
                    }
                }

                return result;
            case long or string:
                return Numbered(5); // the problem is recorded
            default:
                section.Problem(Key, "expected a count (0-1000000) or a list of minion ids");
                return Numbered(5);
        }
    }

    private static MinionSpec? MinionMap(ConfigBinder section, ConfigBinder map)
    {
        if (map.GetString("id", "") is not { Length: > 0 } id)
        {
            section.Problem("minions", "every minion map needs an id");
            return null;
        }

        var grains = map.GetMap("grains");
        foreach (var e in map.Errors)
        {
            section.Problem("minions", $"{id}: {e}");
        }

        return new MinionSpec(id, grains ?? ConfigBinder.Empty);
    }

    private static List<MinionSpec> Numbered(int count) =>
        Enumerable.Range(0, count).Select(i => new MinionSpec("ms--" + i.ToString(CultureInfo.InvariantCulture), ConfigBinder.Empty)).ToList();

    // Salt refuses ids that could escape the pki dir.
    internal static bool ValidId(string id) =>
        id.Length is > 0 and <= 255 && !id.Contains('/', StringComparison.Ordinal) && !id.Contains('\\', StringComparison.Ordinal)
        && id != "." && id != ".." && !id.Contains('\0', StringComparison.Ordinal);
}
