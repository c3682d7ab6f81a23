using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Runners;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.EmbeddedMaster.Wheel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Jobs;
using SaltApi.Protocol.Msgpack;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>
/// The master's request handling: the pre-dispatch rules of ReqServerChannel.handle_message and the
/// six clear commands of Salt's ClearFuncs (spec/01 §4–5), with Salt's reply shapes.
/// </summary>
internal sealed class ClearFuncs(MasterContext ctx)
{
    private const string SomeException = "Some exception handling minion payload";

    // The publish kwargs _prep_pub copies into the load the minions receive, in Salt's order.
    private static readonly string[] PassedToMinions = ["ret_config", "metadata", "module_executors", "executor_opts", "ret_kwargs"];

    /// <summary>Handles one request payload; null means no reply at all (undecodable bytes, as Salt).</summary>
    public async Task<byte[]?> HandleAsync(byte[] payload)
    {
        object? decoded;
        try
        {
            decoded = SaltMsgpack.Deserialize(payload);
        }
        catch (Exception e) when (e is SaltProtocolException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            // Salt's worker never answers undecodable bytes; the client times out and retries.
            ctx.Log.LogWarning("request channel: undecodable payload ({Bytes} bytes); not answering, as Salt", payload.Length);
            return null;
        }

        var reply = await DispatchAsync(decoded);
        return SaltMsgpack.Serialize(reply, MsgpackDialect.Request);
    }

