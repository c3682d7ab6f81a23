using System.Globalization;
using SaltApi.Protocol.Config;

namespace SaltApi.EmbeddedMaster.Config;

/// <summary>One simulated minion as configured: its id and extra grains.</summary>
internal sealed record MinionSpec(string Id, IReadOnlyDictionary<string, object?> Grains);

/// <summary>
/// Our own options, from the <c>embedded_master:</c> map (Salt has no such section). Unknown keys are
/// ignored; wrong types fail the start.
/// </summary>
internal sealed record EmbeddedOptions
{
    /// <summary>The simulated minions (<c>minions: 5</c> → <c>ms--0</c> … <c>ms--4</c>, or a list of ids / maps).</summary>
    public IReadOnlyList<MinionSpec> Minions { get; init; } = [];

    /// <summary><c>latency_ms</c>: how long a minion takes to answer a job.</summary>
    public double LatencyMs { get; init; } = 5;

    /// <summary><c>silent</c>: ids of minions that never answer.</summary>
    public IReadOnlySet<string> Silent { get; init; } = new HashSet<string>();

    /// <summary><c>silent_share</c>: fraction (0..1) of minions that never answer (the last ones by id order).</summary>
    public double SilentShare { get; init; }

    /// <summary><c>grains</c>: grains added to every simulated minion.</summary>
    public IReadOnlyDictionary<string, object?> Grains { get; init; } = ConfigValues.Empty;

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

    /// <summary>Binds the options from the <c>embedded_master</c> value (a map, or null/empty for defaults).</summary>
    public static EmbeddedOptions From(object? section)
    {
        const string P = "embedded_master";
        var map = section as IReadOnlyDictionary<string, object?> ?? (section is null ? ConfigValues.Empty : throw new ConfigException(P, "expected a map"));
        var minions = ParseMinions(map.TryGetValue("minions", out var m) ? m : null);
        var silent = new HashSet<string>(StringComparer.Ordinal);
        var share = 0.0;
        if (map.TryGetValue("silent", out var s) && s is not null)
        {
            switch (s)
            {
                case double d: share = d; break;
                case long l: share = l; break;
                case string str: silent.Add(str); break;
                case IEnumerable<object?> list:
                    foreach (var id in list)
                    {
                        silent.Add(Convert.ToString(id, CultureInfo.InvariantCulture) ?? "");
                    }

                    break;
                default: throw new ConfigException($"{P}.silent", "expected a list of minion ids or a share between 0 and 1");
            }
        }

        if (share is < 0 or > 1)
        {
            throw new ConfigException($"{P}.silent", "a share must be between 0 and 1");
        }

        var o = new EmbeddedOptions
        {
            Minions = minions,
            LatencyMs = ConfigValues.GetSeconds(map, "latency_ms", 5, P),
            PublishDelayMs = ConfigValues.GetSeconds(map, "publish_delay_ms", 0, P),
            WorkersStartDelay = ConfigValues.GetSeconds(map, "workers_start_delay", 0, P),
            Silent = silent,
            SilentShare = share,
            Grains = ConfigValues.GetMap(map, "grains", P),
            AuthFailureDelay = ConfigValues.GetSeconds(map, "auth_failure_delay", 1.0, P),
            MaxJobs = ConfigValues.GetInt(map, "max_jobs", 10000, P),
            MaxCachedReturns = (long)ConfigValues.GetSeconds(map, "max_cached_returns", 2_000_000, P),
            MaxPendingRequests = ConfigValues.GetInt(map, "max_pending_requests", 10000, P),
            MaxConcurrentRequests = ConfigValues.GetInt(map, "max_concurrent_requests", 256, P),
            ReaderQueue = ConfigValues.GetInt(map, "reader_queue", 100_000, P),
            MaxRequestBytes = (long)ConfigValues.GetSeconds(map, "max_request_bytes", 100L * 1024 * 1024, P),
            MaxBusReaders = ConfigValues.GetInt(map, "max_bus_readers", 1024, P),
            WriteJobCache = ConfigValues.GetBool(map, "write_job_cache", false),
        };
        if (o.PublishDelayMs is < 0 or > 600_000 || double.IsNaN(o.PublishDelayMs))
        {
            throw new ConfigException($"{P}.publish_delay_ms", "must be between 0 and 600000 (milliseconds)");
        }

        if (o.WorkersStartDelay is < 0 or > 3600 || double.IsNaN(o.WorkersStartDelay))
        {
            throw new ConfigException($"{P}.workers_start_delay", "must be between 0 and 3600 (seconds)");
        }

        if (o.LatencyMs < 0 || o.AuthFailureDelay < 0 || o.MaxJobs < 1 || o.MaxPendingRequests < 1 || o.MaxConcurrentRequests < 1 || o.ReaderQueue < 1 || o.MaxBusReaders < 1 || o.MaxRequestBytes < 1024 || o.MaxCachedReturns < 1)
        {
            throw new ConfigException(P, "latency_ms and auth_failure_delay must be >= 0; max_jobs, max_pending_requests, max_concurrent_requests, reader_queue and max_bus_readers >= 1; max_request_bytes >= 1024");
        }

        return o;
    }

    private static List<MinionSpec> ParseMinions(object? value)
    {
        const string P = "embedded_master.minions";
        switch (value)
        {
            case null:
                return Numbered(5);
            case long count when count is >= 0 and <= 1_000_000:
                return Numbered((int)count);
            case string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 1_000_000:
                return Numbered(n);
            case IEnumerable<object?> list:
                var result = new List<MinionSpec>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in list)
                {
                    MinionSpec spec = item switch
                    {
                        string id => new MinionSpec(id, ConfigValues.Empty),
                        long l => new MinionSpec(l.ToString(CultureInfo.InvariantCulture), ConfigValues.Empty),
                        IReadOnlyDictionary<string, object?> map => new MinionSpec(
                            ConfigValues.GetString(map, "id", "", P) is { Length: > 0 } id ? id : throw new ConfigException(P, "every minion map needs an id"),
                            ConfigValues.GetMap(map, "grains", P)),
                        _ => throw new ConfigException(P, "expected minion ids or {id, grains} maps"),
                    };
                    if (!ValidId(spec.Id))
                    {
                        throw new ConfigException(P, $"invalid minion id '{spec.Id}'");
                    }

                    if (seen.Add(spec.Id))
                    {
                        result.Add(spec);
                    }
                }

                return result;
            default:
                throw new ConfigException(P, "expected a count (0-1000000) or a list of minion ids");
        }
    }

    private static List<MinionSpec> Numbered(int count) =>
        Enumerable.Range(0, count).Select(i => new MinionSpec("ms--" + i.ToString(CultureInfo.InvariantCulture), ConfigValues.Empty)).ToList();

    // Salt refuses ids that could escape the pki dir.
    internal static bool ValidId(string id) =>
        id.Length is > 0 and <= 255 && !id.Contains('/', StringComparison.Ordinal) && !id.Contains('\\', StringComparison.Ordinal)
        && id != "." && id != ".." && !id.Contains('\0', StringComparison.Ordinal);
}
