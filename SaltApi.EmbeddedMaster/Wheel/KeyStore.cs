using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Wheel;

/// <summary>
/// The master's pki dir (Salt's <c>salt.key.Key</c>): <c>minions</c>, <c>minions_pre</c>,
/// <c>minions_rejected</c>, <c>minions_denied</c> holding public keys, and <c>master.pem</c>/<c>master.pub</c>.
/// Real RSA keys (PEM, as Salt writes them); a simulated minion's key is made on first use and kept.
/// Key changes fire <c>salt/key</c> events.
/// </summary>
internal sealed class KeyStore(string pkiDir, MinionRegistry registry, EventPublisher bus, string hashType, ILogger log)
{
    public static readonly (KeyState State, string Dir)[] Dirs =
    [
        (KeyState.Accepted, "minions"),
        (KeyState.Pending, "minions_pre"),
        (KeyState.Rejected, "minions_rejected"),
        (KeyState.Denied, "minions_denied"),
    ];

    private readonly Lock gate = new();

    public string PkiDir { get; } = pkiDir;

    /// <summary>Loads the key lists kept on disk from an earlier run (they override the defaults).</summary>
    public void Load()
    {
        foreach (var (state, dir) in Dirs)
        {
            foreach (var file in Directory.CreateDirectory(Path.Combine(PkiDir, dir)).EnumerateFiles())
            {
                var id = file.Name;
                if (EmbeddedOptions.ValidId(id) && !id.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    registry.SetState(id, state);
                }
            }
        }
    }

    public static string DirOf(KeyState s) => Dirs.First(d => d.State == s).Dir;

    /// <summary>
    /// Salt's name_match: ids by state matching a glob (a comma-separated match is several globs), as
    /// {dir: [ids]} for the non-empty lists; with <paramref name="full"/> the master's own keys under <c>local</c>.
    /// </summary>
    public OrderedDictionary<string, object?> GlobMatch(string match, bool full = false)
    {
        var ret = Py.Map();
        foreach (var (state, dir) in Dirs)
        {
            var ids = registry.Keys.Where(k => k.Value == state && Matches(k.Key, match)).Select(k => k.Key).Order(StringComparer.Ordinal).Cast<object?>().ToList();
            if (ids.Count > 0)
            {
                ret[dir] = ids;
            }
        }

        if (full)
        {
            var local = new List<object?> { "master.pem", "master.pub" }.Where(n => Matches((string)n!, match)).ToList();
            if (local.Count > 0)
            {
                ret["local"] = local;
            }
        }

        return ret;
    }

    // A comma-separated match is several globs.
    private static bool Matches(string id, string match) =>
        (match.Contains(',', StringComparison.Ordinal) ? match.Split(',') : [match]).Any(g => PyValue.FnMatch(id, g));

    /// <summary>Salt's list_keys: every list, always present.</summary>
    public OrderedDictionary<string, object?> ListAll()
    {
        var ret = Py.Map();
        foreach (var (state, dir) in Dirs)
        {
            ret[dir] = registry.Keys.Where(k => k.Value == state).Select(k => k.Key).Order(StringComparer.Ordinal).Cast<object?>().ToList();
        }

        ret["local"] = new List<object?> { "master.pem", "master.pub" };
        return ret;
    }

    /// <summary>
    /// Moves matching keys to a new state (accept / reject), firing salt/key for each; answers Salt's
    /// name_match of the match afterwards (every matching key, moved or not).
    /// </summary>
    public OrderedDictionary<string, object?> Move(string match, KeyState to, IReadOnlyCollection<KeyState> from, string act)
    {
        lock (gate)
        {
            foreach (var (id, state) in registry.Keys.Where(k => from.Contains(k.Value) && Matches(k.Key, match)).ToList())
            {
                var pub = ReadPub(id, state) ?? PublicPem(id);
                DeleteFile(id, state);
                WriteFile(Path.Combine(PkiDir, DirOf(to), id), pub);
                registry.SetState(id, to);
                FireKey(act, id);
            }
        }

        return GlobMatch(match);
    }

    /// <summary>Deletes matching keys (any state); as Salt's delete_key, answers the name_match afterwards (so usually {}).</summary>
    public OrderedDictionary<string, object?> DeleteMatching(string match)
    {
        lock (gate)
        {
            var matched = GlobMatch(match);
            foreach (var (_, ids) in matched)
            {
                foreach (var id in Py.AsList(ids).Select(PyValue.Str))
                {
                    Delete(id);
                }
            }

            return GlobMatch(match);
        }
    }

    /// <summary>Deletes one key.</summary>
    public void Delete(string id)
    {
        if (registry.StateOf(id) is { } state)
        {
            DeleteFile(id, state);
            registry.Delete(id);
            FireKey("delete", id);
        }
    }

