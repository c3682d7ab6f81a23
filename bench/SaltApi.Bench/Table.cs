using System.Globalization;
using System.Text;

namespace SaltApi.Bench;

/// <summary>One line of the results table. Null figures print as "-".</summary>
internal sealed record Row(
    string Scenario,
    string Concurrency = "",
    double? Rps = null,
    double? P50 = null,
    double? P99 = null,
    long? Errors = null,
    double? RssMb = null,
    double? VsCeiling = null,
    string Note = "");

/// <summary>A target of issue 7, checked against the measured figures.</summary>
internal sealed record Target(string What, string Measured, bool? Met);

/// <summary>The run's results, printed as a markdown table.</summary>
internal sealed class Table
{
    private readonly List<Row> rows = [];
    private readonly List<Target> targets = [];

    public IReadOnlyList<Row> Rows => rows;

    public void Add(Row row)
    {
        rows.Add(row);
        Console.Error.WriteLine("  " + Line(row));
    }

    public void NotRun(string scenario, string why, string concurrency = "") =>
        Add(new Row(scenario, concurrency, Note: "not run: " + why));

    public void Check(string what, string measured, bool? met) => targets.Add(new Target(what, measured, met));

    public string Render(string header)
    {
        var sb = new StringBuilder();
        sb.AppendLine(header).AppendLine();
        sb.AppendLine("| scenario | c | req/s | p50 ms | p99 ms | errors | RSS MB | vs ceiling | note |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var r in rows)
        {
            sb.AppendLine(Line(r));
        }

        sb.AppendLine().AppendLine("| target | measured | met |").AppendLine("|---|---|---|");
        foreach (var t in targets)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {t.What} | {t.Measured} | {t.Met switch { true => "yes", false => "NO", null => "not measured" }} |");
        }

        return sb.ToString();
    }

    private static string Line(Row r) => string.Create(
        CultureInfo.InvariantCulture,
        $"| {r.Scenario} | {r.Concurrency} | {F(r.Rps, "N0")} | {F(r.P50, "0.00")} | {F(r.P99, "0.00")} | {(r.Errors is { } e ? e.ToString(CultureInfo.InvariantCulture) : "-")} | {F(r.RssMb, "0")} | {(r.VsCeiling is { } v ? v.ToString("P0", CultureInfo.InvariantCulture) : "-")} | {r.Note} |");

    private static string F(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "-";
}
