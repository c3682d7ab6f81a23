using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Host.Configuration;

/// <summary>
/// Master options the daemon reads as Salt does but where Salt's reading surprises (a quoted <c>"False"</c>
/// that is true, a string where a list is meant): one warning each at start, naming the key and its place.
/// </summary>
internal static class SaltReadingWarnings
{
    /// <summary>Master options Salt tests with <c>if opts.get(key)</c> (Python's <c>bool()</c>) and the daemon reads the same way.</summary>
    internal static readonly string[] BooleanKeys = ["netapi_allow_raw_shell", "detect_mode", "order_masters", "permissive_acl", "tcp_keepalive"];

    public static IEnumerable<string> For(LoadedConfig config)
    {
        var opts = config.Options;
        foreach (var key in BooleanKeys)
        {
            if (opts.TryGetValue(key, out var v) && ConfigBinder.LooksFalseButIsTrue(v))
            {
                yield return $"{key}: '{v}' ({config.Where(key)}) reads as true, as salt-api reads it (Python's bool() of a non-empty string); write false without quotes to turn it off";
            }
        }

        if (opts.TryGetValue("netapi_enable_clients", out var clients) && clients is string text)
        {
            yield return $"netapi_enable_clients: '{text}' ({config.Where("netapi_enable_clients")}) is a string, read as the list [{string.Join(", ", MasterConfig.ClientList(text))}]; write a YAML list (Salt tests each client's name as a substring of the string)";
        }
    }
}