    private void FireKey(string act, string id) =>
        bus.Fire(Protocol.Events.EventTag.Key, Py.Map(("result", true), ("act", act), ("id", id), ("_stamp", Protocol.Events.EventFrame.Stamp(DateTime.UtcNow))));

    /// <summary>Fingerprints of matching keys, {dir: {id: finger}}.</summary>
    public OrderedDictionary<string, object?> Finger(string match, string? sumType) =>
        ByDir(GlobMatch(match, full: true), (dir, id) => PemFinger(dir == "local" ? (id == "master.pem" ? EnsureMaster().Priv : MasterPublicPem()) : StoredPem(id), sumType ?? hashType));

    /// <summary>
    /// The public keys of matching minions, {dir: {id: pem}}. As salt.key.Key.key_str: name_match without
    /// the master's own keys, so master.pem (the private key) is never returned.
    /// </summary>
    public OrderedDictionary<string, object?> KeyStr(string match) => ByDir(GlobMatch(match), (_, id) => StoredPem(id));

    // {dir: [ids]} → {dir: {id: value}}.
    private static OrderedDictionary<string, object?> ByDir(OrderedDictionary<string, object?> matched, Func<string, string, string> value)
    {
        var ret = Py.Map();
        foreach (var (dir, ids) in matched)
        {
            var m = Py.Map();
            foreach (var id in Py.AsList(ids).Select(PyValue.Str))
            {
                m[id] = value(dir, id);
            }

            ret[dir] = m;
        }

        return ret;
    }

    private string StoredPem(string id) => ReadPub(id, registry.StateOf(id) ?? KeyState.Accepted) ?? PublicPem(id);

    public string MasterPublicPem() => EnsureMaster().Pub;

    private (string Priv, string Pub) EnsureMaster()
    {
        lock (gate)
        {
            var pemPath = Path.Combine(PkiDir, "master.pem");
            var pubPath = Path.Combine(PkiDir, "master.pub");
            if (File.Exists(pemPath) && File.Exists(pubPath))
            {
                return (File.ReadAllText(pemPath), File.ReadAllText(pubPath));
            }

            var (priv, pub) = Generate(2048);
            Directory.CreateDirectory(PkiDir);
            WriteFile(pemPath, priv, UnixFileMode.UserRead);
            WriteFile(pubPath, pub);
            return (priv, pub);
        }
    }

    /// <summary>A minion's public key: from its key file, or made now for a simulated minion and kept.</summary>
    private string PublicPem(string id)
    {
        lock (gate)
        {
            var state = registry.StateOf(id) ?? KeyState.Accepted;
            if (ReadPub(id, state) is { } existing)
            {
                return existing;
            }

            var (_, pub) = Generate(2048);
            WriteFile(Path.Combine(PkiDir, DirOf(state), id), pub);
            return pub;
        }
    }

    private string? ReadPub(string id, KeyState state)
    {
        var path = Path.Combine(PkiDir, DirOf(state), id);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void DeleteFile(string id, KeyState state)
    {
        try
        {
            File.Delete(Path.Combine(PkiDir, DirOf(state), id));
        }
        catch (IOException e)
        {
            log.LogWarning("pki: cannot delete the key of {Id}: {Error}", id, e.Message);
        }
    }

    private static void WriteFile(string path, string text, UnixFileMode mode = UnixFiles.Readable)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        UnixFiles.WriteAtomic(path, Encoding.ASCII.GetBytes(text), mode);
    }

    /// <summary>A new RSA key pair as Salt's gen_keys writes it: PKCS#1 private, SubjectPublicKeyInfo public.</summary>
    public static (string Priv, string Pub) Generate(int bits)
    {
        using var rsa = RSA.Create(bits);
        return (PemEncoding.WriteString("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey()) + "\n", PemEncoding.WriteString("PUBLIC KEY", rsa.ExportSubjectPublicKeyInfo()) + "\n");
    }

    /// <summary>Salt's pem_finger: the hash of the PEM body lines (newlines included), hex pairs joined by colons.</summary>
    public static string PemFinger(string pem, string sumType)
    {
        var lines = pem.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => l.Trim().Length > 0).ToList();
        var body = string.Concat(lines.Skip(1).Take(lines.Count - 2).Select(l => l + "\n"));
        var bytes = Encoding.ASCII.GetBytes(body);
        var hex = Convert.ToHexStringLower(HashType.Digest(sumType, bytes) ?? SHA256.HashData(bytes));
        return string.Join(":", Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
    }

    /// <summary>Writes a generated public key as an accepted minion key (key.gen_accept).</summary>
    public void AcceptPub(string id, string pub)
    {
        lock (gate)
        {
            if (registry.StateOf(id) is { } old)
            {
                DeleteFile(id, old);
            }

            WriteFile(Path.Combine(PkiDir, "minions", id), pub);
            registry.SetState(id, KeyState.Accepted);
        }
    }
}
