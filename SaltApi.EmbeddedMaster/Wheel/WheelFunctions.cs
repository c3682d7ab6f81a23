using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Wheel;

/// <summary>A wheel function: signature, docstring, implementation (runs inside the master, synchronously).</summary>
internal sealed record WheelFunction(PySignature Signature, string Doc, Func<MasterContext, BoundArgs, object?> Run);

/// <summary>The wheel modules this master has (key.*, config.values, minions.connected), as Salt 3006 returns them.</summary>
internal static class WheelFunctions
{
    public static readonly IReadOnlyDictionary<string, WheelFunction> All = Build();

    private static Dictionary<string, WheelFunction> Build()
    {
        var f = new Dictionary<string, WheelFunction>(StringComparer.Ordinal);
        void Add(string name, string pyName, string[] req, (string, object?)[] opt, bool varKw, string doc, Func<MasterContext, BoundArgs, object?> run) =>
            f[name] = new WheelFunction(new PySignature(pyName, req, opt, false, varKw), doc, run);

        Add("key.list_all", "list_all", [], [], false, "List all the keys\n", (c, _) => c.Keys.ListAll());
        Add("key.list", "list_", ["match"], [], false, "List all the keys under a named status.\n", (c, a) =>
        {
            var match = PyValue.Str(a["match"]);
            var all = c.Keys.ListAll();
            return match switch
            {
                "pre" or "un" or "unaccepted" => Py.Map(("minions_pre", all["minions_pre"])),
                "acc" or "accepted" => Py.Map(("minions", all["minions"])),
                "rej" or "rejected" => Py.Map(("minions_rejected", all["minions_rejected"])),
                "den" or "denied" => Py.Map(("minions_denied", all["minions_denied"])),
                "all" => all,
                _ => Py.Map(),
            };
        });
        Add("key.name_match", "name_match", ["match"], [], false, "List all the keys based on a glob match\n", (c, a) => c.Keys.GlobMatch(PyValue.Str(a["match"])));
        Add("key.glob_match", "glob_match", ["match"], [], false, "List all the keys based on a glob match\n", (c, a) => c.Keys.GlobMatch(PyValue.Str(a["match"])));
        Add("key.accept", "accept", ["match"], [("include_rejected", false), ("include_denied", false)], false, "Accept keys based on a glob match.\n", (c, a) =>
            Move(c, a, KeyState.Accepted, "accept", ("include_rejected", KeyState.Rejected)));
        Add("key.reject", "reject", ["match"], [("include_accepted", false), ("include_denied", false)], false, "Reject keys based on a glob match.\n", (c, a) =>
            Move(c, a, KeyState.Rejected, "reject", ("include_accepted", KeyState.Accepted)));
        Add("key.delete", "delete", ["match"], [], false, "Delete keys based on a glob match.\n", (c, a) => c.Keys.DeleteMatching(PyValue.Str(a["match"])));
        Add("key.finger", "finger", ["match"], [("hash_type", null)], false, "Return the matching key fingerprints. Returns a dictionary.\n", (c, a) => c.Keys.Finger(PyValue.Str(a["match"]), a["hash_type"] as string));
        Add("key.finger_master", "finger_master", [], [("hash_type", null)], false, "Return the fingerprint of the master's public key\n", (c, a) =>
            Py.Map(("local", Py.Map(("master.pub", KeyStore.PemFinger(c.Keys.MasterPublicPem(), a["hash_type"] as string ?? c.Config.HashType))))));
        Add("key.key_str", "key_str", ["match"], [], false, "Return information about the key. Returns a dictionary.\n", (c, a) => c.Keys.KeyStr(PyValue.Str(a["match"])));
        Add("key.print", "print_", ["match"], [], false, "Return information about the key.\n", (c, a) => c.Keys.KeyStr(PyValue.Str(a["match"])));
        Add("key.gen", "gen", [], [("id_", null), ("keysize", 2048L)], false, "Generate a key pair. No keys are stored on the master. A key pair is\nreturned as a dict containing pub and priv keys.\n", (_, a) =>
        {
            var (priv, pub) = KeyStore.Generate(KeySize(a["keysize"]));
            return Py.Map(("priv", priv), ("pub", pub));
        });
        Add("key.gen_accept", "gen_accept", ["id_"], [("keysize", 2048L), ("force", false)], false, "Generate a key pair then accept the public key. This function returns the\nkey pair in a dict, only the public key is preserved on the master.\n", (c, a) =>
        {
            var id = PyValue.Str(a["id_"]);
            if (!EmbeddedOptions.ValidId(id))
            {
                throw new PyException("SaltInvocationError", $"Invalid minion id: {id}");
            }

            if (c.Registry.StateOf(id) == KeyState.Accepted && !PyValue.Truthy(a["force"]))
            {
                return Py.Map();
            }

            var (priv, pub) = KeyStore.Generate(KeySize(a["keysize"]));
            c.Keys.AcceptPub(id, pub);
            return Py.Map(("priv", priv), ("pub", pub));
        });
        Add("config.values", "values", [], [], false, "Return the raw values of the config file\n", (c, _) =>
        {
            // Deliberate difference: Salt returns every option; we leave out secrets (sharedsecret).
            return Py.Copy(c.Opts.Where(kv => kv.Key != "sharedsecret"));
        });
        Add("minions.connected", "connected", [], [], false, "List all connected minions on a salt-master\n", (c, _) =>
            c.Registry.Accepted.Where(id => c.Registry.Sim(id) is { Connected: true }).Cast<object?>().ToList());
        return f;
    }

    // Salt's key.accept / key.reject: pending keys, plus those of the states their include_* arguments name.
    private static OrderedDictionary<string, object?> Move(MasterContext c, BoundArgs a, KeyState to, string act, (string Arg, KeyState State) include)
    {
        var from = new List<KeyState> { KeyState.Pending };
        if (PyValue.Truthy(a[include.Arg]))
        {
            from.Add(include.State);
        }

        if (PyValue.Truthy(a["include_denied"]))
        {
            from.Add(KeyState.Denied);
        }

        return c.Keys.Move(PyValue.Str(a["match"]), to, from, act);
    }

    private static int KeySize(object? v)
    {
        var n = MinionFunctions.PyInt(v);
        if (n is < 2048 or > 8192)
        {
            throw new PyException("ValueError", "Key size must be at least 2048 bits and at most 8192.");
        }

        return (int)n;
    }
}