    private async Task<object?> DispatchAsync(object? decoded)
    {
        // _decode_payload: payload["enc"] (TypeError/KeyError → "bad load"); aes loads cannot be decrypted here.
        if (decoded is not OrderedDictionary<string, object?> envelope || !envelope.TryGetValue("enc", out var enc) || enc is "aes")
        {
            return "bad load";
        }

        if (envelope.Get("load") is not OrderedDictionary<string, object?> load)
        {
            return "payload and load must be a dict";
        }

        if (load.TryGetValue("id", out var id))
        {
            switch (id)
            {
                case string s when s.Contains('\0', StringComparison.Ordinal):
                    return "bad load: id contains a null byte";
                case string or List<object?> or OrderedDictionary<string, object?>:
                    break; // `"\0" in id` works on these
                default:
                    return $"bad load: id {PyValue.Str(id)} is not a string";
            }
        }

        if (load.Get("cmd") is "_auth")
        {
            // Deliberate difference: minion key authentication is not served (the minions are in-process).
            return Py.Map(("enc", "clear"), ("load", Py.Map(("ret", false))));
        }

        if (envelope.Get("version") is long v && v > 1)
        {
            load.Remove("nonce");
        }

        if (!load.TryGetValue("cmd", out var cmd))
        {
            return SomeException;
        }

        try
        {
            return cmd switch
            {
                "ping" => load,
                "publish" => await PublishAsync(load),
                "runner" => await RunnerAsync(load),
                "wheel" => await WheelAsync(load),
                "mk_token" => await MkTokenAsync(load),
                "get_token" => GetToken(load),
                List<object?> or OrderedDictionary<string, object?> => throw new InvalidOperationException("unhashable cmd"),
                _ => Py.Map(),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ctx.Log.LogWarning("request channel: {Cmd} raised {Error}: {Message}", PyValue.Str(cmd), e.GetType().Name, e.Message);
            return SomeException;
        }
    }

    private static object Required(OrderedDictionary<string, object?> load, string key) =>
        load.TryGetValue(key, out var v) ? v! : throw new KeyNotFoundException(key);

    // ---------------------------------------------------------------- mk_token / get_token

    private async Task<object?> MkTokenAsync(OrderedDictionary<string, object?> load)
    {
        var token = await ctx.LoadAuth.MakeTokenAsync(load, ctx.Config.TokenExpire);
        if (token is null)
        {
            ctx.Log.LogWarning("Authentication failure of type \"eauth\" occurred.");
            return "";
        }

        return token;
    }

    private object? GetToken(OrderedDictionary<string, object?> load)
    {
        if (!load.TryGetValue("token", out var tok))
        {
            return false;
        }

        if (tok is not string s)
        {
            throw new InvalidOperationException("token is not a string");
        }

        return (object?)ctx.LoadAuth.Tokens.Get(s) ?? Py.Map();
    }

    // ---------------------------------------------------------------- user (root key) auth

    /// <summary>Salt's <c>authenticate_key</c>: true, the (non-root) user name, or false.</summary>
    private object AuthenticateKey(OrderedDictionary<string, object?> load)
    {
        var authKey = load.Get("key");
        load.Remove("key");
        if (authKey is not string key)
        {
            return false;
        }

        var optsUser = ctx.Opts.Get("user") as string ?? "root";
        if (load.TryGetValue("user", out var u))
        {
            var user = PyValue.Str(u);
            if (user.StartsWith("sudo_", StringComparison.Ordinal))
            {
                return ctx.RootKeys.Values.Any(k => EauthModules.SecretEquals(k, key));
            }

            if (user == Environment.UserName || user == optsUser || user == "root")
            {
                return ctx.RootKeys.TryGetValue(optsUser, out var k) ? EauthModules.SecretEquals(k, key) : throw new KeyNotFoundException(optsUser);
            }

            if (ctx.RootKeys.TryGetValue(user, out var uk))
            {
                return EauthModules.SecretEquals(uk, key) ? user : false;
            }

            return false;
        }

        return ctx.RootKeys.TryGetValue(Environment.UserName, out var rk) && EauthModules.SecretEquals(rk, key);
    }

    private AuthCheck UserAuth(OrderedDictionary<string, object?> load, bool showUsername)
    {
        var username = load.Get("username") is string n ? n : "UNKNOWN";
        var ret = AuthenticateKey(load);
        var msg = "Authentication failure of type \"user\" occurred";
        if (ret is false)
        {
            return new([], username, Py.Map(("name", "UserAuthenticationError"), ("message", showUsername ? $"{msg} for user {username}." : msg)));
        }

        var authList = new List<object?>();
        if (ret is string user)
        {
            // A local non-root user: limited by publisher_acl.
            foreach (var (k, v) in Py.AsMap(ctx.Opts.Get("publisher_acl")) ?? Py.Map())
            {
                if (PyValue.ExprMatch(user, k))
                {
                    authList.AddRange(Py.AsList(v));
                }
            }

            if (authList.Count == 0)
            {
                return new([], username, Py.Map(("name", "UserAuthenticationError"), ("message", msg)));
            }
        }

        return new(authList, username, null);
    }

    // ---------------------------------------------------------------- publish

    private async Task<object?> PublishAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var extra = clearLoad.TryGetValue("kwargs", out var kw) ? Py.AsMap(kw) ?? throw new InvalidOperationException("kwargs is not a dict") : Py.Map();
        var user = Required(clearLoad, "user");
        var fun = Required(clearLoad, "fun");
        if (Blacklisted(PyValue.Str(user), fun))
        {
            return Py.Map(("error", Py.Map(("name", "AuthorizationError"), ("message", "Authorization error occurred."))));
        }

        var delimiter = extra.Get("delimiter") as string ?? ":";
        var tgt = Required(clearLoad, "tgt");
        var tgtType = clearLoad.TryGetValue("tgt_type", out var tt) ? PyValue.Str(tt) : "glob";
        var res = ctx.CkMinions.Published(tgt, tgtType, delimiter);
        var minions = res.Minions;
        var missing = res.Missing;

        var (authType, _, _) = LoadAuth.PrepAuthInfo(extra);
        var check = authType == "user" ? UserAuth(clearLoad, false) : await ctx.LoadAuth.CheckAuthenticationAsync(extra, authType);
        if (check.Error is not null)
        {
            ctx.Log.LogWarning("Authentication failure of type \"{AuthType}\" occurred.", authType);
            return PublishError(clearLoad, "AuthenticationError", "Authentication error occurred.");
        }

        if (authType != "user" || check.AuthList.Count > 0)
        {
            if (!ctx.Acl.AuthCheck(check.AuthList, fun, Required(clearLoad, "arg"), minions))
            {
                ctx.Log.LogWarning("Authentication failure of type \"{AuthType}\" occurred.", authType);
                return PublishError(clearLoad, "AuthorizationError", "Authorization error occurred.");
            }

            if (authType is "token" or "eauth")
            {
                clearLoad["user"] = check.Username;
            }
        }

        if (minions.Count == 0)
        {
            return Py.Map(("enc", "clear"), ("load", Py.Map(("jid", null), ("minions", new List<object?>()), ("error", $"Master could not resolve minions for target {PyValue.Str(tgt)}"))));
        }

        var jid = PyValue.Truthy(clearLoad.Get("jid")) ? PyValue.Str(clearLoad.Get("jid")) : Jid.New();
        // One list each for the events, the job cache and the reply: they are only read.
        var minionList = Values(minions);
        var missingList = Values(missing);
        var pub = PrepPub(minions, minionList, missingList, jid, clearLoad, extra, delimiter);
        ctx.Executor.Publish(pub, minions, ctx.Stop);
        return Py.Map(("enc", "clear"), ("load", Py.Map(("jid", jid), ("minions", minionList), ("missing", missingList))));
    }

