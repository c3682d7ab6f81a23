using System.Diagnostics;

namespace SaltApi.Bench;

/// <summary>Large lowstates: one 10 MiB body, then 20 at once, to the API daemon alone (its master in a process of its own).</summary>
internal sealed partial class Runner
{
    private const string BigBodyName = "rest_wsgi 10 MiB lowstate (local_async test.arg, valid X-Auth-Token), API daemon alone";
    private const int BigBody = 10 * 1024 * 1024;

    private async Task BigBodyAsync()
    {
        var (master, api, why) = await BenchDaemon.StartSplitAsync("  minions: 5", 5);
        if (master is null || api is null)
        {
            table.NotRun(BigBodyName, why);
            return;
        }

        await using (master)
        await using (api)
        {
            var token = await LoginAsync(master);
            if (token is null)
            {
                table.NotRun(BigBodyName, "POST /login gave no token");
                return;
            }

            // A token in the header (checked before the body is read: past 1 MiB only then) and in the chunk.
            var body = $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.arg", "token": "{{token}}", "arg": ["{{new string('x', BigBody)}}"]}]""";
            string[] headers = [$"X-Auth-Token: {token}"];
            var (warm, _) = await ProbeAsync(api.Wsgi, LowstateWsgi("local_async"));
            var before = api.Proc.Memory();
            foreach (var c in new[] { 1, 20 })
            {
                var watch = Stopwatch.StartNew();
                var answers = await Task.WhenAll(Enumerable.Range(0, c).Select(async _ =>
                {
                    var one = Stopwatch.StartNew();
                    var (status, text) = await ProbeAsync(api.Wsgi, body, headers);
                    return (status, one.Elapsed.TotalMilliseconds, text: status == 200 ? "" : text[..Math.Min(text.Length, 120)]);
                }));
                var wall = watch.Elapsed;
                var (rss, peak) = api.Proc.Memory();
                var times = answers.Select(a => a.TotalMilliseconds).Order().ToList();
                var errors = answers.Count(a => a.status != 200);
                var statuses = string.Join(", ", answers.GroupBy(a => a.status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"))
                    + string.Concat(answers.Where(a => a.status != 200).Select(a => a.text).Distinct().Select(t => "; " + t));
                table.Add(new Row(BigBodyName, C(c), c / wall.TotalSeconds, times[times.Count / 2], times[^1], errors, rss,
                    Note: $"all {c} in {wall.TotalSeconds:0.00} s ({statuses}); API peak RSS {peak:0} MB (before: {before.RssMb:0} MB, warm-up {warm})"));
            }
        }
    }
}
