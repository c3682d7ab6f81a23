using System.Net;
using System.Text;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>Options that change the module's behaviour, each on its own listener.</summary>
public class ModuleOptionsTests
{
    [Fact]
    public async Task Cors_only_for_configured_origins_and_preflight_is_200()
    {
        await using var host = await ModuleHost.StartAsync(("cors_origin", new List<object?> { "https://gui.example" }));
        foreach (var path in new[] { "/", "login", "token", "events", "hook", "keys", "stats", "run" })
        {
            using var r = new HttpRequestMessage(HttpMethod.Options, path);
            r.Headers.Add("Origin", "https://gui.example");
            r.Headers.Add("Access-Control-Request-Method", "POST");
            using var resp = await host.Http.SendAsync(r);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Equal("https://gui.example", resp.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", resp.Headers.GetValues("Access-Control-Allow-Credentials").Single());
            Assert.Equal("GET, POST", resp.Headers.GetValues("Access-Control-Allow-Methods").Single());
            Assert.Contains("X-Auth-Token", resp.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.Ordinal);
        }

        using var other = new HttpRequestMessage(HttpMethod.Get, "/");
        other.Headers.Add("Origin", "https://evil.example");
        using var resp2 = await host.Http.SendAsync(other);
        Assert.False(resp2.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Sessions_disabled_unmount_session_resources()
    {
        await using var host = await ModuleHost.StartAsync(("enable_sessions", false));
        foreach (var path in new[] { "login", "logout", "minions", "jobs" })
        {
            using var resp = await host.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, resp.StatusCode);
        }

        using var run = await host.Http.GetAsync("run");
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
    }

    [Fact]
    public async Task Root_prefix_webhook_url_and_disabled_auth()
    {
        await using var host = await ModuleHost.StartAsync(("root_prefix", "/api"), ("webhook_url", "/incoming"), ("webhook_disable_auth", true), ("stats_disable_auth", true));
        using (var resp = await host.Http.GetAsync("api/"))
        {
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        }

        using (var resp = await host.Http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, resp.StatusCode);
        }

        using (var resp = await host.Http.PostAsync("api/incoming/a", new StringContent("{\"x\": 1}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Equal("salt/netapi/hook/a", host.Client.Fired.Single().Tag);
        }

        using (var resp = await host.Http.GetAsync("api/stats"))
        {
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Equal("{}", await resp.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Authorized_ips_and_api_acl()
    {
        await using (var host = await ModuleHost.StartAsync(("authorized_ips", new List<object?> { "10.1.2.3" })))
        {
            using var resp = await host.Http.GetAsync("/");
            Assert.Equal(HttpStatusCode.Forbidden, resp.StatusCode);
            Assert.Contains("<p>Bad IP</p>", await resp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var acl = new Dictionary<string, object?> { ["users"] = new Dictionary<string, object?> { ["saltdev"] = new List<object?> { "10.1.2.3" }, ["*"] = new List<object?> { "127.0.0.1" } } };
        await using (var host = await ModuleHost.StartAsync(("api_acl", acl)))
        {
            using var denied = await host.Http.PostAsync("login", new StringContent("username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
            using var allowed = await host.Http.PostAsync("login", new StringContent("username=limited&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
    }

    [Fact]
    public async Task Tls_without_certificates_does_not_start()
    {
        await using var host = await ModuleHost.StartAsync(("disable_ssl", false));
        for (var i = 0; i < 100 && host.Logger.Lines.IsEmpty; i++)
        {
            await Task.Delay(20);
        }

        Assert.Contains("Error: Not starting 'rest_cherrypy'. Options 'ssl_crt' and 'ssl_key' are required if SSL is not disabled.", host.Logger.Lines);
        Assert.False(host.Run.IsCompleted);
        await Assert.ThrowsAsync<HttpRequestException>(() => host.Http.GetAsync("/"));
    }

    [Fact]
    public async Task Tls_with_a_certificate_serves_https_and_secure_cookies()
    {
        var dir = Directory.CreateTempSubdirectory("cherrypy-tls-").FullName;
        try
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var req = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(dir, "crt.pem"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
            await using var host = await ModuleHost.StartAsync(("disable_ssl", false), ("ssl_crt", Path.Combine(dir, "crt.pem")), ("ssl_key", Path.Combine(dir, "key.pem")), ("ssl_min_version", "1.2"));
            using var http = new HttpClient(new SocketsHttpHandler
            {
                UseCookies = false,
                SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            });
            HttpResponseMessage? resp = null;
            for (var i = 0; i < 100 && resp is null; i++)
            {
                try
                {
                    resp = await http.PostAsync($"https://127.0.0.1:{host.Port}/login", new StringContent("username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(50);
                }
            }

            Assert.NotNull(resp);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.EndsWith("; Secure", resp.Headers.GetValues("Set-Cookie").Single(), StringComparison.Ordinal);
            resp.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Static_app_favicon_and_html_override()
    {
        var dir = Directory.CreateTempSubdirectory("cherrypy-static-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "www"));
            await File.WriteAllTextAsync(Path.Combine(dir, "www", "a.js"), "var a;");
            await File.WriteAllTextAsync(Path.Combine(dir, "secret"), "no");
            await File.WriteAllTextAsync(Path.Combine(dir, "index.html"), "<html>mine</html>");
            await File.WriteAllBytesAsync(Path.Combine(dir, "fav.ico"), [1, 2, 3]);
            await using var host = await ModuleHost.StartAsync(("static", Path.Combine(dir, "www")), ("static_path", "/assets"), ("app", Path.Combine(dir, "index.html")), ("app_path", "/ui"), ("favicon", Path.Combine(dir, "fav.ico")));
            using (var resp = await host.Http.GetAsync("assets/a.js"))
            {
                Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
                Assert.Equal("var a;", await resp.Content.ReadAsStringAsync());
            }

            using (var resp = await host.Http.GetAsync("assets/..%2Fsecret"))
            {
                Assert.Equal(HttpStatusCode.NotFound, resp.StatusCode);
            }

            using (var resp = await host.Http.GetAsync("ui/whatever"))
            {
                Assert.Equal("<html>mine</html>", await resp.Content.ReadAsStringAsync());
            }

            using (var resp = await host.Http.GetAsync("favicon.ico"))
            {
                Assert.Equal([1, 2, 3], await resp.Content.ReadAsByteArrayAsync());
            }

            // A browser asking for HTML anywhere else gets the app (Salt's html_override).
            using var browser = new HttpRequestMessage(HttpMethod.Get, "minions");
            browser.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml;q=0.9");
            using (var resp = await host.Http.SendAsync(browser))
            {
                Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
                Assert.Equal("<html>mine</html>", await resp.Content.ReadAsStringAsync());
            }

            using (var resp = await host.Http.GetAsync("minions"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, resp.StatusCode);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Debug_puts_the_error_text_in_the_generic_500()
    {
        await using var host = await ModuleHost.StartAsync(("debug", true));
        var token = await host.LoginAsync();
        using var r = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("[{\"client\": \"local\", \"tgt\": \"*\"}]", Encoding.UTF8, "application/json") };
        r.Headers.Add("X-Auth-Token", token);
        using var resp = await host.Http.SendAsync(r);
        Assert.Equal(HttpStatusCode.InternalServerError, resp.StatusCode);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"status\": 500, \"return\": \"", body, StringComparison.Ordinal);
        Assert.Contains("missing fun", body, StringComparison.Ordinal);
    }
}
