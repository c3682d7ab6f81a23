using System.Globalization;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>What a minion function sees: the minion, the job's publish data, the registry.</summary>
internal sealed record MinionCall(SimMinion Minion, OrderedDictionary<string, object?> Pub, MinionRegistry Registry, RunningJobs Running, CancellationToken Stop);

/// <summary>A built-in minion function: signature, docstring, implementation.</summary>
internal sealed record MinionFunction(PySignature Signature, string Doc, Func<MinionCall, BoundArgs, ValueTask<object?>> Run);

/// <summary>A minion function's non-zero exit code (Salt's <c>__context__["retcode"]</c>).</summary>
internal sealed class RetcodeResult(object? value, long retcode)
{
    public object? Value { get; } = value;

    public long Retcode { get; } = retcode;
}

/// <summary>
/// The built-in execution modules of the simulated minions (test, grains, sys, saltutil), with the
/// return values of Salt 3006's modules. Nothing runs on the host.
/// </summary>
internal static class MinionFunctions
{
    public const string SaltVersion = "3006.0";

    public static readonly IReadOnlyDictionary<string, MinionFunction> All = Build();

    private static Dictionary<string, MinionFunction> Build()
    {
        var f = new Dictionary<string, MinionFunction>(StringComparer.Ordinal);
        void Add(string name, string[] req, (string, object?)[] opt, bool varArgs, bool varKw, string doc, Func<MinionCall, BoundArgs, ValueTask<object?>> run) =>
            f[name] = new MinionFunction(new PySignature(name.Split('.')[1], req, opt, varArgs, varKw), doc, run);
        static ValueTask<object?> V(object? v) => ValueTask.FromResult(v);

        Add("test.ping", [], [], false, false, "Used to make sure the minion is up and responding. Not an ICMP ping.\n\nReturns ``True``.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.ping\n", (_, _) => V(true));
        Add("test.echo", ["text"], [], false, false, "Return a string - used for testing the connection\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.echo 'foo bar baz quo qux'\n", (_, a) => V(a["text"]));
        Add("test.arg", [], [], true, true, "Print out the data passed into the function ``*args`` and ```kwargs``, this\nis used to both test the publication data and cli argument passing, but\nalso to display the information available within the publication data.\n\n:return: ``{\"args\": args, \"kwargs\": kwargs}``\n:rtype: dict\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.arg 1 \"two\" 3.1 txt=\"hello\" wow='{a: 1, b: \"hello\"}'\n",
            (_, a) => V(Py.Map(("args", a.VarArgs.ToList()), ("kwargs", Py.Copy(a.VarKwargs)))));
        Add("test.arg_repr", [], [], true, true, "Print out the data passed into the function ``*args`` and ```kwargs``, this\nis used to both test the publication data and cli argument passing, but\nalso to display the information available within the publication data.\n",
            (_, a) => V(Py.Map(("args", a.VarArgs.Select(PyValue.Repr).Cast<object?>().ToList()), ("kwargs", KwRepr(a.VarKwargs)))));
        Add("test.kwarg", [], [], false, true, "Print out the data passed into the function ``**kwargs``, this is used to\nboth test the publication data and cli kwarg passing, but also to display\nthe information available within the publication data.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.kwarg num=1 txt=\"two\" env='{a: 1, b: \"hello\"}'\n", (_, a) => V(Py.Copy(a.VarKwargs)));
        Add("test.version", [], [], false, false, "Return the version of salt on the minion\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.version\n", (_, _) => V(SaltVersion));
        Add("test.versions_report", [], [("include_salt_cloud", false)], false, false, "Returns versions of components used by salt\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.versions_report\n", (_, _) => V(VersionsReport()));
        Add("test.versions", [], [], false, false, "This function is an alias of ``versions_report``.\n", (_, _) => V(VersionsReport()));
        Add("test.true", [], [], false, false, "Always return True\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.true\n", (_, _) => V(true));
        Add("test.false", [], [], false, false, "Always return False\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.false\n", (_, _) => V(false));
        Add("test.conf_test", [], [], false, false, "Return the value for test.foo in the minion configuration file, or return\nthe default value\n", (_, _) => V("baz"));
        Add("test.outputter", ["data"], [], false, false, "Test the outputter, pass in data to return\n", (_, a) => V(a["data"]));
        Add("test.collatz", ["start"], [], false, false, "Execute the collatz conjecture from the passed starting number,\nreturns the sequence and the time it took to compute. Used for\nperformance tests.\n", (_, a) => V(Collatz(a["start"])));
        Add("test.fib", ["num"], [], false, false, "Return the num-th Fibonacci number, and the time it took to compute in\nseconds. Used for performance tests.\n\nThis function is designed to have terrible performance.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.fib 3\n", (_, a) => V(Fib(a["num"])));
        Add("test.sleep", ["length"], [], false, false, "Instruct the minion to initiate a process that will sleep for a given\nperiod of time.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.sleep 20\n", SleepAsync);
        Add("test.rand_sleep", [], [("max", 60L)], false, false, "Sleep for a random number of seconds, used to test long-running commands\nand minions returning at differing intervals\n", async (c, a) =>
        {
            var max = PyInt(a["max"]);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(Random.Shared.Next(0, (int)Math.Clamp(max, 0, 3600) + 1), 3600)), c.Stop);
            return true;
        });
        Add("test.exception", [], [("message", "Test Exception")], false, false, "Raise an exception\n\nOptionally provide an error message or output the full stack.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.exception 'Oh noes!'\n", (_, a) => throw new PyException("Exception", PyValue.Str(a["message"])));
        Add("test.retcode", [], [("code", 42L)], false, false, "Test that the returncode system is functioning correctly\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' test.retcode 42\n", (_, a) => V(new RetcodeResult(true, PyInt(a["code"]))));
        Add("test.get_opts", [], [], false, false, "Return the configuration options passed to this minion\n", (c, _) => V(Py.Map(("id", c.Minion.Id), ("master", "127.0.0.1"), ("saltenv", null), ("pillarenv", null))));

        Add("grains.items", [], [("sanitize", false)], false, false, "Return all of the minion's grains\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' grains.items\n", (c, _) => V(c.Registry.Grains(c.Minion.Id)));
        Add("grains.item", [], [], true, true, "Return one or more grains\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' grains.item os\n    salt '*' grains.item os osrelease oscodename\n", (c, a) =>
        {
            var grains = c.Registry.Grains(c.Minion.Id) ?? Py.Map();
            var def = a.VarKwargs.Get("default") ?? "";
            var delim = a.VarKwargs.Get("delimiter") as string ?? ":";
            var ret = Py.Map();
            foreach (var key in a.VarArgs)
            {
                var k = PyValue.Str(key);
                ret[k] = Traverse(grains, k, def, delim);
            }

            return V(ret);
        });
        Add("grains.get", ["key"], [("default", ""), ("delimiter", ":"), ("ordered", true)], false, false, "Attempt to retrieve the named value from grains, if the named value is not\navailable return the passed default. The default return is an empty string.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' grains.get pkg:apache\n",
            (c, a) => V(Traverse(c.Registry.Grains(c.Minion.Id) ?? Py.Map(), PyValue.Str(a["key"]), a["default"], a["delimiter"] as string ?? ":")));
        Add("grains.ls", [], [], false, false, "Return a list of all available grains\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' grains.ls\n", (c, _) => V((c.Registry.Grains(c.Minion.Id) ?? Py.Map()).Keys.Order(StringComparer.Ordinal).Cast<object?>().ToList()));
        Add("grains.has_value", ["key"], [], false, false, "Determine whether a key exists in the grains dictionary.\n", (c, a) => V(PyValue.Truthy(Traverse(c.Registry.Grains(c.Minion.Id) ?? Py.Map(), PyValue.Str(a["key"]), false, ":"))));

        // The simulated minions have no pillar, schedule or beacons: Salt's empty answers.
        Add("pillar.items", [], [], true, true, "Calls the master for a fresh pillar and generates the pillar data on the\nfly\n", (_, _) => V(Py.Map()));
        Add("pillar.raw", [], [("key", null)], false, false, "Return the raw pillar data that is currently loaded into the minion.\n", (_, _) => V(Py.Map()));
        Add("pillar.get", ["key"], [("default", ""), ("merge", false), ("merge_nested_lists", null), ("delimiter", ":"), ("pillarenv", null), ("saltenv", null)], false, false, "Attempt to retrieve the named value from pillar, if the named value is not\navailable return the passed default. The default return is an empty string.\n", (_, a) => V(a["default"]));
        Add("pillar.item", [], [], true, true, "Return one or more pillar entries from the in-memory pillar data.\n", (_, a) =>
        {
            var ret = Py.Map();
            foreach (var k in a.VarArgs)
            {
                ret[PyValue.Str(k)] = a.VarKwargs.Get("default") ?? "";
            }

            return V(ret);
        });
        Add("pillar.ls", [], [], true, true, "Calls the master for a fresh pillar, generates the pillar data on the\nfly, and returns a list of the pillar keys\n", (_, _) => V(new List<object?>()));
        Add("saltutil.refresh_pillar", [], [("wait", false), ("timeout", 30L), ("clean_cache", true)], false, true, "Signal the minion to refresh the in-memory pillar data.\n", (_, _) => V(true));
        Add("saltutil.sync_grains", [], [("saltenv", null), ("refresh", true), ("extmod_whitelist", null), ("extmod_blacklist", null), ("clean_pillar_cache", false)], false, false, "Sync grains modules from salt://_grains to the minion\n", (_, _) => V(new List<object?>()));
        Add("schedule.list", [], [("show_all", false), ("where", null), ("return_yaml", true)], false, false, "List the jobs currently scheduled on the minion\n", (_, a) => V(PyValue.Truthy(a["return_yaml"]) ? "schedule: {}\n" : Py.Map()));
        Add("beacons.list", [], [("return_yaml", true), ("include_pillar", true), ("include_opts", true)], false, true, "List the beacons currently configured on the minion.\n", (_, a) => V(PyValue.Truthy(a["return_yaml"]) ? "beacons: {}\n" : Py.Map()));

        Add("sys.list_functions", [], [], true, true, "List the functions for all modules. Optionally, specify a module or modules\nfrom which to list.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' sys.list_functions\n", (_, a) => V(FunctionsMatching(a.VarArgs).Cast<object?>().ToList()));
        Add("sys.list_modules", [], [], true, false, "List the modules loaded on the minion\n", (_, a) => V(All.Keys.Select(k => k.Split('.')[0]).Distinct().Where(m => a.VarArgs.Count == 0 || a.VarArgs.Any(p => PyValue.FnMatch(m, PyValue.Str(p)))).Order(StringComparer.Ordinal).Cast<object?>().ToList()));
        Add("sys.doc", [], [], true, false, "Return the docstrings for all modules. Optionally, specify a module or a\nfunction to narrow the selection.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' sys.doc\n", (_, a) =>
        {
            var ret = Py.Map();
            foreach (var name in FunctionsMatching(a.VarArgs))
            {
                ret[name] = All[name].Doc;
            }

            return V(ret);
        });

        Add("saltutil.find_job", ["jid"], [], false, false, "Return the data for a specific job id that is currently running.\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' saltutil.find_job <job id>\n", (c, a) =>
            V(c.Running.Find(c.Minion.Id, PyValue.Str(a["jid"])) ?? Py.Map()));
        Add("saltutil.running", [], [], false, false, "Return the data on all running salt processes on the minion\n\nCLI Example:\n\n.. code-block:: bash\n\n    salt '*' saltutil.running\n", (c, _) =>
            V(c.Running.For(c.Minion.Id).Cast<object?>().ToList()));
        Add("saltutil.kill_job", ["jid"], [], false, false, "Sends a kill signal (SIGKILL 9) to the named salt job's process\n", (c, a) => V(c.Running.Kill(c.Minion.Id, PyValue.Str(a["jid"])) ? Py.Map() : null));
        Add("saltutil.term_job", ["jid"], [], false, false, "Sends a termination signal (SIGTERM 15) to the named salt job's process\n", (c, a) => V(c.Running.Kill(c.Minion.Id, PyValue.Str(a["jid"])) ? Py.Map() : null));
        Add("saltutil.sync_all", [], [("saltenv", null), ("refresh", true), ("extmod_whitelist", null), ("extmod_blacklist", null)], false, false, "Sync down all of the dynamic modules from the file server for a specific environment.\n", (_, _) =>
            V(Py.Map(("clouds", new List<object?>()), ("beacons", new List<object?>()), ("modules", new List<object?>()), ("states", new List<object?>()), ("sdb", new List<object?>()), ("grains", new List<object?>()), ("renderers", new List<object?>()), ("returners", new List<object?>()), ("output", new List<object?>()), ("utils", new List<object?>()), ("log_handlers", new List<object?>()), ("executors", new List<object?>()), ("proxymodules", new List<object?>()), ("engines", new List<object?>()), ("thorium", new List<object?>()), ("serializers", new List<object?>()), ("matchers", new List<object?>()), ("pillar", new List<object?>()), ("wrapper", new List<object?>()))));
        return f;
    }

    private static async ValueTask<object?> SleepAsync(MinionCall c, BoundArgs a)
    {
        // As test.sleep: time.sleep(int(length)); bounded here to an hour.
        var seconds = PyInt(a["length"]);
        await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 3600)), c.Stop);
        return true;
    }

    /// <summary>Python's <c>int(x)</c> for the values a job carries; ValueError otherwise.</summary>
    public static long PyInt(object? v) => v switch
    {
        long l => l,
        ulong ul => (long)ul,
        double d => (long)Math.Truncate(d),
        bool b => b ? 1 : 0,
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        string s => throw new PyException("ValueError", $"invalid literal for int() with base 10: {PyValue.Repr(s)}"),
        _ => throw new PyException("TypeError", $"int() argument must be a string, a bytes-like object or a real number, not '{PyTypeName(v)}'"),
    };

    private static string PyTypeName(object? v) => v switch
    {
        null => "NoneType",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        _ => "object",
    };

    private static List<object?> Fib(object? n)
    {
        var num = PyInt(n);
        if (num < 0)
        {
            throw new PyException("ValueError", "Negative number is not allowed!");
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        if (num < 2)
        {
            return [num, watch.Elapsed.TotalSeconds];
        }

        System.Numerics.BigInteger prev = 0, curr = 1;
        for (long i = 1; i < Math.Min(num, 100_000); i++)
        {
            (prev, curr) = (curr, prev + curr);
        }

        object value = curr <= long.MaxValue ? (object)(long)curr : curr;
        return [value, watch.Elapsed.TotalSeconds];
    }

    private static List<object?> Collatz(object? start)
    {
        var n = PyInt(start);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var steps = new List<object?>();
        var guard = 0;
        while (n > 1 && guard++ < 100_000)
        {
            steps.Add(n);
            n = n % 2 == 0 ? n / 2 : (3 * n) + 1;
        }

        return [steps, watch.Elapsed.TotalSeconds];
    }

    private static OrderedDictionary<string, object?> KwRepr(OrderedDictionary<string, object?> kw)
    {
        var m = Py.Map();
        foreach (var (k, v) in kw)
        {
            m[k] = PyValue.Repr(v);
        }

        return m;
    }

    /// <summary>Function names matching <c>sys.*</c>-style arguments (module names or globs), sorted.</summary>
    public static IEnumerable<string> FunctionsMatching(IReadOnlyList<object?> patterns)
    {
        var names = All.Keys.Order(StringComparer.Ordinal);
        if (patterns.Count == 0)
        {
            return names;
        }

        return names.Where(n => patterns.Select(PyValue.Str).Any(p =>
            p.Contains('*', StringComparison.Ordinal) ? PyValue.FnMatch(n, p) : n == p || n.StartsWith(p + ".", StringComparison.Ordinal)));
    }

    /// <summary>Salt's <c>traverse_dict_and_list</c> with a default.</summary>
    public static object? Traverse(OrderedDictionary<string, object?> data, string key, object? def, string delimiter) =>
        Py.TryTraverse(data, key, delimiter, out var value) ? value : def;

    private static OrderedDictionary<string, object?> VersionsReportMap() => Py.Map(
        ("Salt Version", Py.Map(("Salt", SaltVersion))),
        ("Python Version", Py.Map(("Python", "3.10.13 (main, Oct  4 2023, 08:23:03) [GCC 11.2.0]"))),
        ("Dependency Versions", Py.Map(("msgpack", "1.0.2"), ("pyzmq", "23.2.0"), ("ZMQ", "4.3.4"), ("Jinja2", "3.1.2"), ("PyYAML", "6.0.1"))),
        ("System Versions", Py.Map(("dist", "debian 12 bookworm"), ("locale", "utf-8"), ("machine", "x86_64"), ("release", "6.1.0-13-amd64"), ("system", "Linux"), ("version", "Debian GNU/Linux 12 bookworm"))));

    // salt.version.versions_report: one padding for every section (the longest dependency or system
    // name, at least len("Not Installed"), plus one), names sorted case-insensitively, " " after each section.
    private static List<object?> VersionsReport()
    {
        var info = VersionsReportMap();
        var deps = (OrderedDictionary<string, object?>)info["Dependency Versions"]!;
        var sys = (OrderedDictionary<string, object?>)info["System Versions"]!;
        var pad = Math.Max(Math.Max(deps.Keys.Max(k => k.Length), sys.Keys.Max(k => k.Length)), "Not Installed".Length) + 1;
        var lines = new List<object?>();
        foreach (var (section, values) in info)
        {
            lines.Add(section + ":");
            foreach (var (k, v) in ((OrderedDictionary<string, object?>)values!).OrderBy(kv => kv.Key.ToLowerInvariant(), StringComparer.Ordinal))
            {
                lines.Add($"{k.PadLeft(pad)}: {v ?? "Not Installed"}");
            }

            lines.Add(" ");
        }

        return lines;
    }
}
