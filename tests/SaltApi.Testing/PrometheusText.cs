using System.Globalization;
using System.Text;

namespace SaltApi.Testing;

/// <summary>One sample of a scrape: the series name, its labels, its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>Whether every given label has the given value.</summary>
    public bool Has(params (string Name, string Value)[] labels) => labels.All(l => Labels.TryGetValue(l.Name, out var v) && v == l.Value);
}

/// <summary>
/// A strict parser of Prometheus's text exposition format 0.0.4: every line is a <c># HELP</c>, a <c># TYPE</c>,
/// another comment, or a sample whose name, labels (quoted, escaped values, no duplicates) and value (Go float
/// syntax, <c>NaN</c>, <c>±Inf</c>) are well formed; a family's TYPE comes before its samples, once; its samples
/// are together; no series is given twice; a histogram has <c>_bucket</c> series with increasing <c>le</c>,
/// cumulative counts and a <c>+Inf</c> bucket equal to <c>_count</c>, and a <c>_sum</c>. Any departure throws
/// <see cref="FormatException"/> naming the line.
/// </summary>
public sealed class PrometheusText
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private PrometheusText(Dictionary<string, string> types, List<PrometheusSample> samples)
    {
        FamilyTypes = types;
        Samples = samples;
    }

    /// <summary>Each family's declared type, by family name.</summary>
    public IReadOnlyDictionary<string, string> FamilyTypes { get; }

    /// <summary>Every sample, in order.</summary>
    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>The samples of one series name whose labels include <paramref name="labels"/>.</summary>
    public IEnumerable<PrometheusSample> Find(string name, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && s.Has(labels));

    /// <summary>The sum of the samples <see cref="Find"/> returns (0 when none).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) => Find(name, labels).Sum(s => s.Value);

    public static PrometheusText Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition does not end with a line feed");
        }

        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        var seriesSeen = new HashSet<string>(StringComparer.Ordinal);
        var familiesDone = new HashSet<string>(StringComparer.Ordinal);
        string? currentFamily = null;
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            var where = $"line {n + 1} '{line}'";
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE")
                {
                    var family = parts[2];
                    CheckMetricName(family, where);
                    if (parts[1] == "TYPE")
                    {
                        if (parts.Length != 4 || !Types.Contains(parts[3]))
                        {
                            throw new FormatException($"{where}: a TYPE line needs one of {string.Join(", ", Types)}");
                        }

                        if (!types.TryAdd(family, parts[3]))
                        {
                            throw new FormatException($"{where}: a second TYPE for {family}");
                        }

                        if (familiesDone.Contains(family) || samples.Any(s => FamilyOf(s.Name, types) == family))
                        {
                            throw new FormatException($"{where}: TYPE after the samples of {family}");
                        }
                    }
                    else if (!helps.Add(family))
                    {
                        throw new FormatException($"{where}: a second HELP for {family}");
                    }
                }

                continue;
            }

            var sample = ParseSample(line, where);
            var familyName = FamilyOf(sample.Name, types);
            if (familyName != currentFamily)
            {
                if (currentFamily is not null)
                {
                    familiesDone.Add(currentFamily);
                }

                if (familiesDone.Contains(familyName))
                {
                    throw new FormatException($"{where}: the samples of {familyName} are not together");
                }

                currentFamily = familyName;
            }

            var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!seriesSeen.Add(key))
            {
                throw new FormatException($"{where}: the series {key} is given twice");
            }

            if (types.GetValueOrDefault(familyName) is "counter" && (sample.Value < 0 || double.IsNaN(sample.Value)))
            {
                throw new FormatException($"{where}: a counter below zero");
            }

            samples.Add(sample);
        }

        CheckHistograms(types, samples);
        return new PrometheusText(types, samples);
    }

    private static string FamilyOf(string name, Dictionary<string, string> types)
    {
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.GetValueOrDefault(name[..^suffix.Length]) is "histogram" or "summary")
            {
                return name[..^suffix.Length];
            }
        }

        return name;
    }

    private static void CheckHistograms(Dictionary<string, string> types, List<PrometheusSample> samples)
    {
        foreach (var (family, _) in types.Where(t => t.Value == "histogram"))
        {
            var groups = samples.Where(s => s.Name.StartsWith(family + "_", StringComparison.Ordinal))
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
            foreach (var g in groups)
            {
                var buckets = g.Where(s => s.Name == family + "_bucket").ToList();
                var count = g.SingleOrDefault(s => s.Name == family + "_count") ?? throw new FormatException($"{family}{{{g.Key}}} has no _count");
                _ = g.SingleOrDefault(s => s.Name == family + "_sum") ?? throw new FormatException($"{family}{{{g.Key}}} has no _sum");
                var last = double.NegativeInfinity;
                var cumulative = 0.0;
                foreach (var b in buckets)
                {
                    var le = b.Labels.TryGetValue("le", out var text) ? ParseValue(text, family + " le") : throw new FormatException($"{family}_bucket without le");
                    if (le <= last)
                    {
                        throw new FormatException($"{family}{{{g.Key}}}: le {text} does not increase");
                    }

                    if (b.Value < cumulative)
                    {
                        throw new FormatException($"{family}{{{g.Key}}}: bucket le={text} is not cumulative");
                    }

                    (last, cumulative) = (le, b.Value);
                }

                if (!double.IsPositiveInfinity(last) || cumulative != count.Value)
                {
                    throw new FormatException($"{family}{{{g.Key}}}: the +Inf bucket must be last and equal _count");
                }
            }
        }
    }

    private static PrometheusSample ParseSample(string line, string where)
    {
        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
        {
            i++;
        }

        var name = line[..i];
        CheckMetricName(name, where);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                var start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_'))
                {
                    i++;
                }

                var label = line[start..i];
                if (label.Length == 0 || char.IsAsciiDigit(label[0]) || label.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException($"{where}: bad label name at column {start + 1}");
                }

                if (i + 1 >= line.Length || line[i] != '=' || line[i + 1] != '"')
                {
                    throw new FormatException($"{where}: expected =\" after label {label}");
                }

                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"{where}: unterminated label value");
                    }

                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        if (i >= line.Length)
                        {
                            throw new FormatException($"{where}: dangling escape");
                        }

                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var e => throw new FormatException($"{where}: unknown escape \\{e}"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"{where}: label {label} given twice");
                }

                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i >= line.Length || line[i] != '}')
                {
                    throw new FormatException($"{where}: expected , or }} after a label");
                }
            }
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where}: expected one space before the value");
        }

        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2 || rest.Any(r => r.Length == 0))
        {
            throw new FormatException($"{where}: expected a value and at most a timestamp");
        }

        var v = ParseValue(rest[0], where);
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"{where}: the timestamp is not an integer");
        }

        return new PrometheusSample(name, labels, v);
    }

    private static double ParseValue(string text, string where) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ when text.All(c => char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-')
               && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new FormatException($"{where}: '{text}' is not a float"),
    };

    private static void CheckMetricName(string name, string where)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
        {
            throw new FormatException($"{where}: bad metric name '{name}'");
        }
    }
}
