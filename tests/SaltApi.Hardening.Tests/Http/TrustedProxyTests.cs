using System.Text;
using SaltApi.Testing;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>127.0.0.1 (the test's own address) is a trusted proxy; the clients it forwards for are 203.0.113.7 and 198.51.100.9.</summary>
public sealed class TrustedProxyFixture : HardeningFixture
{
    public const string Client = "203.0.113.7";
    public const string Other = "198.51.100.9";

    private const string Acl = $"  api_acl:\n    users:\n      saltdev:\n        - {Client}\n";

    public string AccessLog => Path.Combine(Daemon.Dir, "access.log");

    protected override string WsgiKeys => base.WsgiKeys + "  trusted_proxies: 127.0.0.1\n" + Acl;

    protected override string CherrypyKeys(string dir) => base.CherrypyKeys(dir)
        + $"  trusted_proxies: [127.0.0.1/32]\n  authorized_ips: [{Client}, {Other}]\n  log_access_file: {dir}/access.log\n" + Acl;
}

/// <summary>10.9.9.9 is the only trusted proxy: a request from 127.0.0.1 is its own client, whatever it forwards.</summary>
public sealed class UntrustedProxyFixture : HardeningFixture
{
    public string AccessLog => Path.Combine(Daemon.Dir, "access.log");

    protected override string CherrypyKeys(string dir) => base.CherrypyKeys(dir)
        + $"  trusted_proxies: [10.9.9.9]\n  authorized_ips: [127.0.0.1]\n  log_access_file: {dir}/access.log\n";
}

/// <summary>Shared requests of the proxy tests.</summary>
internal static class ProxyRequests
{
    public const string FormLogin = "username=saltdev&password=saltdev&eauth=file";

    public static (string, string) Forwarded(string chain) => ("X-Forwarded-For", chain);

    public static Task<RawResponse> LoginAsync(int port, params (string, string)[] headers) =>
        RawHttp.SendAsync(port, Post("/login", FormLogin, "application/x-www-form-urlencoded", [("Accept", "application/json"), .. headers]));

    /// <summary>Fires <c>/hook/&lt;marker&gt;</c> with <paramref name="headers"/> and returns the event's <c>data:</c> line.</summary>
    public static async Task<string> HookEventAsync(int port, string session, string streamHeaders, params (string, string)[] headers)
    {
        await using var events = await EventStreamReader.OpenAsync(port, session, streamHeaders);
        var marker = "px-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await RawHttp.SendAsync(port, Post("/hook/" + marker, """{"hello": "hook"}""", "application/json", [("X-Auth-Token", session), .. headers]));
        Assert.True(hook.Status == 200, hook.ToString());
        Assert.True(await events.WaitForAsync("salt/netapi/hook/" + marker + "\n", TimeSpan.FromSeconds(15)), events.Text);
        return events.Text.Split('\n').First(l => l.StartsWith("data: ", StringComparison.Ordinal) && l.Contains(marker, StringComparison.Ordinal));
    }

    /// <summary>The access-log lines that contain <paramref name="part"/>, waiting (bounded) for at least one.</summary>
    public static async Task<List<string>> AccessLinesAsync(string file, string part)
    {
        for (var i = 0; ; i++)
        {
            var lines = File.Exists(file) ? (await ReadSharedAsync(file)).Split('\n').Where(l => l.Contains(part, StringComparison.Ordinal)).ToList() : [];
            if (lines.Count > 0 || i == 100)
            {
                return lines;
            }

            await Task.Delay(50);
        }
    }

    public static async Task<string> ReadSharedAsync(string file)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}

/// <summary>
/// Issue 15 item 1: from a trusted proxy (127.0.0.1 configured), X-Forwarded-For is the client everywhere
/// (authorized_ips, api_acl in both modules, the hook's Remote-Addr, the access log) and X-Forwarded-Proto
/// https makes the session cookie Secure; a chain is read right to left through trusted hops only.
/// </summary>
public sealed class TrustedProxyTests(TrustedProxyFixture fixture) : IClassFixture<TrustedProxyFixture>
{
    private int Port => fixture.Daemon.CherrypyPort;

    [Fact]
    public async Task Authorized_ips_and_api_acl_see_the_client_the_proxy_forwards()
    {
        var direct = await ProxyRequests.LoginAsync(Port);
        Assert.True(direct.Status == 403, "127.0.0.1 itself is not in authorized_ips: " + direct);

        var allowed = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Client));
        Assert.True(allowed.Status == 200, allowed.ToString());

        // In authorized_ips, but api_acl lets saltdev in from 203.0.113.7 only.
        var refused = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Other));
        Assert.True(refused.Status == 401, refused.ToString());

        // Right to left: the nearest address that is not a trusted proxy is the client; what a client
        // wrote further left (a forged 203.0.113.7) is not.
        var forgedLeft = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded($"{TrustedProxyFixture.Client}, {TrustedProxyFixture.Other}"));
        Assert.True(forgedLeft.Status == 401, forgedLeft.ToString());
        var throughTwoProxies = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded($"{TrustedProxyFixture.Client}, 127.0.0.1"));
        Assert.True(throughTwoProxies.Status == 200, throughTwoProxies.ToString());
    }

    [Fact]
    public async Task The_session_cookie_is_Secure_when_the_proxy_says_https()
    {
        var https = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Client), ("X-Forwarded-Proto", "https"));
        Assert.True(https.Status == 200, https.ToString());
        Assert.EndsWith("; Secure", https.Header("Set-Cookie"), StringComparison.Ordinal);

        var http = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Client), ("X-Forwarded-Proto", "http"));
        Assert.True(http.Status == 200, http.ToString());
        Assert.DoesNotContain("Secure", http.Header("Set-Cookie"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hook_event_has_the_forwarded_client_as_Remote_Addr()
    {
        var login = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Client));
        Assert.True(login.Status == 200, login.ToString());
        var session = login.Header("X-Auth-Token")!;
        var line = await ProxyRequests.HookEventAsync(Port, session, $"X-Forwarded-For: {TrustedProxyFixture.Client}\r\n", ProxyRequests.Forwarded(TrustedProxyFixture.Client));
        Assert.Contains($"\"Remote-Addr\": \"{TrustedProxyFixture.Client}\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rest_wsgi_api_acl_sees_the_forwarded_client()
    {
        var port = fixture.Daemon.WsgiPort;
        var direct = await RawHttp.SendAsync(port, Post("/", Valid));
        Assert.True(direct.Status == 401, direct.ToString());
        var forwarded = await RawHttp.SendAsync(port, Post("/", Valid, "application/json", ProxyRequests.Forwarded(TrustedProxyFixture.Client)));
        Assert.True(forwarded.Status == 200, forwarded.ToString());
    }

    [Fact]
    public async Task The_access_log_line_starts_with_the_forwarded_client()
    {
        var agent = "proxy-test-" + Guid.NewGuid().ToString("N")[..8];
        var login = await ProxyRequests.LoginAsync(Port, ProxyRequests.Forwarded(TrustedProxyFixture.Client), ("User-Agent", agent));
        Assert.True(login.Status == 200, login.ToString());
        var line = Assert.Single(await ProxyRequests.AccessLinesAsync(fixture.AccessLog, agent));
        Assert.StartsWith($"{TrustedProxyFixture.Client} - - [", line, StringComparison.Ordinal);

        // rest_wsgi has no log_access_file here: its lines go to the daemon's log at info.
        var wsgiAgent = "wsgi-" + agent;
        var wsgi = await RawHttp.SendAsync(fixture.Daemon.WsgiPort, Post("/", Valid, "application/json", ProxyRequests.Forwarded(TrustedProxyFixture.Client), ("User-Agent", wsgiAgent)));
        Assert.True(wsgi.Status == 200, wsgi.ToString());
        string? logged = null;
        for (var i = 0; i < 100 && logged is null; i++, await Task.Delay(50))
        {
            logged = fixture.Daemon.Output.Split('\n').FirstOrDefault(l => l.Contains(wsgiAgent, StringComparison.Ordinal));
        }

        Assert.NotNull(logged);
        Assert.Contains($"{TrustedProxyFixture.Client} - - [", logged, StringComparison.Ordinal);
        Assert.Contains("\"POST / HTTP/1.1\" 200 ", logged, StringComparison.Ordinal);
    }
}

/// <summary>
/// Issue 15 item 1: forwarded headers from an address that is not a trusted proxy (127.0.0.1 here, and
/// loopback is not trusted implicitly) change nothing: the client, the scheme, the hook's Remote-Addr and
/// the access log are the socket's.
/// </summary>
public sealed class UntrustedProxyTests(UntrustedProxyFixture fixture) : IClassFixture<UntrustedProxyFixture>
{
    private static readonly (string, string)[] Forged =
        [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")];

    [Fact]
    public async Task Forged_forwarded_headers_change_nothing()
    {
        var port = fixture.Daemon.CherrypyPort;
        var agent = "forged-" + Guid.NewGuid().ToString("N")[..8];
        // authorized_ips lists 127.0.0.1 only: had 203.0.113.7 been believed, this would be a 403.
        var login = await ProxyRequests.LoginAsync(port, [.. Forged, ("User-Agent", agent)]);
        Assert.True(login.Status == 200, login.ToString());
        Assert.DoesNotContain("Secure", login.Header("Set-Cookie"), StringComparison.Ordinal);

        var line = await ProxyRequests.HookEventAsync(port, login.Header("X-Auth-Token")!, "X-Forwarded-For: 203.0.113.7\r\n", Forged);
        Assert.Contains("\"Remote-Addr\": \"127.0.0.1\"", line, StringComparison.Ordinal);

        var access = Assert.Single(await ProxyRequests.AccessLinesAsync(fixture.AccessLog, agent));
        Assert.StartsWith("127.0.0.1 - - [", access, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.7", await ProxyRequests.ReadSharedAsync(fixture.AccessLog), StringComparison.Ordinal);
    }
}

/// <summary>Wrong <c>trusted_proxies</c> and log files that cannot be opened are config errors naming the key, at start.</summary>
public sealed class ProxyConfigTests
{
    [Fact]
    public async Task A_bad_network_or_an_unwritable_log_file_is_a_config_error_naming_the_key()
    {
        await using var daemon = await Daemon.StartAsync(
            configure: dir =>
            {
                var path = Path.Combine(dir, "master");
                var text = File.ReadAllText(path)
                    .Replace("  disable_ssl: true\n", "  disable_ssl: true\n  trusted_proxies: [10.0.0.1, 10.0.0.0/33]\n", StringComparison.Ordinal);
                File.WriteAllText(path, text);
                Directory.CreateDirectory(Path.Combine(dir, "master.d"));
                File.WriteAllText(Path.Combine(dir, "master.d", "wsgi.conf"), $"rest_wsgi:\n  port: {FreePort.Next()}\n  log_access_file: /proc/no-such-dir/access.log\n");
            },
            waitForPorts: []);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !(daemon.Output.Contains("trusted_proxies", StringComparison.Ordinal) && daemon.Output.Contains("log_access_file", StringComparison.Ordinal)))
        {
            await Task.Delay(100);
        }

        var output = daemon.Output;
        Assert.Contains("rest_cherrypy.trusted_proxies: '10.0.0.0/33' is not an IP address or a network in CIDR notation", output, StringComparison.Ordinal);
        Assert.Contains("rest_wsgi.log_access_file: cannot open /proc/no-such-dir/access.log", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Restarting netapi module", output, StringComparison.Ordinal);
    }
}
