using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Jobs;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>
/// Runs a published job on the simulated minions and fires each return as the master does on
/// receipt (<c>salt/job/&lt;jid&gt;/ret/&lt;id&gt;</c>) with Salt's field order, storing it in the job cache.
/// One clock entry per job, not per minion, so 10,000 minions cost a loop, not 10,000 tasks.
/// </summary>
internal sealed partial class MinionExecutor(MinionRegistry registry, EventPublisher bus, JobCache cache, RunningJobs running, MinionClock clock, double latencyMs, ILogger log)
{
    private static long nextPid = 10000;

    /// <summary>Starts the job on the targeted minions that are simulated and connected.</summary>
    public void Publish(OrderedDictionary<string, object?> pub, IReadOnlyList<string> minions, CancellationToken stop)
    {
        var targets = new List<SimMinion>(minions.Count);
        foreach (var id in minions)
        {
            if (registry.Sim(id) is { Connected: true } m)
            {
                targets.Add(m);
            }
        }

        if (targets.Count == 0)
        {
            return;
        }

        var jid = (string)pub["jid"]!;
        var jobStop = running.Start(jid, pub, targets.Count, stop);
        foreach (var m in targets)
        {
            running.Add(jid, m.Id, Interlocked.Increment(ref nextPid));
        }

        var job = new PublishedJob(this, jid, pub, targets, jobStop, stop);
        var latency = TimeSpan.FromMilliseconds(Math.Min(latencyMs, int.MaxValue)); // Task.Delay's bound, ~24 days
        if (!clock.Schedule(latency, job))
        {
            // The clock is full: this job waits on a coarse timer instead of being lost.
            _ = Task.Delay(latency, stop).ContinueWith(static (_, s) => ((PublishedJob)s!).Execute(), job, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    /// <summary>A job whose minion latency is over: the clock hands it to the thread pool.</summary>
    private sealed class PublishedJob(MinionExecutor owner, string jid, OrderedDictionary<string, object?> pub, List<SimMinion> targets, CancellationToken jobStop, CancellationToken stop) : IThreadPoolWorkItem
    {
        public void Execute() => _ = owner.RunJobAsync(jid, pub, targets, jobStop, stop);
    }

    private async Task RunJobAsync(string jid, OrderedDictionary<string, object?> pub, List<SimMinion> targets, CancellationToken jobStop, CancellationToken stop)
    {
        // For speed: the returns that are ready at once go to the bus as one write per slice of minions.
        var batch = new ReturnBatch();
        try
        {
            // The master stopped while the job waited (as a cancelled Task.Delay did): no returns.
            stop.ThrowIfCancellationRequested();
            // Each minion gets its own copy of the publish data, as each receives its own message; the
            // minion only changes maps inside arg (load_args_and_kwargs), so flat data is shared, not copied.
            var shared = IsFlat(pub);
            List<Task>? tasks = null;
            for (var i = 0; i < targets.Count; i++)
            {
                var t = RunOneAsync(targets[i], jid, shared ? pub : DeepCopy(pub), batch, jobStop);
                if (!t.IsCompleted)
                {
                    (tasks ??= []).Add(t);
                }

                // Many minions: let other work (requests, bus writers) run between slices.
                if (i % 128 == 127)
                {
                    batch.Flush(bus, close: false);
                    await Task.Yield();
                }
            }

            batch.Flush(bus, close: true);
            if (tasks is not null)
            {
                await Task.WhenAll(tasks);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "job {Jid} failed on the simulated minions", jid);
        }
        finally
        {
            batch.Flush(bus, close: true);
            running.End(jid);
        }
    }

    private async Task RunOneAsync(SimMinion minion, string jid, OrderedDictionary<string, object?> data, ReturnBatch batch, CancellationToken jobStop)
    {
        try
        {
            // The return load as the master receives it: cmd, id, then the minion's return in Salt's order.
            var load = new OrderedDictionary<string, object?>(ReturnKeys, StringComparer.Ordinal) { ["cmd"] = "_return", ["id"] = minion.Id };
            await ExecuteAsync(minion, data, load, jobStop);

            // The event is the load plus _stamp, encoded before the load goes to the job cache without it.
            load["_stamp"] = EventFrame.Stamp(DateTime.UtcNow);
            var frame = EventFrame.Encode(EventTag.JobRet(jid, minion.Id), load);
            load.Remove("_stamp");
            cache.Get(jid)?.AddReturn(minion.Id, load);
            if (!batch.TryAdd(frame))
            {
                bus.Publish(frame);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            running.Done(jid, minion.Id);
        }
    }

    // cmd, id, success, return, retcode, out, jid, fun, fun_args, metadata, _stamp: never resized.
    private const int ReturnKeys = 11;

    /// <summary>
    /// Return frames of one job waiting to go to the bus together. A return that completes after its slice
    /// was flushed (a function that waits) is published on its own.
    /// </summary>
    private sealed class ReturnBatch
    {
        private readonly List<byte[]> frames = [];
        private bool closed;

        public bool TryAdd(byte[] frame)
        {
            lock (frames)
            {
                if (closed)
                {
                    return false;
                }

                frames.Add(frame);
                return true;
            }
        }

        public void Flush(EventPublisher bus, bool close)
        {
            byte[][] ready;
            lock (frames)
            {
                closed |= close;
                if (frames.Count == 0)
                {
                    return;
                }

                ready = [.. frames];
                frames.Clear();
            }

            bus.Publish(ready);
        }
    }

    /// <summary>
    /// Salt's minion <c>_thread_return</c>: parse args (load_args_and_kwargs), run, and build the
    /// return map in Salt's key order: success, return, retcode, [out], jid, fun, fun_args, [metadata].
    /// The keys are added to <paramref name="into"/> when given (after what it holds), else to a new map.
    /// </summary>
    public async Task<OrderedDictionary<string, object?>> ExecuteAsync(SimMinion minion, OrderedDictionary<string, object?> data, OrderedDictionary<string, object?>? into, CancellationToken ct)
    {
        var ret = into ?? Py.Map();
        ret["success"] = false;
        var funName = data.Get("fun");
        if (funName is List<object?> multi)
        {
            // A compound job (fun is a list): one return per function, keyed by name.
            var rets = Py.Map();
            var retcodes = Py.Map();
            var success = Py.Map();
            var argLists = Py.AsList(data.Get("arg"));
            for (var i = 0; i < multi.Count; i++)
            {
                var one = Py.Copy(data);
                one["fun"] = multi[i];
                one["arg"] = i < argLists.Count ? Py.AsList(argLists[i]) : new List<object?>();
                var r = await ExecuteAsync(minion, one, null, ct);
                var name = PyValue.Str(multi[i]);
                rets[name] = r.Get("return");
                retcodes[name] = r.Get("retcode");
                success[name] = r.Get("success");
            }

            ret["return"] = rets;
            ret["retcode"] = retcodes;
            ret["success"] = success;
        }
        else
        {
            var fun = PyValue.Str(funName);
            if (!MinionFunctions.All.TryGetValue(fun, out var func))
            {
                // As the minion: sys.doc("<fun>*") first; when it finds functions, the docs come back
                // with the missing function's text added.
                var missingText = $"'{fun}' is not available.";
                var docs = Py.Map();
                foreach (var name in MinionFunctions.FunctionsMatching([fun + "*"]))
                {
                    docs[name] = MinionFunctions.All[name].Doc;
                }

                if (docs.Count > 0)
                {
                    docs[fun] = missingText;
                    ret["return"] = docs;
                }
                else
                {
                    ret["return"] = missingText;
                }

                ret["retcode"] = 1L;
                ret["out"] = "nested";
            }
            else
            {
                await RunFunctionAsync(minion, data, func, fun, ret, ct);
            }
        }

        ret["jid"] = data.Get("jid");
        ret["fun"] = data.Get("fun");
        ret["fun_args"] = data.Get("arg");
        if (data.ContainsKey("metadata"))
        {
            ret["metadata"] = data.Get("metadata");
        }

        return ret;
    }

    private async Task RunFunctionAsync(SimMinion minion, OrderedDictionary<string, object?> data, MinionFunction func, string fun, OrderedDictionary<string, object?> ret, CancellationToken ct)
    {
        try
        {
            var (args, kwargs) = LoadArgsAndKwargs(func.Signature, Py.AsList(data.Get("arg")), data);
            var bound = func.Signature.Bind(args, kwargs);
            var value = await func.Run(new MinionCall(minion, data, registry, running, ct), bound);
            long retcode = 0;
            if (value is RetcodeResult rc)
            {
                retcode = rc.Retcode;
                value = rc.Value;
            }
            else if (Py.AsMap(value) is { } m && (m.TryGetValue("result", out var r) && !PyValue.Truthy(r) || m.TryGetValue("success", out var s) && !PyValue.Truthy(s)))
            {
                retcode = 1; // as Salt: a dict return with a false result/success key is a failure
            }

            ret["return"] = value;
            ret["retcode"] = retcode;
            ret["success"] = retcode == 0;
        }
        catch (Exception e) when (e is PyException or PyTypeError)
        {
            ret["return"] = e switch
            {
                SaltInvocationError => $"ERROR executing '{fun}': {e.Message}",
                PyException py => "The minion function caused an exception: " + Traceback(fun, py),
                _ => $"Passed invalid arguments to {fun}: {e.Message}\n{func.Doc}",
            };
            ret["out"] = "nested";
            ret["retcode"] = 1L;
        }
    }

    // The same text shape as Python's traceback.format_exc() for a module function that raised.
    private static string Traceback(string fun, PyException e)
    {
        var mod = fun.Split('.')[0];
        var name = fun.Split('.')[1];
        return "Traceback (most recent call last):\n"
            + "  File \"/opt/saltstack/salt/lib/python3.10/site-packages/salt/minion.py\", line 1935, in _thread_return\n"
            + "    return_data = minion_instance._execute_job_function(\n"
            + "  File \"/opt/saltstack/salt/lib/python3.10/site-packages/salt/minion.py\", line 1894, in _execute_job_function\n"
            + "    return_data = self.executors[fname](opts, data, func, args, kwargs)\n"
            + "  File \"/opt/saltstack/salt/lib/python3.10/site-packages/salt/executors/direct_call.py\", line 10, in execute\n"
            + "    return func(*args, **kwargs)\n"
            + $"  File \"/opt/saltstack/salt/lib/python3.10/site-packages/salt/modules/{mod}.py\", line 1, in {name}\n"
            + $"{e.PyClass}: {e.Message}\n";
    }
}