    private static List<object?> Values(List<string> ids)
    {
        var list = new List<object?>(ids.Count);
        foreach (var id in ids)
        {
            list.Add(id);
        }

        return list;
    }

    // The failed publish fires salt/job/error (or salt/job/<jid>/error) with the load, as Salt does, but
    // without its credentials (deliberate difference: Salt fires kwargs.password/token and the root key).
    private OrderedDictionary<string, object?> PublishError(OrderedDictionary<string, object?> clearLoad, string name, string message)
    {
        var err = Py.Map(("error", Py.Map(("name", name), ("message", message))));
        var data = Credentials.Scrub(clearLoad);
        data["error"] = err["error"];
        data["_stamp"] = EventFrame.Stamp(DateTime.UtcNow);
        var jidPart = clearLoad.TryGetValue("jid", out var j) ? PyValue.Str(j) : "";
        ctx.Bus.Fire(EventTag.JobError(jidPart), data);
        return err;
    }

    private bool Blacklisted(string user, object? fun)
    {
        var bl = Py.AsMap(ctx.Opts.Get("publisher_acl_blacklist"));
        if (bl is null)
        {
            return false;
        }

        var users = Py.AsList(bl.Get("users")).Select(PyValue.Str).ToList();
        var modules = Py.AsList(bl.Get("modules")).Select(PyValue.Str).ToList();
        if (users.Any(u => PyValue.ExprMatch(user, u)))
        {
            return true;
        }

        return Py.AsList(fun).Select(PyValue.Str).Any(f => modules.Any(m => PyValue.ExprMatch(f, m)));
    }

    // Salt's _prep_pub: the events, the job cache, and the load the minions receive.
    private OrderedDictionary<string, object?> PrepPub(List<string> minions, List<object?> minionList, List<object?> missingList, string jid, OrderedDictionary<string, object?> clearLoad, OrderedDictionary<string, object?> extra, string delimiter)
    {
        clearLoad["jid"] = jid;
        var jidEvent = Py.Map(("minions", minionList), ("_stamp", EventFrame.Stamp(DateTime.UtcNow)));
        OrderedDictionary<string, object?> newJob;
        try
        {
            newJob = Py.Map(
                ("jid", jid),
                ("tgt_type", Required(clearLoad, "tgt_type")),
                ("tgt", clearLoad["tgt"]),
                ("user", clearLoad["user"]),
                ("fun", clearLoad["fun"]),
                ("arg", Required(clearLoad, "arg")),
                ("minions", minionList),
                ("missing", missingList),
                ("_stamp", EventFrame.Stamp(DateTime.UtcNow)));
        }
        catch (KeyNotFoundException)
        {
            ctx.Bus.Fire(jid, jidEvent); // as Salt: the jid event is out before the load turns out incomplete
            throw;
        }

        // For speed, both events go to the bus together (one write per reader); the order is Salt's.
        ctx.Bus.Fire((jid, jidEvent), (EventTag.JobNew(jid), newJob));

        // Deliberate difference: Salt's job cache keeps the whole load, eauth password and root key included;
        // we drop the secrets before saving.
        var saved = Credentials.Scrub(clearLoad);
        saved.Remove("key");

        ctx.Jobs.Save(jid, saved, minions);

        var load = new OrderedDictionary<string, object?>(14, StringComparer.Ordinal)
        {
            ["fun"] = clearLoad["fun"],
            ["arg"] = clearLoad["arg"],
            ["tgt"] = clearLoad["tgt"],
            ["jid"] = jid,
            ["ret"] = Required(clearLoad, "ret"),
        };
        if (extra.TryGetValue("master_id", out var masterId))
        {
            load["master_id"] = masterId;
        }

        if (delimiter != ":")
        {
            load["delimiter"] = delimiter;
        }

        if (extra.TryGetValue("id", out var eid))
        {
            load["id"] = eid;
        }

        load["tgt_type"] = clearLoad["tgt_type"];
        if (clearLoad.TryGetValue("to", out var to))
        {
            load["to"] = to;
        }

        foreach (var k in PassedToMinions)
        {
            if (extra.TryGetValue(k, out var v))
            {
                load[k] = v;
            }
        }

        load["user"] = clearLoad["user"];
        return load;
    }

