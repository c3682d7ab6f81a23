using SaltApi.EmbeddedMaster.Jobs;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Runners;

/// <summary>A runner function: signature, docstring, implementation (runs on the master).</summary>
internal sealed record RunnerFunction(PySignature Signature, string Doc, Func<MasterContext, BoundArgs, Task<object?>> Run);

/// <summary>The runners this master has: jobs.*, manage.*, test.*, auth.*, with Salt 3006's return shapes.</summary>
internal static class RunnerFunctions
{
    public static readonly IReadOnlyDictionary<string, RunnerFunction> All = Build();

    private static Dictionary<string, RunnerFunction> Build()
    {
        var f = new Dictionary<string, RunnerFunction>(StringComparer.Ordinal);
        void Add(string name, string[] req, (string, object?)[] opt, bool varArgs, bool varKw, string doc, Func<MasterContext, BoundArgs, Task<object?>> run) =>
            f[name] = new RunnerFunction(new PySignature(name.Split('.')[1], req, opt, varArgs, varKw), doc, run);
        static Task<object?> V(object? v) => Task.FromResult(v);

        Add("test.arg", [], [], true, true, "Output the given args and kwargs\n\nKwargs will be filtered for 'private' keynames.\n", (_, a) =>
        {
            var kw = Py.Copy(a.VarKwargs.Where(kv => !kv.Key.StartsWith("__", StringComparison.Ordinal)));
            return V(Py.Map(("args", a.VarArgs.ToList()), ("kwargs", kw)));
        });
        Add("test.raw_arg", [], [], true, true, "Output the given args and kwargs\n", (_, a) => V(Py.Map(("args", a.VarArgs.ToList()), ("kwargs", Py.Copy(a.VarKwargs)))));
        Add("test.sleep", [], [("s_time", 10L)], false, false, "Sleep t seconds, then return True\n", async (c, a) =>
        {
            var s = a["s_time"] is double d ? d : MinionFunctions.PyInt(a["s_time"]);
            await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(s, 0, 3600)), c.Stop);
            return true;
        });
        Add("test.metasyntactic", [], [("locality", "us")], false, false, "Return common metasyntactic variables for the given locality\n", (_, a) =>
            V(PyValue.Str(a["locality"]) == "uk" ? new List<object?> { "wibble", "wobble", "wubble", "flob" } : new List<object?> { "foo", "bar", "baz", "qux", "quux", "corge", "grault", "garply", "waldo", "fred", "plugh", "xyzzy", "thud" }));
        Add("test.get_opts", [], [], false, false, "Return the opts for this run\n", (c, _) => V(Py.Map(("interface", c.Config.Interface), ("ret_port", (long)c.Config.RetPort), ("cachedir", c.Config.CacheDir), ("sock_dir", c.Config.SockDir))));

        Add("jobs.lookup_jid", ["jid"], [("ext_source", null), ("returned", true), ("missing", false), ("display_progress", false)], false, false, "Return the printout from a previously executed job\n", (c, a) => V(LookupJid(c, a)));
        Add("jobs.list_job", ["jid"], [("ext_source", null), ("display_progress", false)], false, false, "List a specific job given by its jid\n", (c, a) => V(ListJob(c, PyValue.Str(a["jid"]))));
        Add("jobs.list_jobs", [], [("ext_source", null), ("outputter", null), ("search_metadata", null), ("search_function", null), ("search_target", null), ("start_time", null), ("end_time", null), ("display_progress", false)], false, true, "List all detectable jobs and associated functions\n", (c, a) => V(ListJobs(c, a)));
        Add("jobs.print_job", ["jid"], [("ext_source", null)], false, false, "Print a specific job's detail given by it's jid, including the return data.\n", (c, a) =>
        {
            var jid = PyValue.Str(a["jid"]);
            var job = c.Jobs.Get(jid);
            var info = JobCache.FormatJid(jid, job?.Load, withMinions: false);
            info["Result"] = GetJid(job);
            return V(Py.Map((jid, info)));
        });
        Add("jobs.active", [], [("display_progress", false)], false, false, "Return a report on all actively running jobs from a job id centric\nperspective\n", (c, _) => V(Active(c)));
        Add("jobs.exit_success", ["jid"], [("ext_source", null)], false, false, "Check if a job has been executed and exit successfully\n", (c, a) =>
        {
            var job = c.Jobs.Get(PyValue.Str(a["jid"]));
            var ret = Py.Map();
            if (job is not null)
            {
                var returns = job.Returns.ToDictionary(r => r.Id, r => r.Ret, StringComparer.Ordinal);
                foreach (var id in job.Minions)
                {
                    ret[id] = returns.TryGetValue(id, out var r) && PyValue.Truthy(r.Get("success"));
                }
            }

            return V(ret);
        });

        Add("manage.status", [], [("output", true), ("tgt", "*"), ("tgt_type", "glob"), ("timeout", null), ("gather_job_timeout", null)], false, false, "Print the status of all known salt minions\n", (c, a) =>
        {
            var (up, down) = Status(c, a["tgt"], PyValue.Str(a["tgt_type"]));
            return V(Py.Map(("up", up), ("down", down)));
        });
        Add("manage.up", [], [("tgt", "*"), ("tgt_type", "glob"), ("timeout", null), ("gather_job_timeout", null)], false, false, "Print a list of all of the minions that are up\n", (c, a) => V(Status(c, a["tgt"], PyValue.Str(a["tgt_type"])).Up));
        Add("manage.down", [], [("removekeys", false), ("tgt", "*"), ("tgt_type", "glob"), ("timeout", null), ("gather_job_timeout", null)], false, false, "Print a list of all the down or unresponsive salt minions\n", (c, a) =>
        {
            var down = Status(c, a["tgt"], PyValue.Str(a["tgt_type"])).Down;
            if (PyValue.Truthy(a["removekeys"]))
            {
                foreach (var id in down)
                {
                    c.Keys.Delete(PyValue.Str(id));
                }
            }

            return V(down);
        });
        Add("manage.present", [], [("subset", null), ("show_ip", false)], false, false, "Print a list of all minions that are up according to Salt's presence\ndetection (no commands will be sent to minions)\n", (c, a) =>
        {
            var present = c.Registry.Accepted.Where(id => c.Registry.Sim(id) is { Connected: true }).ToList();
            return PyValue.Truthy(a["show_ip"])
                ? V(Py.Copy(present.Select(id => KeyValuePair.Create(id, Py.AsList(c.Registry.Grains(id)?.Get("ipv4")).LastOrDefault() ?? (object?)""))))
                : V(present.Cast<object?>().ToList());
        });
        Add("manage.not_present", [], [("subset", null), ("show_ip", false)], false, false, "Print a list of all minions that are NOT up according to Salt's presence\ndetection (no commands will be sent)\n", (c, _) =>
            V(c.Registry.Accepted.Where(id => c.Registry.Sim(id) is not { Connected: true }).Cast<object?>().ToList()));
        Add("manage.list_state", [], [("subset", null), ("show_ip", false)], false, false, "Print a list of all minions that are up according to Salt's presence\ndetection (no commands will be sent to minions)\n", (c, _) =>
            V(c.Registry.Accepted.Where(id => c.Registry.Sim(id) is { Connected: true }).Cast<object?>().ToList()));

        Add("auth.mk_token", [], [], false, true, "Create an eauth token using provided credentials\n", async (c, a) =>
        {
            var load = Py.Copy(a.VarKwargs.Where(kv => !kv.Key.StartsWith("__", StringComparison.Ordinal)));
            var tok = await c.LoadAuth.MakeTokenAsync(load, c.Config.TokenExpire);
            return tok is null ? "" : tok;
        });
        Add("auth.del_token", ["token"], [], false, false, "Delete an eauth token by name\n", (c, a) =>
        {
            var tok = PyValue.Str(a["token"]);
            if (c.LoadAuth.Tokens.Get(tok) is null)
            {
                return V(false);
            }

            c.LoadAuth.Tokens.Remove(tok);
            return V(true);
        });
        return f;
    }

    private static (List<object?> Up, List<object?> Down) Status(MasterContext c, object? tgt, string tgtType)
    {
        var minions = c.CkMinions.Check(tgt, tgtType).Minions;
        var up = minions.Where(id => c.Registry.Sim(id) is { Connected: true }).Order(StringComparer.Ordinal).Cast<object?>().ToList();
        var down = minions.Where(id => c.Registry.Sim(id) is not { Connected: true }).Order(StringComparer.Ordinal).Cast<object?>().ToList();
        return (up, down);
    }

    /// <summary>local_cache's get_jid: minion → {return, [out], retcode, success}.</summary>
    public static OrderedDictionary<string, object?> GetJid(Job? job)
    {
        var r = Py.Map();
        if (job is null)
        {
            return r;
        }

        foreach (var (id, ret) in job.Returns)
        {
            var m = Py.Map(("return", ret.Get("return")));
            if (ret.ContainsKey("out"))
            {
                m["out"] = ret.Get("out");
            }

            m["retcode"] = ret.Get("retcode");
            m["success"] = ret.Get("success");
            r[id] = m;
        }

        return r;
    }

    private static OrderedDictionary<string, object?> LookupJid(MasterContext c, BoundArgs a)
    {
        var jid = PyValue.Str(a["jid"]);
        var job = c.Jobs.Get(jid);
        var ret = Py.Map();
        if (job is null)
        {
            return ret;
        }

        if (PyValue.Truthy(a["returned"]))
        {
            foreach (var (id, r) in job.Returns)
            {
                ret[id] = r.Get("return");
            }
        }

        if (PyValue.Truthy(a["missing"]))
        {
            foreach (var id in job.Minions.Where(id => !job.HasReturn(id)))
            {
                ret[id] = "Minion did not return";
            }
        }

        return ret;
    }

    private static OrderedDictionary<string, object?> ListJob(MasterContext c, string jid)
    {
        var job = c.Jobs.Get(jid);
        var ret = Py.Map(("jid", jid));
        var load = job is null ? null : Py.Copy(job.Load);
        if (load is not null)
        {
            load["Minions"] = job!.Minions.Cast<object?>().ToList();
        }

        foreach (var (k, v) in JobCache.FormatJid(jid, load, withMinions: true))
        {
            ret[k] = v;
        }

        ret["Result"] = GetJid(job);
        return ret;
    }

    private static OrderedDictionary<string, object?> ListJobs(MasterContext c, BoundArgs a)
    {
        var searchFunction = a["search_function"];
        var searchTarget = a["search_target"];
        var searchMetadata = Py.AsMap(a["search_metadata"]);
        var start = ParseTime(a["start_time"]);
        var end = ParseTime(a["end_time"]);
        var limit = a.VarKwargs.Get("limit") is { } l ? MinionFunctions.PyInt(l) : 0;
        var ret = Py.Map();
        var jobs = c.Jobs.All.OrderBy(j => j.Jid, StringComparer.Ordinal).ToList();
        foreach (var job in jobs)
        {
            var info = JobCache.FormatJid(job.Jid, job.Load, withMinions: false);
            if (searchMetadata is { Count: > 0 })
            {
                var meta = Py.AsMap(info.Get("Metadata"));
                if (meta is null || searchMetadata.Any(kv => !meta.TryGetValue(kv.Key, out var mv) || PyValue.Str(mv) != PyValue.Str(kv.Value)))
                {
                    continue;
                }
            }

            if (searchFunction is not null && !AnyGlob(searchFunction, PyValue.Str(info.Get("Function"))))
            {
                continue;
            }

            if (searchTarget is not null)
            {
                var targets = info.Get("Target") is List<object?> tl ? tl.Select(PyValue.Str).ToList() : [PyValue.Str(info.Get("Target"))];
                if (!targets.Any(t => AnyGlob(searchTarget, t)))
                {
                    continue;
                }
            }

            // A missing start_time or end_time (null) bounds nothing: a lifted comparison with null is false.
            if (job.Started < start || job.Started > end)
            {
                continue;
            }

            ret[job.Jid] = info;
        }

        if (limit > 0 && ret.Count > limit)
        {
            ret = Py.Copy(ret.Skip(ret.Count - (int)limit).ToList());
        }

        return ret;
    }

    private static bool AnyGlob(object? patterns, string value) =>
        Py.AsList(patterns).Select(PyValue.Str).Any(p => PyValue.FnMatch(value, p));

    private static DateTime? ParseTime(object? v)
    {
        if (v is null)
        {
            return null;
        }

        var s = PyValue.Str(v);
        const System.Globalization.DateTimeStyles Utc = System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (DateTime.TryParse(s, culture, Utc, out var t) || DateTime.TryParseExact(s, "yyyy, MMM dd HH:mm:ss.ffffff", culture, Utc, out t))
        {
            return t;
        }

        throw new PyException("ValueError", $"Unknown string format: {s}");
    }

    private static OrderedDictionary<string, object?> Active(MasterContext c)
    {
        var ret = Py.Map();
        foreach (var (jid, data, pids) in c.Running.Snapshot().OrderBy(s => s.Jid, StringComparer.Ordinal))
        {
            var info = JobCache.FormatJid(jid, data, withMinions: false);
            info["Running"] = pids.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (object?)Py.Map((p.Key, p.Value))).ToList();
            var job = c.Jobs.Get(jid);
            info["Returned"] = job?.Returns.Select(r => (object?)r.Id).ToList() ?? [];
            ret[jid] = info;
        }

        return ret;
    }
}
