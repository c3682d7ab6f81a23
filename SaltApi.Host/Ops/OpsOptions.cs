using SaltApi.Protocol.Config;

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
    public static OpsOptions? From(IReadOnlyDictionary<string, object?> opts)
    {
        if (!opts.TryGetValue(ConfigKey, out var raw) || raw is null or false)
        {
            return null;
        }

        var section = ConfigValues.GetMap(opts, ConfigKey);
        foreach (var key in section.Keys)
        {
            if (key is not ("host" or "port" or "metrics"))
            {
                throw new ConfigException($"{ConfigKey}.{key}", "unknown option (host, port, metrics)");
            }
        }

        if (!section.ContainsKey("port"))
        {
            throw new ConfigException($"{ConfigKey}.port", "required");
        }

        var port = ConfigValues.GetInt(section, "port", 0, ConfigKey);
        if (port is < 0 or > 65535)
        {
            throw new ConfigException($"{ConfigKey}.port", "must be 0 to 65535");
        }

        var host = ConfigValues.GetString(section, "host", "127.0.0.1", ConfigKey);
        if (host != "localhost" && !System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            throw new ConfigException($"{ConfigKey}.host", $"must be an IP address or localhost, not '{host}'");
        }

        var metrics = section.GetValueOrDefault("metrics") switch
        {
            null => false,
            bool b => b,
            _ => throw new ConfigException($"{ConfigKey}.metrics", "expected true or false"),
        };
        return new OpsOptions(host, port, metrics);
    }
}