    // ---------------------------------------------------------------- runner / wheel

    private async Task<(AuthCheck Check, string AuthType, string ErrName, string[] Sensitive)> AuthenticateClientAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var (authType, errName, sensitive) = LoadAuth.PrepAuthInfo(clearLoad);
        var check = authType == "user" ? UserAuth(clearLoad, false) : await ctx.LoadAuth.CheckAuthenticationAsync(clearLoad, authType);
        return (check, authType, errName, sensitive);
    }

    /// <summary>
    /// The common start of Salt's ClearFuncs.runner and .wheel: authenticate, then spec_check the function
    /// against the user's ACL for <paramref name="form"/>. A refusal is the reply to send.
    /// </summary>
    private async Task<(object? Refusal, string? Username, string AuthType)> AuthorizeAsync(OrderedDictionary<string, object?> clearLoad, string form)
    {
        var (check, authType, errName, sensitive) = await AuthenticateClientAsync(clearLoad);
        if (check.Error is not null)
        {
            return (Py.Map(("error", check.Error)), null, authType);
        }

        if (authType == "user")
        {
            return (null, check.Username, authType);
        }

        var spec = Acl.SpecCheck(check.AuthList, PyValue.Str(Required(clearLoad, "fun")), clearLoad.Get("kwarg") ?? Py.Map(), form);
        if (spec is false)
        {
            return (Py.Map(("error", Py.Map(("name", errName), ("message", $"Authentication failure of type \"{authType}\" occurred for user {check.Username}.")))), null, authType);
        }

        if (spec is OrderedDictionary<string, object?> error)
        {
            return (error, null, authType);
        }

        foreach (var k in sensitive)
        {
            clearLoad.Remove(k);
        }

        return (null, check.Username, authType);
    }

    private async Task<object?> RunnerAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var (refusal, username, authType) = await AuthorizeAsync(clearLoad, "runner");
        if (refusal is not null)
        {
            return refusal;
        }

        if (authType == "user")
        {
            username = clearLoad.Get("user") is string u ? (u.StartsWith("sudo_", StringComparison.Ordinal) ? ctx.Opts.Get("user") as string ?? "root" : u) : Environment.UserName;
        }

        var fun = PyValue.Str(Required(clearLoad, "fun"));
        clearLoad.Remove("fun");
        var low = Py.AsMap(clearLoad.Get("kwarg")) is { } k2 ? Py.Copy(k2) : Py.Map();
        var jid = Jid.New();
        var tag = EventTag.Run(jid);
        low["__jid__"] = jid;
        low["__user__"] = username;
        low["__tag__"] = tag;
        _ = Task.Run(() => ClientLow.RunAsync(ctx, "runner", fun, low));
        return Py.Map(("tag", tag), ("jid", jid));
    }

    private async Task<object?> WheelAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var (refusal, username, authType) = await AuthorizeAsync(clearLoad, "wheel");
        if (refusal is not null)
        {
            return refusal;
        }

        if (authType == "user")
        {
            username = clearLoad.Get("user") is string u ? u : Environment.UserName;
        }

        var jid = Jid.New();
        var fun = PyValue.Str(Required(clearLoad, "fun"));
        clearLoad.Remove("fun");
        var tag = EventTag.Wheel(jid);
        var data = Py.Map(("fun", $"wheel.{fun}"), ("jid", jid), ("tag", tag), ("user", username));
        Fire(EventTag.New(tag), data);
        var low = Py.Copy(clearLoad);
        low["full_return"] = true;
        var ret = await ClientLow.RunAsync(ctx, "wheel", fun, low);
        data["return"] = ret.Get("return");
        data["success"] = ret.Get("success");
        Fire(EventTag.Ret(tag), data);
        return Py.Map(("tag", tag), ("data", data));
    }

    // Salt's fire_event mutates the data: _stamp is set (kept in place when it exists) before each fire.
    private void Fire(string tag, OrderedDictionary<string, object?> data)
    {
        data["_stamp"] = EventFrame.Stamp(DateTime.UtcNow);
        ctx.Bus.Fire(tag, data);
    }
}

