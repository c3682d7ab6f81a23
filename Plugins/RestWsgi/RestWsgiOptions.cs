using System.Globalization;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>The <c>rest_wsgi</c> section. Salt knows only <c>port</c>; the rest are ours.</summary>
/// <param name="Port">The port (Salt's only option).</param>
/// <param name="Host">Bind address; Salt binds <c>localhost</c> and so do we unless told otherwise.</param>
/// <param name="MaxRequestBodySize">Bodies above this are a 413 (ours; Salt reads anything).</param>
/// <param name="DrainTimeout">How long a stop waits for in-flight requests.</param>
internal sealed record RestWsgiOptions(int Port, string Host, long MaxRequestBodySize, TimeSpan DrainTimeout)
{
    public static RestWsgiOptions From(IReadOnlyDictionary<string, object?> section)
    {
        var port = Int(section, "port", -1);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentException($"rest_wsgi.port: expected a TCP port, got '{section.GetValueOrDefault("port")}'");
        }

        var host = section.GetValueOrDefault("host") as string ?? "localhost";
        var maxBody = Int(section, "max_request_body_size", 100 * 1024 * 1024);
        var drain = Int(section, "drain_timeout", 30);
        return new RestWsgiOptions(port, host, maxBody, TimeSpan.FromSeconds(Math.Max(drain, 1)));
    }

    private static int Int(IReadOnlyDictionary<string, object?> section, string key, int fallback) =>
        section.GetValueOrDefault(key) switch
        {
            null => fallback,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
            var other => throw new ArgumentException($"rest_wsgi.{key}: expected an integer, got '{other}'"),
        };
}
