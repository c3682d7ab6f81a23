using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SaltApi.Hardening.Tests.Http;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.Tls;

/// <summary>rest_cherrypy with TLS (Salt's default: ssl_crt/ssl_key) on a self-signed certificate made here.</summary>
public sealed class TlsFixture : HardeningFixture
{
    public string CertThumbprint { get; private set; } = "";

    protected override void Configure(string dir)
    {
        base.Configure(dir);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertThumbprint = cert.Thumbprint;
        File.WriteAllText(Path.Combine(dir, "api.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "api.key"), key.ExportPkcs8PrivateKeyPem());

        var path = Path.Combine(dir, "master");
        var text = File.ReadAllText(path).Replace("  disable_ssl: true\n", $"  disable_ssl: false\n  ssl_crt: {dir}/api.crt\n  ssl_key: {dir}/api.key\n", StringComparison.Ordinal);
        File.WriteAllText(path, text);
    }
}

public sealed class TlsTests(TlsFixture fixture) : IClassFixture<TlsFixture>
{
    private int Port => fixture.Daemon.CherrypyPort;

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Modern_tls_serves_the_api_with_our_certificate(SslProtocols protocol)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Port);
        string? thumbprint = null;
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, cert, _, _) =>
        {
            thumbprint = cert is null ? null : new X509Certificate2(cert).Thumbprint;
            return true;
        });
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = protocol });
        Assert.Equal(protocol, ssl.SslProtocol);
        Assert.Equal(fixture.CertThumbprint, thumbprint);
        await ssl.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(ssl);
        var text = await reader.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
        Assert.Contains("\"Welcome\"", text, StringComparison.Ordinal);
    }

    [ToolTheory("openssl", "openssl")]
    [InlineData("-tls1")]
    [InlineData("-tls1_1")]
    public async Task Tls_1_0_and_1_1_are_refused(string version)
    {
        // openssl with SECLEVEL=0 still offers TLS 1.0/1.1 (checked against `openssl s_server`), so a
        // failed handshake here is the server's refusal, not the client's. (.NET's own client on OpenSSL 3
        // refuses these versions by itself, so it could not tell.)
        var refused = await SClientAsync(version, "DEFAULT:@SECLEVEL=0");
        // A refused handshake prints "New, (NONE), Cipher is (NONE)"; an accepted one names the version.
        Assert.DoesNotMatch(@"New, TLSv1(\.1)?, Cipher is", refused);
        Assert.Contains("Cipher is (NONE)", refused, StringComparison.Ordinal);

        // The control: the same client on TLS 1.2 gets through, and its output says so.
        Assert.Matches(@"New, TLSv1\.2, Cipher is [A-Z]", await SClientAsync("-tls1_2", "DEFAULT"));
    }

    private async Task<string> SClientAsync(string version, string ciphers)
    {
        var psi = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "s_client", "-connect", $"127.0.0.1:{Port}", version, "-cipher", ciphers })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync() + await stderr;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return output;
    }

    [Fact]
    public async Task Plain_http_on_the_tls_port_gets_no_api_answer()
    {
        RawResponse? response = null;
        try
        {
            response = await RawHttp.SendAsync(Port, RawHttp.Build("GET", "/"), TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
        }

        Assert.True(response is null || response.Status is 0 or 400, $"{response}");
        Assert.DoesNotContain("Welcome", response?.Text ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_cookie_is_Secure_HttpOnly_and_SameSite_under_tls()
    {
        var response = await RawHttp.SendAsync(Port, BadInput.Requests.Post("/login", "{\"username\": \"saltdev\", \"password\": \"saltdev\", \"eauth\": \"file\"}"), TimeSpan.FromSeconds(30), tls: true);
        Assert.Equal(200, response.Status);
        var cookie = Assert.Single(response.All("Set-Cookie"), c => c.StartsWith("session_id=", StringComparison.Ordinal));
        Assert.Contains("Secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("HttpOnly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SameSite=", cookie, StringComparison.OrdinalIgnoreCase);
    }
}