/// <summary>
/// Salt's <c>SyncClientMixin._low</c> for runner and wheel: the function's <c>new</c> and <c>ret</c>
/// events under its tag, argument binding (nested arg/kwarg, or format_call on a flat map) and
/// Salt's error texts.
/// </summary>
internal static class ClientLow
{
    /// <summary>Keys format_call never turns into function arguments (CLIENT_INTERNAL_KEYWORDS).</summary>
    private static readonly HashSet<string> Internal = new(StringComparer.Ordinal)
    {
        "client", "cmd", "eauth", "fun", "kwarg", "match", "token", "__jid__", "__tag__", "__user__", "username", "password", "full_return", "print_event",
    };

    public static async Task<OrderedDictionary<string, object?>> RunAsync(MasterContext ctx, string client, string fun, OrderedDictionary<string, object?> low)
    {
        var jid = low.Get("__jid__") as string ?? Jid.New();
        var tag = low.Get("__tag__") as string ?? EventTag.OfClient(client, jid);
        var data = Py.Map(("fun", $"{client}.{fun}"), ("jid", jid), ("user", low.Get("__user__") ?? "UNKNOWN"));
        var modulePath = client == "wheel" ? "wheel" : "runners";
        try
        {
            PySignature sig;
            string doc;
            Func<BoundArgs, Task<object?>> call;
            if (client == "runner" && RunnerFunctions.All.TryGetValue(fun, out var rf))
            {
                (sig, doc, call) = (rf.Signature, rf.Doc, b => rf.Run(ctx, b));
            }
            else if (client == "wheel" && WheelFunctions.All.TryGetValue(fun, out var wf))
            {
                (sig, doc, call) = (wf.Signature, wf.Doc, b => Task.FromResult(wf.Run(ctx, b)));
            }
            else if (string.IsNullOrEmpty(fun))
            {
                throw new PyException("salt.exceptions.SaltInvocationError", "Must specify a function to run!\nex: manage.up");
            }
            else
            {
                throw new PyException("salt.exceptions.CommandExecutionError", $"'{fun}' is not available.");
            }

            List<object?> args;
            OrderedDictionary<string, object?> kwargs;
            BoundArgs? bound = null;
            string? typeError = null;
            if (low.TryGetValue("arg", out var lowArg) && low.TryGetValue("kwarg", out var lowKwarg))
            {
                args = Py.AsList(lowArg).ToList();
                kwargs = Py.AsMap(lowKwarg) ?? Py.Map();
                try
                {
                    bound = sig.Bind(args, kwargs);
                }
                catch (PyTypeError e)
                {
                    typeError = e.Message;
                }
            }
            else
            {
                (args, kwargs, bound) = FormatCall(sig, low, $"salt.loaded.int.{modulePath}.{fun.Split('.')[0]}.{sig.Name}");
            }

            data["fun_args"] = kwargs.Count > 0 ? [.. args, kwargs] : args;
            Fire(ctx, EventTag.New(tag), data);
            if (typeError is not null)
            {
                data["return"] = $"\nPassed invalid arguments: {typeError}\n\nUsage:\n{doc}";
            }
            else
            {
                data["return"] = await call(bound!);
            }

            data["success"] = true;
        }
        catch (OperationCanceledException) when (ctx.Stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is PyException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            var cls = e is PyException pe ? pe.PyClass : "Exception";
            data["return"] = $"Exception occurred in {client} {fun}: Traceback (most recent call last):\n"
                + "  File \"/opt/saltstack/salt/lib/python3.10/site-packages/salt/client/mixins.py\", line 382, in low\n"
                + "    data[\"return\"] = func(*args, **kwargs)\n"
                + $"{cls}: {e.Message}\n";
            data["success"] = false;
        }

        if (client == "runner")
        {
            StoreJob(ctx, jid, data);
        }

        Fire(ctx, EventTag.Ret(tag), data);
        return data;
    }

