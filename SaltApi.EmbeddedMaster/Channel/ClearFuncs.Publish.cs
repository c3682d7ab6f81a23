using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Jobs;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Channel;

internal sealed partial class ClearFuncs
{
    // The publish kwargs _prep_pub copies into the load the minions receive, in Salt's order.
    private static readonly string[] PassedToMinions = ["ret_config", "metadata", "module_executors", "executor_opts", "ret_kwargs"];

    // ---------------------------------------------------------------- publish

    private async Task<object?> PublishAsync(OrderedDictionary<string, object?> clearLoad)
    {
        // publish_delay_ms: the time a real master takes over a publish, before anything of it is done.
        // Awaited, so other requests go on meanwhile (a real master has several workers).
        if (ctx.Options.PublishDelayMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(ctx.Options.PublishDelayMs), ctx.Stop).ConfigureAwait(false);
        }

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
        var check = authType == "user" ? UserAuth(clearLoad) : await ctx.LoadAuth.CheckAuthenticationAsync(extra, authType);
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
        List<object?> minionList = [.. minions];
        List<object?> missingList = [.. missing];
        var pub = PrepPub(minions, minionList, missingList, jid, clearLoad, extra, delimiter);
        ctx.Executor.Publish(pub, minions, ctx.Stop);
        return Py.Map(("enc", "clear"), ("load", Py.Map(("jid", jid), ("minions", minionList), ("missing", missingList))));
    }

    // The failed publish fires salt/job/error (or salt/job/<jid>/error) with the load, as Salt does, but
    // without its credentials (deliberate difference: Salt fires kwargs.password/token and the root key).
    private OrderedDictionary<string, object?> PublishError(OrderedDictionary<string, object?> clearLoad, string name, string message)
    {
        var err = Py.Map(("error", Py.Map(("name", name), ("message", message))));
        var data = Credentials.Scrub(clearLoad);
        data["error"] = err["error"];
        var jidPart = clearLoad.TryGetValue("jid", out var j) ? PyValue.Str(j) : "";
        ctx.Bus.FireStamped(EventTag.JobError(jidPart), data);
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
}
