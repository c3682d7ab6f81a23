using System.Collections.Concurrent;
using System.Globalization;
using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>Which of the master's key lists a minion id is in (Salt's pki_dir sub-folders).</summary>
internal enum KeyState
{
    Accepted,
    Pending,
    Rejected,
    Denied,
}

/// <summary>A simulated minion: an id, its index (for grains that differ per minion), its extra grains.</summary>
internal sealed class SimMinion(string id, int index, IReadOnlyDictionary<string, object?> extraGrains, bool silent)
{
    public string Id { get; } = id;

    public int Index { get; } = index;

    public IReadOnlyDictionary<string, object?> ExtraGrains { get; } = extraGrains;

    /// <summary>Never answers a job (a dead minion whose key is still accepted).</summary>
    public bool Silent { get; } = silent;

    /// <summary>Connected (answers) unless silent.</summary>
    public bool Connected => !Silent;
}

/// <summary>
/// The master's view of minions: the key lists (accepted, pending, rejected, denied) as the pki dir
/// holds them, and the simulated minions that run jobs. Targeting sees accepted keys only, as
/// Salt's check_minions does; an accepted key without a simulated minion behaves like a dead minion.
/// </summary>
internal sealed class MinionRegistry
{
    private readonly ConcurrentDictionary<string, KeyState> keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimMinion> sims = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, object?> commonGrains;
    private string[]? acceptedSorted;

    public MinionRegistry(EmbeddedOptions options)
    {
        commonGrains = options.Grains;
        var silentCount = (int)Math.Floor(options.Minions.Count * options.SilentShare);
        for (var i = 0; i < options.Minions.Count; i++)
        {
            var spec = options.Minions[i];
            var silent = options.Silent.Contains(spec.Id) || i >= options.Minions.Count - silentCount;
            sims[spec.Id] = new SimMinion(spec.Id, i, spec.Grains, silent);
            keys[spec.Id] = KeyState.Accepted;
        }
    }

    /// <summary>Accepted minion ids, sorted as Salt lists the pki dir.</summary>
    public IReadOnlyList<string> Accepted
    {
        get
        {
            var snapshot = Volatile.Read(ref acceptedSorted);
            if (snapshot is null)
            {
                snapshot = keys.Where(k => k.Value == KeyState.Accepted).Select(k => k.Key).Order(StringComparer.Ordinal).ToArray();
                Volatile.Write(ref acceptedSorted, snapshot);
            }

            return snapshot;
        }
    }

    /// <summary>Whether the id has an accepted key.</summary>
    public bool IsAccepted(string id) => keys.TryGetValue(id, out var s) && s == KeyState.Accepted;

    /// <summary>The key state of an id, if the master knows its key.</summary>
    public KeyState? StateOf(string id) => keys.TryGetValue(id, out var s) ? s : null;

    /// <summary>Every known key id with its state.</summary>
    public IEnumerable<KeyValuePair<string, KeyState>> Keys => keys;

    /// <summary>Sets (or adds) a key's state.</summary>
    public void SetState(string id, KeyState state)
    {
        keys[id] = state;
        Volatile.Write(ref acceptedSorted, null);
    }

    /// <summary>Forgets a key.</summary>
    public bool Delete(string id)
    {
        var removed = keys.TryRemove(id, out _);
        Volatile.Write(ref acceptedSorted, null);
        return removed;
    }

    /// <summary>The simulated minion behind an id, if there is one.</summary>
    public SimMinion? Sim(string id) => sims.TryGetValue(id, out var m) ? m : null;

    /// <summary>All simulated minions.</summary>
    public IEnumerable<SimMinion> Sims => sims.Values;

    /// <summary>
    /// The minion data cache's grains for an id (null when the master has none, as for a key that
    /// never connected). Built on demand so 10,000 minions cost little memory.
    /// </summary>
    public OrderedDictionary<string, object?>? Grains(string id) => Sim(id) is { } m ? BuildGrains(m) : null;

