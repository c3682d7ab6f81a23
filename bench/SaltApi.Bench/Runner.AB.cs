namespace SaltApi.Bench;

/// <summary>
/// <c>--baseline DIR/salt-api.dll</c>: this build's API daemon against another build's, on one master process,
/// their wrk runs alternating (baseline, this, baseline, this, …) so that both see the same neighbours on a
/// shared machine. The rows give each build's median CPU per request, the ratio row this build's over the
/// baseline's.
/// </summary>
internal sealed partial class Runner
{
    private const string AbName = "A/B rest_wsgi local_async, split";

    private async Task AbAsync()
    {
        foreach (var delay in new[] { 0, 30 })
        {
            await Guard($"{AbName}, publish delay {delay} ms", () => AbAsync(delay));
        }
    }

    private async Task AbAsync(int publishDelayMs)
    {
        var label = $"{AbName}, publish delay {publishDelayMs} ms";
        var (master, api, why) = await BenchDaemon.StartSplitAsync(SplitEmbedded(publishDelayMs), 5);
        if (master is null || api is null)
        {
            table.NotRun(label, why);
            return;
        }

        await using (master)
        await using (api)
        {
            var (baseline, whyNot) = await BenchDaemon.AddApiAsync(master, s.Baseline!, "split-api-baseline");
            if (baseline is null)
            {
                table.NotRun(label, "baseline: " + whyNot);
                return;
            }

            await using (baseline)
            {
                var builds = new[] { ("baseline", baseline), ("this build", api) };
                foreach (var (_, d) in builds)
                {
                    await Wrk.RunAsync(new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]), 16, s.JitWarmup);
                }

                foreach (var c in new[] { 1, 16, 64, 256 })
                {
                    var runs = builds.ToDictionary(b => b.Item1, _ => new List<(WrkResult R, double ApiUs, double MasterUs)>());
                    foreach (var (_, d) in builds)
                    {
                        await Wrk.RunAsync(new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]), c, s.Warmup);
                    }

                    for (var i = 0; i < s.Repeats; i++)
                    {
                        foreach (var (which, d) in builds)
                        {
                            var (apiCpu, masterCpu) = (d.Proc.CpuTime(), master.Proc.CpuTime());
                            var r = await Wrk.RunAsync(new HttpLoad(d.Wsgi, LowstateWsgi("local_async"), [Json, AcceptJson]), c, s.Duration);
                            var n = Math.Max(1, r.Requests);
                            runs[which].Add((r, (d.Proc.CpuTime() - apiCpu).TotalMicroseconds / n, (master.Proc.CpuTime() - masterCpu).TotalMicroseconds / n));
                        }
                    }

                    var us = new Dictionary<string, double>();
                    foreach (var (which, d) in builds)
                    {
                        var x = runs[which];
                        us[which] = Stats.Median(x.Select(v => v.ApiUs));
                        table.Add(new Row($"{label}: {which}", C(c), Stats.Median(x.Select(v => v.R.Rps)), Stats.Median(x.Select(v => v.R.P50)), Stats.Median(x.Select(v => v.R.P99)), x.Sum(v => v.R.Errors), d.Proc.Memory().RssMb, null,
                            $"API daemon {us[which]:0} µs/request (median of {x.Count}: {string.Join(", ", x.Select(v => v.ApiUs.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}); master process {Stats.Median(x.Select(v => v.MasterUs)):0} µs/request"));
                    }

                    table.Add(new Row($"{label}: this build / baseline", C(c), Note: $"API CPU/request {us["this build"] / us["baseline"]:0.00}× ({us["this build"]:0} vs {us["baseline"]:0} µs)"));
                }
            }
        }
    }
}
