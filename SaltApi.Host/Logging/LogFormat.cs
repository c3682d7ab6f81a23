using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SaltApi.Host.Logging;

/// <summary>One log record, with the fields Python's logging offers to a format string.</summary>
internal readonly record struct LogRecord(DateTime Time, LogLevel Level, string Name, string Message, Exception? Exception);

/// <summary>
/// Python's <c>%</c>-style logging format (<c>[%(levelname)-8s] %(message)s</c>) and <c>time.strftime</c> date format,
/// for Salt's <c>log_fmt_console</c>, <c>log_fmt_logfile</c>, <c>log_datefmt</c>, <c>log_datefmt_logfile</c>.
/// </summary>
internal sealed partial class LogFormat
{
    private readonly List<Func<LogRecord, string>> parts = [];
    private readonly string dateFormat;

    public LogFormat(string format, string dateFormat)
    {
        this.dateFormat = dateFormat;
        var last = 0;
        foreach (Match m in Field().Matches(format))
        {
            if (m.Index > last)
            {
                var literal = format[last..m.Index].Replace("%%", "%", StringComparison.Ordinal);
                parts.Add(_ => literal);
            }

            parts.Add(Compile(m.Groups["name"].Value, m.Groups["flags"].Value, m.Groups["width"].Value, m.Groups["precision"].Value, m.Groups["type"].Value[0]));
            last = m.Index + m.Length;
        }

        if (last < format.Length)
        {
            var tail = format[last..].Replace("%%", "%", StringComparison.Ordinal);
            parts.Add(_ => tail);
        }
    }

    [GeneratedRegex(@"%\((?<name>\w+)\)(?<flags>[-#0 +]*)(?<width>\d*)(?:\.(?<precision>\d+))?(?<type>[sdifr])")]
    private static partial Regex Field();

    /// <summary>The formatted record; an exception's text follows on the next lines, as Python's Formatter adds exc_text.</summary>
    public string Format(in LogRecord record)
    {
        var sb = new StringBuilder();
        foreach (var part in parts)
        {
            sb.Append(part(record));
        }

        if (record.Exception is { } e)
        {
            sb.Append('\n').Append(e.ToString());
        }

        return sb.ToString();
    }

    private Func<LogRecord, string> Compile(string name, string flags, string width, string precision, char type)
    {
        Func<LogRecord, object> value = name switch
        {
            "levelname" or "colorlevel" => r => SaltLogLevels.LevelName(r.Level),
            "bracketlevel" => r => "[" + SaltLogLevels.LevelName(r.Level) + "]",
            "levelno" => r => LevelNo(r.Level),
            "message" or "colormsg" => r => r.Message,
            "name" or "colorname" or "module" or "funcName" or "filename" or "pathname" => r => r.Name,
            "bracketname" => r => "[" + r.Name + "]",
            "asctime" => r => Strftime(r.Time, dateFormat),
            "msecs" => r => r.Time.Millisecond,
            "created" => r => (r.Time.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds,
            "process" or "colorprocess" => _ => Environment.ProcessId,
            "bracketprocess" => _ => "[" + Environment.ProcessId + "]",
            "processName" => _ => "MainProcess",
            "thread" => _ => Environment.CurrentManagedThreadId,
            "threadName" => _ => Thread.CurrentThread.Name ?? "Thread-" + Environment.CurrentManagedThreadId,
            "lineno" => _ => 0,
            _ => _ => "%(" + name + ")",
        };
        var left = flags.Contains('-', StringComparison.Ordinal);
        var zero = flags.Contains('0', StringComparison.Ordinal);
        var w = width.Length > 0 ? int.Parse(width, CultureInfo.InvariantCulture) : 0;
        var p = precision.Length > 0 ? int.Parse(precision, CultureInfo.InvariantCulture) : -1;
        return r =>
        {
            var v = value(r);
            var text = type switch
            {
                'd' or 'i' => Convert.ToInt64(v, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                'f' => Convert.ToDouble(v, CultureInfo.InvariantCulture).ToString("F" + (p < 0 ? 6 : p), CultureInfo.InvariantCulture),
                _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
            };
            if (type is 's' or 'r' && p >= 0 && text.Length > p)
            {
                text = text[..p];
            }

            if (text.Length >= w)
            {
                return text;
            }

            return left ? text.PadRight(w) : zero && type is 'd' or 'i' or 'f' ? text.PadLeft(w, '0') : text.PadLeft(w);
        };
    }

    private static int LevelNo(LogLevel level) => level switch
    {
        LogLevel.Trace => 5,
        LogLevel.Debug => 10,
        LogLevel.Information => 20,
        LogLevel.Warning => 30,
        LogLevel.Error => 40,
        LogLevel.Critical => 50,
        _ => 0,
    };

    /// <summary>The common directives of C's strftime, in the C locale.</summary>
    internal static string Strftime(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var c = format[++i];
            sb.Append(c switch
            {
                'Y' => t.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => t.ToString("yy", CultureInfo.InvariantCulture),
                'm' => t.ToString("MM", CultureInfo.InvariantCulture),
                'd' => t.ToString("dd", CultureInfo.InvariantCulture),
                'H' => t.ToString("HH", CultureInfo.InvariantCulture),
                'I' => t.ToString("hh", CultureInfo.InvariantCulture),
                'M' => t.ToString("mm", CultureInfo.InvariantCulture),
                'S' => t.ToString("ss", CultureInfo.InvariantCulture),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'b' => t.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => t.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => t.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => t.ToString("dddd", CultureInfo.InvariantCulture),
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'f' => t.ToString("ffffff", CultureInfo.InvariantCulture),
                'z' => t.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal),
                'Z' => TimeZoneInfo.Local.StandardName,
                '%' => "%",
                _ => "%" + c,
            });
        }

        return sb.ToString();
    }
}
