using SaltApi.Plugins.RestTornadoCompat.Config;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>
/// Every <c>rest_tornado</c> option read as salt-api's rest_tornado/__init__.py and saltnado.py read it:
/// booleans by Python's bool() (<c>if mod_opts.get(...)</c>), integers by int(), a string where a list is meant.
/// </summary>
public sealed class OptionReadingTests
{
    public static TheoryData<string, object, string, bool> Table => new()
    {
        // key, value as YAML loads it, the bound value, whether a warning names the key
        { "disable_ssl", "False", "True", true },
        { "disable_ssl", "no", "True", true },
        { "disable_ssl", "maybe", "True", false },
        { "disable_ssl", "", "False", false },
        { "disable_ssl", 0L, "False", false },
        { "disable_ssl", true, "True", false },
        { "debug", "false", "True", true },
        { "debug", 1L, "True", false },
        { "websockets", "0", "True", true },
        { "websockets", "yes", "True", false },
        { "websockets", false, "False", false },
        { "webhook_disable_auth", "off", "True", true },
        { "webhook_disable_auth", 0.0, "False", false },
        { "backlog", "64", "64", false },
        { "backlog", 64.9, "64", false },
        { "num_processes", " 4 ", "4", false },
        { "num_processes", true, "1", false },
        { "max_request_body_size", "2_048", "2048", false },
        { "max_lowstate_chunks", 10.5, "10", false },
        { "port", "8123", "8123", false },
        { "address", "127.0.0.1", "127.0.0.1", false },
        { "ssl_crt", 5L, "5", false },
        { "ssl_key", "/k.pem", "/k.pem", false },
        { "cors_origin", "https://a.example", "https://a.example", false },
        { "cors_origin", "https://a.example, https://b.example", "https://a.example|https://b.example", false },
        { "webhook_url", "/gitlab", "/gitlab", false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_option_reads_as_salt_reads_it(string key, object value, string expected, bool warned)
    {
        var section = new Dictionary<string, object?> { ["port"] = 8002L, [key] = value };
        var o = TornadoOptions.Bind(section);
        string actual = key switch
        {
            "disable_ssl" => o.Listener.DisableSsl.ToString(),
            "debug" => o.Listener.Debug.ToString(),
            "websockets" => o.Websockets.ToString(),
            "webhook_disable_auth" => o.WebhookDisableAuth.ToString(),
            "backlog" => o.Backlog.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "num_processes" => o.NumProcesses.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "max_request_body_size" => o.Listener.MaxRequestBodySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "max_lowstate_chunks" => o.MaxLowstateChunks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "port" => o.Listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "address" => o.Listener.Host,
            "ssl_crt" => o.Listener.SslCrt!,
            "ssl_key" => o.Listener.SslKey!,
            "cors_origin" => string.Join('|', o.CorsOrigins),
            "webhook_url" => o.WebhookUrl,
            _ => throw new InvalidOperationException(key),
        };
        Assert.Equal(expected, actual);
        Assert.Equal(warned ? [$"rest_tornado.{key}"] : [], o.Listener.Warnings.Select(w => w.Key));
    }
}
