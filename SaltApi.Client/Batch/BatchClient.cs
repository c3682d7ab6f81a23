using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using SaltApi.Client.Config;
using SaltApi.Client.Local;
using SaltApi.Client.Lowstate;
using SaltApi.Protocol.Config;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Batch;

/// <summary>LocalClient.cmd_subset and cmd_batch with salt.cli.batch.Batch (spec/03 §5.3–5.4).</summary>
internal sealed class BatchClient(LocalClient local, ClientOptions options)
{
    private static readonly string[] EauthKeys = ["eauth", "username", "password", "token"];

    /// <summary>
    /// <c>local_subset</c>: <c>sys.list_functions</c> on the target, shuffle the minions that answered,
    /// keep the first <c>subset</c> (default 3; legacy name <c>sub</c>) that have <c>fun</c>, run there as a list.
    /// </summary>
    public async Task<object?> SubsetAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        var low = ClientLowstate.Copy(lowstate);
        var subsetValue = low.Remove("subset", out var sv) ? sv : low.Remove("sub", out var legacy) ? legacy : 3L;
        var subset = ClientLowstate.LocalTimeout(subsetValue, 3);
        low.Remove("cli");
        var progress = low.Remove("progress", out var pv) && PyValue.Truthy(pv);
        var call = LocalCall.From(low, "cmd_subset");

        // cmd(tgt, "sys.list_functions", tgt_type=tgt_type, **kwargs): no arg, kwarg, ret or full_return.
        var listCall = call with { Fun = "sys.list_functions", Arg = [], Kwarg = null, Ret = "", Jid = "", FullReturn = false, ReportsJid = false };
        var functions = (OrderedDictionary<string, object?>)(await local.CmdAsync(listCall, ct).ConfigureAwait(false))!;
        var minions = functions.Keys.ToArray();
        Random.Shared.Shuffle(minions);
        var chosen = new List<object?>();
        foreach (var minion in minions)
        {
            // Python tests `fun in minion_ret[minion]`; a minion that did not answer (false) has no functions.
            if (functions[minion] is List<object?> funs && funs.Contains(call.Fun))
            {
                chosen.Add(minion);
            }

            if (chosen.Count >= subset)
            {
                break;
            }
        }

        var kwargs = new OrderedDictionary<string, object?>(call.Kwargs, StringComparer.Ordinal) { ["progress"] = progress };
        return await local.CmdAsync(call with { Tgt = chosen, TgtType = "list", Jid = "", Kwargs = kwargs }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>local_batch</c>: ping the target, then run the job on groups of <c>batch</c> minions (a count or
    /// <c>N%</c> of those that answered), starting the next minions as soon as members return (after
    /// <c>batch_wait</c> seconds). One <c>{id: return}</c> item per minion, in completion order.
    /// </summary>
    public async Task<IReadOnlyList<object?>> BatchAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        var low = ClientLowstate.Copy(lowstate);
        var batchSpec = low.Remove("batch", out var b) ? b : "10%";
        var call = LocalCall.From(low, "cmd_batch");
        var kwargs = call.Kwargs;
        var raw = PyValue.Truthy(kwargs.GetValueOrDefault("raw"));
        var failhard = kwargs.TryGetValue("failhard", out var fh) ? PyValue.Truthy(fh) : false;
        var batchWait = kwargs.TryGetValue("batch_wait", out var bw) ? ClientLowstate.LocalTimeout(bw, 0) : 0;
        var gatherJobTimeout = kwargs.TryGetValue("gather_job_timeout", out var gjt) ? gjt : (long)options.Master.GatherJobTimeout;
        var timeout = call.Timeout ?? (long)options.Master.Timeout;

        // Batch(opts, eauth): the credentials only; `client` and other lowstate keys are not forwarded.
        var eauth = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var k in EauthKeys)
        {
            if (kwargs.TryGetValue(k, out var v))
            {
                eauth[k] = v;
            }
        }

        // Python sets yield_pub_data on the same dict it later passes as eauth to every batch.
        eauth["yield_pub_data"] = true;

        var pingKwargs = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["gather_job_timeout"] = gatherJobTimeout };
        foreach (var (k, v) in eauth)
        {
            pingKwargs[k] = v;
        }

        var ping = call with { Fun = "test.ping", Arg = [], Kwarg = null, Timeout = timeout, Ret = "", Jid = "", FullReturn = false, Kwargs = pingKwargs, ReportsJid = false };
        var minions = new List<string>();
        using (var job = await local.PublishAsync(ping, listen: true, ct).ConfigureAwait(false))
        {
            if (job is null)
            {
                return [];
            }

            await foreach (var (id, _, failed) in local.CollectAsync(ping, job, ClientLowstate.LocalTimeout(timeout, options.Master.Timeout), ct).ConfigureAwait(false))
            {
                if (!failed && !minions.Contains(id))
                {
                    minions.Add(id);
                }
            }
        }

        var bnum = BatchNumber(batchSpec, minions.Count);
        if (bnum is not > 0 || minions.Count == 0)
        {
            // Python: "Invalid batch data sent" and nothing runs.
            return [];
        }

