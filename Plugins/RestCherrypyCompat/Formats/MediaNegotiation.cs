namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>The two output formats rest_cherrypy emits.</summary>
internal enum OutputFormat
{
    /// <summary>application/json (Python json.dumps).</summary>
    Json,

    /// <summary>application/x-yaml (PyYAML safe_dump, keys sorted).</summary>
    Yaml,
}

/// <summary>CherryPy's <c>cptools.accept</c> over rest_cherrypy's <c>ct_out_map</c>.</summary>
internal static class MediaNegotiation
{
    /// <summary>The media types in Salt's order (the first is the default).</summary>
    public static readonly string[] Media = ["application/json", "application/x-yaml"];

    /// <summary>The chosen format, or null when the Accept header allows neither (406).</summary>
    public static OutputFormat? Choose(string? accept)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return OutputFormat.Json;
        }

        var elements = new List<(string Value, double Q, int Index)>();
        var i = 0;
        foreach (var raw in accept.Split(','))
        {
            var parts = raw.Split(';');
            var value = parts[0].Trim().ToLowerInvariant();
            if (value.Length == 0)
            {
                continue;
            }

            var q = 1.0;
            foreach (var p in parts.Skip(1))
            {
                var kv = p.Split('=', 2);
                if (kv.Length == 2 && kv[0].Trim() == "q" &&
                    double.TryParse(kv[1].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var qv))
                {
                    q = qv;
                }
            }

            elements.Add((value, q, i++));
        }

        // CherryPy sorts by quality (highest first), most specific first on ties.
        foreach (var (value, q, _) in elements.OrderByDescending(e => e.Q).ThenBy(e => e.Value.Contains('*', StringComparison.Ordinal) ? 1 : 0).ThenBy(e => e.Index))
        {
            // */* is the default; type/* the first media type of that type; anything else that media type.
            var idx = value == "*/*" ? 0 : Array.FindIndex(Media, m => value.EndsWith("/*", StringComparison.Ordinal) ? m.StartsWith(value[..^1], StringComparison.Ordinal) : m == value);
            if (q > 0 && idx >= 0)
            {
                return (OutputFormat)idx;
            }
        }

        return null;
    }

    /// <summary>CherryPy's 406 text.</summary>
    public static string NotAcceptableMessage(string? accept) =>
        $"Your client sent this Accept header: {accept}. But this resource only emits these media types: {string.Join(", ", Media)}.";

    public static string ContentType(OutputFormat format) => Media[(int)format];
}
