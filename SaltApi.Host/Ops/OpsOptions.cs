using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Host.Ops;

/// <summary>
/// The <c>saltapi_ops:</c> section (ours; Salt has no such key): the operations listener for load balancers
/// and Prometheus, off unless configured. <c>/livez</c> and <c>/readyz</c> are always served there;
/// <c>/metrics</c> only with <c>metrics: true</c>. No auth: bind it where only the balancer and Prometheus reach.
/// </summary>
/// <param name="Host">Address to bind (an IP literal or <c>localhost</c>; default <c>127.0.0.1</c>).</param>
/// <param name="Port">TCP port (required; 0 picks a free one).</param>
/// <param name="Metrics">Serve <c>/metrics</c> (Prometheus text format 0.0.4).</param>
internal sealed record OpsOptions(string Host, int Port, bool Metrics)
{
    /// <summary>The section's key.</summary>
    public const string ConfigKey = "saltapi_ops";

    /// <summary>The section bound and checked, or null when absent; a wrong value throws <see cref="ConfigException"/> naming its key.</summary>
    public static OpsOptions? From(IReadOnlyDictionary<string, object?> opts) => ConfigException.Bind(opts, Bind);

    /// <summary>The section bound and checked, or null when absent; every wrong value is recorded in <paramref name="root"/>'s errors.</summary>
    public static OpsOptions? Bind(ConfigBinder root)
    {
        if (!root.Values.TryGetValue(ConfigKey, out var raw) || raw is null or false)
        {
            return null;
        }

        var section = root.Section(ConfigKey);
        var problems = root.Errors.Count;
        foreach (var key in section.Values.Keys)
        {
            if (key is not ("host" or "port" or "metrics"))
            {
                // Ignored, as Salt ignores keys it does not know; said, since the section is ours and a typo
                // (metric: true) would otherwise leave metrics off without a word.
                section.Warn(key, "unknown option (host, port, metrics): ignored");
            }
        }

        if (!section.Has("port") && raw is IReadOnlyDictionary<string, object?>)
        {
            section.Problem("port", "required");
        }

        var port = section.GetInt("port", 0);
        if (port is < 0 or > 65535)
        {
            section.Problem("port", $"must be 0 to 65535, not {port}");
        }

        var host = section.GetString("host", "127.0.0.1");
        if (host != "localhost" && !System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            section.Problem("host", $"must be an IP address or localhost, not '{host}'");
        }

        var metrics = false;
        switch (section.Values.GetValueOrDefault("metrics"))
        {
            case null: break;
            case bool b: metrics = b; break;
            case var v: section.Problem("metrics", $"expected true or false, not {ConfigBinder.Show(v)}"); break;
        }

        return root.Errors.Count > problems ? null : new OpsOptions(host, port, metrics);
    }
}