        var jobKwargs = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["raw"] = raw,
            ["gather_job_timeout"] = gatherJobTimeout,
        };
        foreach (var (k, v) in eauth)
        {
            jobKwargs[k] = v;
        }

        // Deliberate difference: none. Python reads the returner from opts["return"], not the lowstate's `ret`,
        // so batches never use it; we mirror that and send "".
        var jobCall = call with { Timeout = timeout, TgtType = "list", Ret = "", Jid = "", FullReturn = false, Kwargs = jobKwargs };
        return await RunBatchesAsync(jobCall, minions, bnum.Value, batchWait, raw, failhard, ct).ConfigureAwait(false);
    }

    /// <summary>Batch.get_bnum: <c>"N%"</c> of the minions (rounded down; up when below one), or a count.</summary>
    internal static int? BatchNumber(object? batch, int minions)
    {
        var text = batch switch
        {
            string s => s,
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => PyValue.FloatRepr(d),
            _ => null,
        };
        if (text is null)
        {
            return null;
        }

        if (text.Contains('%', StringComparison.Ordinal))
        {
            if (!double.TryParse(text.Trim('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var pct) || !double.IsFinite(pct))
            {
                return null;
            }

            var res = pct / 100.0 * minions;
            return res < 1 ? (int)Math.Ceiling(res) : (int)Math.Min(res, int.MaxValue);
        }

        return int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private async Task<IReadOnlyList<object?>> RunBatchesAsync(LocalCall jobCall, List<string> minions, int bnum, int batchWait, bool raw, bool failhard, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var results = Channel.CreateUnbounded<BatchItem>(new UnboundedChannelOptions { SingleReader = true });
        var toRun = new List<string>(minions);
        var active = new HashSet<string>(StringComparer.Ordinal);
        var waits = new List<long>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var output = new List<object?>();
        var tasks = new List<Task>();
        var timeout = ClientLowstate.LocalTimeout(jobCall.Timeout, options.Master.Timeout);

        try
        {
            while (done.Count < minions.Count)
            {
                var now = Stopwatch.GetTimestamp();
                waits.RemoveAll(w => w <= now);
                // Batch.run: as many as the batch has room for, taken from the end. (Its "last bit" branch, every minion
                // left when none is active and they fit, takes the very same ones.)
                var next = new List<string>();
                for (var i = 0; i < bnum - active.Count - waits.Count && toRun.Count > 0; i++)
                {
                    next.Add(toRun[^1]);
                    toRun.RemoveAt(toRun.Count - 1);
                }

                if (next.Count > 0)
                {
                    active.UnionWith(next);
                    tasks.Add(RunOneBatchAsync(jobCall with { Tgt = next.Cast<object?>().ToList() }, next, timeout, results.Writer, stop.Token));
                }

                // Wait for a return, or for a batch_wait slot to free up when minions are waiting to run.
                var wait = waits.Count > 0 && toRun.Count > 0
                    ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (waits.Min() - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency))
                    : Timeout.InfiniteTimeSpan;
                using (var w = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                {
                    if (wait != Timeout.InfiniteTimeSpan)
                    {
                        w.CancelAfter(wait);
                    }

                    try
                    {
                        await results.Reader.WaitToReadAsync(w.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        continue;
                    }
                }

                while (results.Reader.TryRead(out var item))
                {
                    if (item.Error is { } error)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                    }

                    if (item.Unanswered is { } unanswered)
                    {
                        // The batch's iterator is done: minions that never returned get an empty return.
                        foreach (var m in unanswered.Where(m => !done.Contains(m)))
                        {
                            // Python: parts[minion] = {"ret": {}}; raw mode yields that map itself.
                            var empty = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["ret"] = new OrderedDictionary<string, object?>() };
                            if (Emit(m, empty, raw))
                            {
                                return output;
                            }
                        }

                        continue;
                    }

                    if (Emit(item.Id!, item.Data, raw))
                    {
                        return output;
                    }
                }
            }

            return output;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        }

        // Returns true when failhard stops the run.
        bool Emit(string minion, object? data, bool rawEvent)
        {
            if (active.Remove(minion) && batchWait > 0)
            {
                waits.Add(Stopwatch.GetTimestamp() + batchWait * Stopwatch.Frequency);
            }

            done.Add(minion);
            var stopNow = false;
            if (rawEvent)
            {
                output.Add(data);
                return false;
            }

            var entry = data as OrderedDictionary<string, object?>;
            var ret = entry?.GetValueOrDefault("ret");
            // Batch.run munges the retcode into a map return.
            if (entry is not null && entry.TryGetValue("retcode", out var rc) && ret is OrderedDictionary<string, object?> r && !r.ContainsKey("retcode"))
            {
                r["retcode"] = rc;
                stopNow = failhard && rc is long code && code > 0;
            }

            output.Add(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { [minion] = ret });
            return stopNow;
        }
    }

    private async Task RunOneBatchAsync(LocalCall call, List<string> targets, int timeout, ChannelWriter<BatchItem> results, CancellationToken ct)
    {
        var remaining = new List<string>(targets);
        try
        {
            using var job = await local.PublishAsync(call, listen: true, ct).ConfigureAwait(false);
            if (job is not null)
            {
                await foreach (var (id, data, failed) in local.CollectAsync(call, job, timeout, ct).ConfigureAwait(false))
                {
                    if (failed)
                    {
                        // get_iter_returns' {"failed": true} entries are skipped by Batch.run.
                        continue;
                    }

                    remaining.Remove(id);
                    await results.WriteAsync(new BatchItem(id, data, null, null), ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A publish error (auth, ACL, master gone) ends the whole batch run, as in Python.
            results.TryWrite(new BatchItem(null, null, null, e));
            return;
        }

        results.TryWrite(new BatchItem(null, null, remaining, null));
    }

    private sealed record BatchItem(string? Id, object? Data, List<string>? Unanswered, Exception? Error);
}
