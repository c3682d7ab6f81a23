using System.Globalization;
using SaltApi.Plugins.RestCherrypyCompat.Config;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>
/// Every <c>rest_cherrypy</c> option read as salt-api's rest_cherrypy reads it: booleans by Python's bool()
/// where app.py tests <c>if apiopts.get(...)</c>, <c>enable_sessions</c> off only for <c>is False</c>,
/// integers by int(), a string where a list is meant.
/// </summary>
public sealed class OptionReadingTests
{
    public static TheoryData<string, object, string, bool> Table => new()
    {
        // key, value as YAML loads it, the bound value, whether a warning names the key
        { "disable_ssl", "False", "True", true },
        { "disable_ssl", "0", "True", true },
        { "disable_ssl", "maybe", "True", false },
        { "disable_ssl", "", "False", false },
        { "disable_ssl", 0L, "False", false },
        { "disable_ssl", false, "False", false },
        { "debug", "false", "True", true },
        { "debug", true, "True", false },
        { "collect_stats", "no", "True", true },
        { "collect_stats", 1L, "True", false },
        { "stats_disable_auth", "off", "True", true },
        { "stats_disable_auth", false, "False", false },
        { "webhook_disable_auth", "False", "True", true },
        { "webhook_disable_auth", "yes", "True", false },
        { "enable_sessions", false, "False", false },
        { "enable_sessions", "False", "True", true },
        { "enable_sessions", 0L, "True", true },
        { "enable_sessions", true, "True", false },
        { "port", "8123", "8123", false },
        { "thread_pool", "10", "10", false },
        { "thread_pool", 10.9, "10", false },
        { "thread_pool", " 1_0 ", "10", false },
        { "queue_size", "5", "5", false },
        { "socket_queue_size", 7L, "7", false },
        { "max_request_body_size", "2048", "2048", false },
        { "max_request_body_size", 2048.5, "2048", false },
        { "host", "127.0.0.1", "127.0.0.1", false },
        { "ssl_crt", "/c.pem", "/c.pem", false },
        { "ssl_key", "/k.pem", "/k.pem", false },
        { "ssl_chain", "/chain.pem", "/chain.pem", false },
        { "webhook_url", "/gitlab", "gitlab", false },
        { "static", "/srv/www", "/srv/www", false },
        { "static_path", "/s", "s", false },
        { "app", "/srv/index.html", "/srv/index.html", false },
        { "app_path", "/ui", "ui", false },
        { "root_prefix", "/api", "/api", false },
        { "favicon", "/f.ico", "/f.ico", false },
        { "authorized_ips", "10.0.0.1", "10.0.0.1", false },
        { "authorized_ips", "10.0.0.1, 10.0.0.2", "10.0.0.1|10.0.0.2", false },
        { "cors_origin", "https://a.example", "https://a.example", false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_option_reads_as_salt_reads_it(string key, object value, string expected, bool warned)
    {
        var section = new Dictionary<string, object?> { ["port"] = 8000L, [key] = value };
        var o = CherrypyOptions.Bind(section);
        string actual = key switch
        {
            "disable_ssl" => o.Listener.DisableSsl.ToString(),
            "debug" => o.Listener.Debug.ToString(),
            "collect_stats" => o.CollectStats.ToString(),
            "stats_disable_auth" => o.StatsDisableAuth.ToString(),
            "webhook_disable_auth" => o.WebhookDisableAuth.ToString(),
            "enable_sessions" => o.EnableSessions.ToString(),
            "port" => o.Listener.Port.ToString(CultureInfo.InvariantCulture),
            "thread_pool" => o.Listener.ThreadPool.ToString(CultureInfo.InvariantCulture),
            "queue_size" or "socket_queue_size" => o.Listener.QueueSize.ToString(CultureInfo.InvariantCulture),
            "max_request_body_size" => o.Listener.MaxRequestBodySize.ToString(CultureInfo.InvariantCulture),
            "host" => o.Listener.Host,
            "ssl_crt" => o.Listener.SslCrt!,
            "ssl_key" => o.Listener.SslKey!,
            "ssl_chain" => o.Listener.SslChain!,
            "webhook_url" => o.WebhookUrl,
            "static" => o.Static!,
            "static_path" => o.StaticPath,
            "app" => o.App!,
            "app_path" => o.AppPath,
            "root_prefix" => o.RootPrefix,
            "favicon" => o.Favicon!,
            "authorized_ips" => string.Join('|', o.AuthorizedIps),
            "cors_origin" => string.Join('|', o.CorsOrigins),
            _ => throw new InvalidOperationException(key),
        };
        Assert.Equal(expected, actual);
        Assert.Equal(warned ? [$"rest_cherrypy.{key}"] : [], o.Listener.Warnings.Select(w => w.Key));
    }
}
