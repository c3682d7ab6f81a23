using SaltApi.EmbeddedMaster.Runners;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.EmbeddedMaster.Wheel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Jobs;

namespace SaltApi.EmbeddedMaster.Channel;

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
            ctx.Bus.FireStamped(EventTag.New(tag), data);
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

        ctx.Bus.FireStamped(EventTag.Ret(tag), data);
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

    // Salt's format_call: named parameters from the map, the rest to **kwargs or an error.
    private static (List<object?> Args, OrderedDictionary<string, object?> Kwargs, BoundArgs Bound) FormatCall(PySignature sig, OrderedDictionary<string, object?> low, string fullName)
    {
        var data = Py.Copy(low);
        var kwargs = Py.Map();
        foreach (var (name, def) in sig.Optional)
        {
            kwargs[name] = data.Remove(name, out var v) ? v : def;
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

        return (args, kwargs, sig.Bind(args, kwargs));
    }
}
