using System.Globalization;

namespace SaltApi.Bench;

/// <summary>How long and how often: the defaults keep the whole run well under ten minutes.</summary>
internal sealed record Settings(
    int Warmup,
    int JitWarmup,
    int Duration,
    int Repeats,
    double EventSeconds,
    long MemoryRequests,
    TimeSpan Budget,
    IReadOnlySet<string> Only,
    string? Baseline = null)
{
    public static Settings From(string[] args)
    {
        var quick = args.Contains("--quick");
        var s = quick
            ? new Settings(1, 3, 2, 1, 2, 30_000, TimeSpan.FromMinutes(5), new HashSet<string>())
            : new Settings(1, 10, 2, 3, 5, 100_000, TimeSpan.FromMinutes(11), new HashSet<string>());
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--duration":
                    s = s with { Duration = int.Parse(args[i + 1], CultureInfo.InvariantCulture) };
                    break;
                case "--repeats":
                    s = s with { Repeats = int.Parse(args[i + 1], CultureInfo.InvariantCulture) };
                    break;
                case "--baseline":
                    s = s with { Baseline = Path.GetFullPath(args[i + 1]) };
                    break;
                case "--only":
                    s = s with { Only = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase) };
                    break;
                default:
                    break;
            }
        }

        return s;
    }

    /// <summary>Whether a group of scenarios is selected (<c>--only ceiling,wsgi,cherrypy,tornado,sync,runner,login,events,memory,split,ab,transport,10k,events1k,ws1k,100k,codec,realmaster</c>; <c>ab</c> needs <c>--baseline</c>, <c>realmaster</c> runs only with <c>SALTAPI_REFSALT</c> set).</summary>
    public bool Runs(string group) => group == "ab" ? Baseline is not null && (Only.Count == 0 || Only.Contains(group)) : Only.Count == 0 || Only.Contains(group);
}
