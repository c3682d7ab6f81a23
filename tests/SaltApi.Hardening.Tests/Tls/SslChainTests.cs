using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.Tls;

/// <summary>A root CA, an intermediate CA and a server certificate for 127.0.0.1 that the intermediate issued.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootReq = new CertificateRequest("CN=SaltApi test root", rootKey, HashAlgorithmName.SHA256);
        AddCa(rootReq);
        Root = rootReq.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using var interKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var interReq = new CertificateRequest("CN=SaltApi test intermediate", interKey, HashAlgorithmName.SHA256);
        AddCa(interReq);
        interReq.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        using (var interPublic = interReq.Create(Root, now.AddMinutes(-4), now.AddDays(1), Serial()))
        {
            Intermediate = interPublic.CopyWithPrivateKey(interKey);
        }

        LeafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafReq = new CertificateRequest("CN=127.0.0.1", LeafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        leafReq.CertificateExtensions.Add(san.Build());
        leafReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafReq.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        leafReq.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Intermediate, true, false));
        Leaf = leafReq.Create(Intermediate, now.AddMinutes(-3), now.AddHours(12), Serial());
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public X509Certificate2 Leaf { get; }

    public ECDsa LeafKey { get; }

    /// <summary>Writes <c>api.crt</c> (the leaf, then <paramref name="withCrt"/>), <c>api.key</c> and <c>chain.pem</c> (<paramref name="chain"/>).</summary>
    public void Write(string dir, X509Certificate2[] withCrt, X509Certificate2[] chain)
    {
        File.WriteAllText(Path.Combine(dir, "api.crt"), string.Concat(new[] { Leaf }.Concat(withCrt).Select(c => c.ExportCertificatePem() + "\n")));
        File.WriteAllText(Path.Combine(dir, "api.key"), LeafKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "chain.pem"), string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")));
    }

    /// <summary>A client that trusts only our root and downloads nothing: the server must send the intermediate.</summary>
    public HttpClient RootOnlyClient() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        SslOptions =
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { Root },
                DisableCertificateDownloads = true,
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        Leaf.Dispose();
        LeafKey.Dispose();
    }

    private static void AddCa(CertificateRequest req)
    {
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
    }

    private static byte[] Serial() => RandomNumberGenerator.GetBytes(12);
}

/// <summary>rest_cherrypy with <c>ssl_crt</c> (the leaf alone), <c>ssl_key</c> and <c>ssl_chain</c> (the intermediate).</summary>
public sealed class SslChainFixture : HardeningFixture
{
    public TestPki Pki { get; } = new();

    protected override void Configure(string dir)
    {
        base.Configure(dir);
        Pki.Write(dir, [], [Pki.Intermediate]);
        SslChainTests.EnableTls(dir, withChain: true);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Pki.Dispose();
    }
}

public sealed partial class SslChainTests(SslChainFixture fixture) : IClassFixture<SslChainFixture>
{
    private int Port => fixture.Daemon.CherrypyPort;

    internal static void EnableTls(string dir, bool withChain)
    {
        var path = Path.Combine(dir, "master");
        var keys = $"  disable_ssl: false\n  ssl_crt: {dir}/api.crt\n  ssl_key: {dir}/api.key\n" + (withChain ? $"  ssl_chain: {dir}/chain.pem\n" : "");
        File.WriteAllText(path, File.ReadAllText(path).Replace("  disable_ssl: true\n", keys, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_trusting_only_the_root_validates_the_served_chain()
    {
        using var http = fixture.Pki.RootOnlyClient();
        using var resp = await http.GetAsync(new Uri($"https://127.0.0.1:{Port}/"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Contains("\"Welcome\"", await resp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_handshake_carries_the_leaf_then_the_intermediate()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Port);
        string[] sent = [];
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, chain, _) =>
        {
            // The certificates the server sent are the chain's extra store (the client's own stores aside).
            sent = chain!.ChainPolicy.ExtraStore.Select(c => c.Thumbprint).ToArray();
            return true;
        });
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 });
        Assert.Equal(fixture.Pki.Leaf.Thumbprint, new X509Certificate2(ssl.RemoteCertificate!).Thumbprint);
        Assert.Contains(fixture.Pki.Intermediate.Thumbprint, sent);
    }

    [ToolFact("openssl", "openssl")]
    public async Task Openssl_showcerts_lists_the_intermediate()
    {
        var psi = new ProcessStartInfo("openssl", ["s_client", "-connect", $"127.0.0.1:{Port}", "-showcerts"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var openssl = Process.Start(psi)!;
        openssl.StandardInput.Close();
        var output = await openssl.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await openssl.WaitForExitAsync();
        var sent = Pem().Matches(output).Select(m => X509Certificate2.CreateFromPem(m.Value)).ToList();
        Assert.Equal([fixture.Pki.Leaf.Thumbprint, fixture.Pki.Intermediate.Thumbprint], sent.Select(c => c.Thumbprint).ToArray());
        sent.ForEach(c => c.Dispose());
    }

    [ToolFact("openssl", "openssl")]
    public async Task The_minimum_tls_version_still_holds_with_a_chain()
    {
        // As TlsTests: openssl with SECLEVEL=0 offers TLS 1.1, so a failed handshake is the server's refusal.
        var psi = new ProcessStartInfo("openssl", ["s_client", "-connect", $"127.0.0.1:{Port}", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var openssl = Process.Start(psi)!;
        openssl.StandardInput.Close();
        var output = await openssl.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30)) + await openssl.StandardError.ReadToEndAsync();
        await openssl.WaitForExitAsync();
        Assert.DoesNotMatch(@"New, TLSv1(\.1)?, Cipher is", output);
        Assert.Contains("Cipher is (NONE)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fullchain_ssl_crt_sends_its_intermediate_too()
    {
        using var pki = new TestPki();
        await using var daemon = await Daemon.StartAsync(configure: dir =>
        {
            pki.Write(dir, [pki.Intermediate], []);
            EnableTls(dir, withChain: false);
        });
        using var http = pki.RootOnlyClient();
        using var resp = await http.GetAsync(new Uri($"https://127.0.0.1:{daemon.CherrypyPort}/"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    [InlineData("garbage")]
    public async Task A_bad_ssl_chain_is_a_config_error_naming_the_key(string kind)
    {
        using var pki = new TestPki();
        await using var daemon = await Daemon.StartAsync(
            configure: dir =>
            {
                pki.Write(dir, [], []);
                EnableTls(dir, withChain: true);
                var chain = Path.Combine(dir, "chain.pem");
                switch (kind)
                {
                    case "missing":
                        File.Delete(chain);
                        break;
                    case "empty":
                        File.WriteAllText(chain, "no certificate here\n");
                        break;
                    default:
                        File.WriteAllText(chain, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
                        break;
                }
            },
            waitForPorts: []);
        await daemon.WaitForPortAsync(daemon.WsgiPort, TimeSpan.FromSeconds(60));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!daemon.Output.Contains("ssl_chain", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var line = Assert.Single(daemon.Output.Split('\n'), l => l.Contains("ssl_chain", StringComparison.Ordinal));
        Assert.Contains("ERROR", line, StringComparison.Ordinal);
        Assert.Contains("chain.pem", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", daemon.Output, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var probe = new TcpClient();
            await probe.ConnectAsync(IPAddress.Loopback, daemon.CherrypyPort);
        });
    }

    [GeneratedRegex("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")]
    private static partial Regex Pem();
}