    // Salt's store_job for a runner: the job is cached under the master's id, its load taken from the return data.
    private static void StoreJob(MasterContext ctx, string jid, OrderedDictionary<string, object?> data)
    {
        if (!Jid.IsJid(jid))
        {
            return;
        }

        var masterId = ctx.Opts.Get("id") as string ?? Environment.MachineName + "_master";
        var load = Py.Map(
            ("id", masterId),
            ("tgt", masterId),
            ("jid", jid),
            ("fun", data.Get("fun")),
            ("user", data.Get("user")),
            ("arg", data.Get("fun_args") ?? new List<object?>()));
        var job = ctx.Jobs.Save(jid, load, [masterId]);
        job.AddReturn(masterId, Py.Map(("return", Py.Copy(data)), ("retcode", 0L), ("success", data.Get("success"))));
    }

    private static void Fire(MasterContext ctx, string tag, OrderedDictionary<string, object?> data)
    {
        data["_stamp"] = EventFrame.Stamp(DateTime.UtcNow);
        ctx.Bus.Fire(tag, data);
    }

    // Salt's format_call: named parameters from the map, the rest to **kwargs or an error.
    private static (List<object?> Args, OrderedDictionary<string, object?> Kwargs, BoundArgs Bound) FormatCall(PySignature sig, OrderedDictionary<string, object?> low, string fullName)
    {
        var data = Py.Copy(low);
        var kwargs = Py.Map();
        foreach (var (name, def) in sig.Optional)
        {
            if (data.Remove(name, out var v))
            {
                kwargs[name] = v;
            }
            else
            {
                kwargs[name] = def;
            }
        }

        var args = new List<object?>();
        var missing = new List<string>();
        foreach (var r in sig.Required)
        {
            if (data.Remove(r, out var v))
            {
                args.Add(v);
            }
            else
            {
                missing.Add(r);
            }
        }

        if (missing.Count > 0)
        {
            var used = args.Count;
            var total = used + missing.Count;
            throw new PyException("salt.exceptions.SaltInvocationError", $"{sig.Name} takes at least {total} argument{(total > 1 ? "s" : "")} ({used} given)");
        }

        var extra = data.Where(kv => !Internal.Contains(kv.Key)).ToList();
        if (sig.VarKwargs)
        {
            foreach (var (k, v) in extra)
            {
                kwargs[k] = v;
            }
        }
        else if (extra.Count == 1)
        {
            throw new PyException("salt.exceptions.SaltInvocationError", $"'{extra[0].Key}' is an invalid keyword argument for '{fullName}'");
        }
        else if (extra.Count > 1)
        {
            throw new PyException("salt.exceptions.SaltInvocationError", $"{string.Join(", ", extra.Take(extra.Count - 1).Select(e => $"'{e.Key}'"))} and '{extra[^1].Key}' are invalid keyword arguments for '{fullName}'");
        }

        var bound = sig.Bind(args, kwargs);
        return (args, kwargs, bound);
    }
}
