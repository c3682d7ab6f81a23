using System.Collections;
using System.Globalization;
using System.Security.Authentication;

namespace SaltApi.Plugins.RestCherrypyCompat.Config;

/// <summary>The <c>rest_cherrypy:</c> section (spec/05 §1), bound once at start; unknown keys are ignored.</summary>
internal sealed record CherrypyOptions
{
    public int Port { get; init; }

    public string Host { get; init; } = "0.0.0.0";

    public bool DisableSsl { get; init; }

    public string? SslCrt { get; init; }

    public string? SslKey { get; init; }

    public string? SslChain { get; init; }

    /// <summary>Ours (Salt #52981): lowest TLS version accepted, <c>1.2</c> (default) or <c>1.3</c>.</summary>
    public SslProtocols SslMinVersion { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    public bool Debug { get; init; }

    public int ThreadPool { get; init; } = 100;

    public int QueueSize { get; init; } = 30;

    /// <summary>Enforced (Salt documents 1048576 but never applies it).</summary>
    public long MaxRequestBodySize { get; init; } = 1048576;

    public bool CollectStats { get; init; }

    public bool StatsDisableAuth { get; init; }

    public string WebhookUrl { get; init; } = "hook";

    public bool WebhookDisableAuth { get; init; }

    public bool EnableSessions { get; init; } = true;

    public string? Static { get; init; }

    public string StaticPath { get; init; } = "static";

    public string? App { get; init; }

    public string AppPath { get; init; } = "app";

    public string RootPrefix { get; init; } = "/";

    public string? Favicon { get; init; }

    /// <summary><c>api_acl.users</c>: user (or <c>*</c>) → allowed client IPs (or <c>*</c>); null = no ACL.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? ApiAclUsers { get; init; }

    public IReadOnlyList<string> AuthorizedIps { get; init; } = [];

    /// <summary>Ours: origins allowed by CORS (<c>*</c> = any); empty = no CORS headers.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Binds and validates a section; throws <see cref="InvalidOperationException"/> on bad values.</summary>
    public static CherrypyOptions Bind(IReadOnlyDictionary<string, object?> s)
    {
        var o = new CherrypyOptions
        {
            Port = Int(s, "port", 0),
            Host = Str(s, "host") ?? "0.0.0.0",
            DisableSsl = Bool(s, "disable_ssl", false),
            SslCrt = Str(s, "ssl_crt"),
            SslKey = Str(s, "ssl_key"),
            SslChain = Str(s, "ssl_chain"),
            SslMinVersion = Str(s, "ssl_min_version") switch
            {
                null or "" or "1.2" or "TLSv1.2" => SslProtocols.Tls12 | SslProtocols.Tls13,
                "1.3" or "TLSv1.3" => SslProtocols.Tls13,
                var v => throw new InvalidOperationException($"rest_cherrypy: ssl_min_version must be 1.2 or 1.3, not '{v}'"),
            },
            Debug = Bool(s, "debug", false),
            ThreadPool = Math.Max(1, Int(s, "thread_pool", 100)),
            QueueSize = Math.Max(0, s.ContainsKey("queue_size") ? Int(s, "queue_size", 30) : Int(s, "socket_queue_size", 30)),
            MaxRequestBodySize = Long(s, "max_request_body_size", 1048576),
            CollectStats = Bool(s, "collect_stats", false),
            StatsDisableAuth = Bool(s, "stats_disable_auth", false),
            WebhookUrl = (Str(s, "webhook_url") ?? "/hook").Trim('/'),
            WebhookDisableAuth = Bool(s, "webhook_disable_auth", false),
            EnableSessions = Bool(s, "enable_sessions", true),
            Static = Str(s, "static"),
            StaticPath = (Str(s, "static_path") ?? "/static").Trim('/'),
            App = Str(s, "app"),
            AppPath = (Str(s, "app_path") ?? "/app").Trim('/'),
            RootPrefix = "/" + (Str(s, "root_prefix") ?? "/").Trim('/'),
            Favicon = Str(s, "favicon"),
            ApiAclUsers = AclUsers(s),
            AuthorizedIps = StrList(s, "authorized_ips"),
            CorsOrigins = StrList(s, "cors_origin"),
        };
        if (o.Port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"rest_cherrypy: port {o.Port} is out of range");
        }

        if (o.WebhookUrl.Length == 0)
        {
            o = o with { WebhookUrl = "hook" };
        }

        return o;
    }

    private static object? Get(IReadOnlyDictionary<string, object?> s, string key) => s.TryGetValue(key, out var v) ? v : null;

    private static string? Str(IReadOnlyDictionary<string, object?> s, string key) => Get(s, key) switch
    {
        null => null,
        string str => str,
        bool b => b ? "True" : "False",
        var v => Convert.ToString(v, CultureInfo.InvariantCulture),
    };

    private static bool Bool(IReadOnlyDictionary<string, object?> s, string key, bool fallback) => Get(s, key) switch
    {
        null => fallback,
        bool b => b,
        string str => str.Trim().ToLowerInvariant() is "true" or "yes" or "on" or "1",
        long l => l != 0,
        int i => i != 0,
        _ => fallback,
    };

    private static int Int(IReadOnlyDictionary<string, object?> s, string key, int fallback) => (int)Math.Clamp(Long(s, key, fallback), int.MinValue, int.MaxValue);

    private static long Long(IReadOnlyDictionary<string, object?> s, string key, long fallback) => Get(s, key) switch
    {
        null => fallback,
        long l => l,
        int i => i,
        ulong u => (long)Math.Min(u, long.MaxValue),
        double d => (long)d,
        string str when long.TryParse(str.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        var v => throw new InvalidOperationException($"rest_cherrypy: {key} must be a number, not '{v}'"),
    };

    private static List<string> StrList(IReadOnlyDictionary<string, object?> s, string key) => Get(s, key) switch
    {
        null => [],
        string str => str.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        IEnumerable e => e.Cast<object?>().Where(x => x is not null).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)!).ToList(),
        var v => [Convert.ToString(v, CultureInfo.InvariantCulture)!],
    };

    private static Dictionary<string, IReadOnlyList<string>>? AclUsers(IReadOnlyDictionary<string, object?> s)
    {
        if (Map(Get(s, "api_acl")) is not { } acl || Map(acl.GetValueOrDefault("users")) is not { } users)
        {
            return null;
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (user, ips) in users)
        {
            result[user] = StrList(new Dictionary<string, object?> { ["v"] = ips }, "v");
        }

        return result;
    }

    internal static Dictionary<string, object?>? Map(object? v)
    {
        switch (v)
        {
            case IEnumerable<KeyValuePair<string, object?>> typed:
                return typed.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            case IDictionary dict:
                var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (DictionaryEntry e in dict)
                {
                    d[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = e.Value;
                }

                return d;
            default:
                return null;
        }
    }
}
