using System.Globalization;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>The <c>rest_wsgi</c> section. Salt knows only <c>port</c>; the rest are ours.</summary>
/// <param name="Port">The port (Salt's only option).</param>
/// <param name="Host">Bind address; Salt binds <c>localhost</c> and so do we unless told otherwise.</param>
/// <param name="MaxRequestBodySize">Bodies above this are a 413 (ours, default 1 MiB as rest_cherrypy's; Salt reads anything).</param>
/// <param name="DrainTimeout">How long a stop waits for in-flight requests.</param>
/// <param name="ThreadPool">Requests run at once (ours, rest_cherrypy's name and default).</param>
/// <param name="QueueSize">Requests waiting for a slot beyond those; more are a 503 (ours, rest_cherrypy's name and default).</param>
/// <param name="MaxChunks">Lowstate chunks in one request; more are a 400.</param>
/// <param name="MaxConnections">Open connections at once.</param>
internal sealed record RestWsgiOptions(int Port, string Host, long MaxRequestBodySize, TimeSpan DrainTimeout, int ThreadPool = 100, int QueueSize = 30, int MaxChunks = RestWsgiOptions.DefaultMaxChunks, int MaxConnections = 1000)
{
    /// <summary>Default body bound: rest_cherrypy's documented 1 MiB.</summary>
    public const int DefaultMaxBody = 1024 * 1024;

    /// <summary>Default bound on the chunks of one request.</summary>
    public const int DefaultMaxChunks = 1000;

    public static RestWsgiOptions From(IReadOnlyDictionary<string, object?> section)
    {
        var port = Int(section, "port", -1);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentException($"rest_wsgi.port: expected a TCP port, got '{section.GetValueOrDefault("port")}'");
        }

        var host = section.GetValueOrDefault("host") as string ?? "localhost";
        var maxBody = Int(section, "max_request_body_size", DefaultMaxBody);
        var drain = Int(section, "drain_timeout", 30);
        var threadPool = Math.Max(1, Int(section, "thread_pool", 100));
        var queueSize = Math.Max(0, Int(section, "queue_size", 30));
        var maxChunks = Math.Max(1, Int(section, "max_lowstate_chunks", DefaultMaxChunks));
        var maxConnections = Math.Max(1, Int(section, "max_connections", Math.Max(1000, 10 * (threadPool + queueSize))));
        return new RestWsgiOptions(port, host, maxBody, TimeSpan.FromSeconds(Math.Max(drain, 1)), threadPool, queueSize, maxChunks, maxConnections);
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