    private OrderedDictionary<string, object?> BuildGrains(SimMinion m)
    {
        var n = m.Index;
        var ip = $"10.{(n >> 16) & 0xff}.{(n >> 8) & 0xff}.{(n & 0xff) + 1}";
        var g = Py.Map(
            ("cwd", "/"),
            ("ip_gw", true),
            ("ip4_gw", "10.0.0.254"),
            ("ip6_gw", false),
            ("dns", Py.Map(("nameservers", new List<object?> { "127.0.0.53" }), ("ip4_nameservers", new List<object?> { "127.0.0.53" }), ("ip6_nameservers", new List<object?>()), ("sortlist", new List<object?>()), ("domain", ""), ("search", new List<object?>()), ("options", new List<object?>()))),
            ("fqdns", new List<object?>()),
            ("machine_id", MachineId(m.Id)),
            ("master", "127.0.0.1"),
            ("server_id", (long)(StableHash(m.Id) & 0x7fffffff)),
            ("localhost", m.Id),
            ("fqdn", m.Id),
            ("host", m.Id),
            ("domain", ""),
            ("hwaddr_interfaces", Py.Map(("lo", "00:00:00:00:00:00"), ("eth0", Mac(n)))),
            ("id", m.Id),
            ("ip4_interfaces", Py.Map(("lo", new List<object?> { "127.0.0.1" }), ("eth0", new List<object?> { ip }))),
            ("ip6_interfaces", Py.Map(("lo", new List<object?> { "::1" }), ("eth0", new List<object?>()))),
            ("ipv4", new List<object?> { "127.0.0.1", ip }),
            ("ipv6", new List<object?> { "::1" }),
            ("fqdn_ip4", new List<object?> { ip }),
            ("fqdn_ip6", new List<object?>()),
            ("ip_interfaces", Py.Map(("lo", new List<object?> { "127.0.0.1", "::1" }), ("eth0", new List<object?> { ip }))),
            ("kernel", "Linux"),
            ("kernelrelease", "6.1.0-13-amd64"),
            ("kernelversion", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)"),
            ("os", "Debian"),
            ("os_family", "Debian"),
            ("oscodename", "bookworm"),
            ("osfullname", "Debian GNU/Linux"),
            ("osrelease", "12"),
            ("osrelease_info", new List<object?> { 12L }),
            ("osmajorrelease", 12L),
            ("osfinger", "Debian-12"),
            ("osarch", "amd64"),
            ("cpuarch", "x86_64"),
            ("num_cpus", 2L),
            ("cpu_model", "Simulated CPU"),
            ("mem_total", 2048L),
            ("swap_total", 0L),
            ("virtual", "physical"),
            ("init", "systemd"),
            ("path", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            ("pythonversion", new List<object?> { 3L, 10L, 13L, "final", 0L }),
            ("saltversion", "3006.0"),
            ("saltversioninfo", new List<object?> { 3006L, 0L }),
            ("nodename", m.Id),
            ("shell", "/bin/sh"),
            ("username", "root"),
            ("groupname", "root"),
            ("uid", 0L),
            ("gid", 0L),
            ("pid", 1000L + n),
            ("transactional", false),
            ("efi", false),
            ("efi-secure-boot", false),
            ("zfs_support", false),
            ("zfs_feature_flags", false));
        foreach (var (k, v) in commonGrains)
        {
            g[k] = v;
        }

        foreach (var (k, v) in m.ExtraGrains)
        {
            g[k] = v;
        }

        return g;
    }

    private static string Mac(int n) => string.Create(CultureInfo.InvariantCulture, $"52:54:00:{(n >> 16) & 0xff:x2}:{(n >> 8) & 0xff:x2}:{n & 0xff:x2}");

    private static string MachineId(string id) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("machine-id:" + id)))[..32];

    private static ulong StableHash(string s)
    {
        var h = 1469598103934665603UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h;
    }
}
