using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SaltApi.Bench;

/// <summary>
/// The results as an SVG chart, written by hand (no plotting dependency): req/s and p99 against concurrency for
/// the ceiling and every module's <c>local_async</c> rows. Modules are found by the row names
/// (<c>{module} local_async test.ping, 5 minions</c>), so a new module's rows appear without a change here.
/// </summary>
internal static partial class Chart
{
    private const int PanelW = 420;
    private const int PanelH = 260;
    private const int Left = 64;
    private const int Top = 48;
    private const int Gap = 90;
    private static readonly string[] Palette = ["#555555", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    [GeneratedRegex(@"^(?<module>rest_\w+) local_async test\.ping, 5 minions$")]
    private static partial Regex ModuleRow();

    /// <summary>The series: name → (concurrency, req/s, p99 ms), ceiling first, then the modules by name.</summary>
    public static List<(string Name, List<(int C, double Rps, double P99)> Points)> Series(IEnumerable<Row> rows)
    {
        var series = new SortedDictionary<string, List<(int, double, double)>>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            string? name = r.Scenario.StartsWith("ceiling: bare Kestrel", StringComparison.Ordinal) ? " ceiling (bare Kestrel)"
                : ModuleRow().Match(r.Scenario) is { Success: true } m ? m.Groups["module"].Value : null;
            if (name is null || r.Rps is not { } rps || r.P99 is not { } p99 || !int.TryParse(r.Concurrency, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) || c < 1)
            {
                continue;
            }

            if (!series.TryGetValue(name, out var list))
            {
                series[name] = list = [];
            }

            list.Add((c, rps, p99));
        }

        return series.Select(kv => (kv.Key.Trim(), kv.Value.OrderBy(p => p.Item1).ToList())).ToList();
    }

    public static string Svg(IEnumerable<Row> rows, string title)
    {
        var series = Series(rows);
        var all = series.SelectMany(x => x.Points).ToList();
        var width = Left + PanelW + Gap + PanelW + 30;
        var height = Top + PanelH + 60 + (18 * Math.Max(1, series.Count));
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Esc(title)}</text>\n");
        if (all.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Top + 20}\">no ceiling or local_async rows in this run</text>\n</svg>\n");
            return sb.ToString();
        }

        var cs = all.Select(p => p.C).Distinct().Order().ToList();
        Panel(sb, Left, "requests/s (linear)", series, cs, p => p.Rps, log: false);
        Panel(sb, Left + PanelW + Gap, "p99 latency, ms (log)", series, cs, p => p.P99, log: true);
        for (var i = 0; i < series.Count; i++)
        {
            var y = Top + PanelH + 44 + (18 * i);
            var color = Palette[i % Palette.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y - 4}\" x2=\"{Left + 24}\" y2=\"{y - 4}\" stroke=\"{color}\" stroke-width=\"2.5\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + 30}\" y=\"{y}\">{Esc(series[i].Name)}</text>\n");
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Panel(StringBuilder sb, int x0, string label, List<(string Name, List<(int C, double Rps, double P99)> Points)> series, List<int> cs, Func<(int C, double Rps, double P99), double> value, bool log)
    {
        var values = series.SelectMany(s => s.Points).Select(value).Where(v => v > 0).ToList();
        var max = values.Count > 0 ? values.Max() : 1;
        var min = values.Count > 0 ? values.Min() : 1;
        double lo, hi;
        if (log)
        {
            lo = Math.Pow(10, Math.Floor(Math.Log10(min)));
            hi = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
            if (hi <= lo)
            {
                hi = lo * 10;
            }
        }
        else
        {
            lo = 0;
            var step = Math.Pow(10, Math.Floor(Math.Log10(max)));
            hi = Math.Ceiling(max / step) * step;
        }

        double Y(double v) => Top + PanelH - (PanelH * (log ? (Math.Log10(Math.Max(v, lo)) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo)) : (v - lo) / (hi - lo)));

        // Concurrency on a log scale, the measured points evenly apart.
        double X(int c) => x0 + (cs.Count == 1 ? PanelW / 2.0 : PanelW * cs.IndexOf(c) / (double)(cs.Count - 1));

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{Top - 10}\" font-weight=\"bold\">{Esc(label)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x0}\" y=\"{Top}\" width=\"{PanelW}\" height=\"{PanelH}\" fill=\"none\" stroke=\"#999\"/>\n");
        var ticks = new List<double>();
        if (log)
        {
            for (var t = lo; t <= hi * 1.0001; t *= 10)
            {
                ticks.Add(t);
            }
        }
        else
        {
            for (var i = 0; i <= 5; i++)
            {
                ticks.Add(hi * i / 5);
            }
        }

        foreach (var t in ticks)
        {
            var y = Y(t);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y:0.#}\" x2=\"{x0 + PanelW}\" y2=\"{y:0.#}\" stroke=\"#e5e5e5\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Esc(Tick(t))}</text>\n");
        }

        foreach (var c in cs)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(c):0.#}\" y=\"{Top + PanelH + 16}\" text-anchor=\"middle\">{c}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + (PanelW / 2)}\" y=\"{Top + PanelH + 32}\" text-anchor=\"middle\">concurrent connections</text>\n");
        for (var i = 0; i < series.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            var pts = series[i].Points.Where(p => value(p) > 0 || !log).Select(p => $"{X(p.C):0.#},{Y(value(p)):0.#}").ToList();
            if (pts.Count == 0)
            {
                continue;
            }

            sb.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', pts)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\"/>");
            foreach (var p in pts)
            {
                var xy = p.Split(',');
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"3\" fill=\"{color}\"/>");
            }

            sb.Append('\n');
        }
    }

    private static string Tick(double v) => v >= 1000 ? (v / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k" : v.ToString(v < 1 ? "0.##" : "0", CultureInfo.InvariantCulture);

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
