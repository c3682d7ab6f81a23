using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>TLS as rest_tornado's start() sets it up: ssl_crt, and ssl_key optional when the key is in the certificate file.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-tornado-tls-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (string Crt, string Key) WriteSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var crt = Path.Combine(dir, "server.crt");
        var keyFile = Path.Combine(dir, "server.key");
        File.WriteAllText(crt, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (crt, keyFile);
    }

    private static async Task<HttpStatusCode> GetRootAsync(int port)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        using var resp = await http.GetAsync(new Uri($"https://127.0.0.1:{port}/"));
        return resp.StatusCode;
    }

    [Fact]
    public async Task Https_with_ssl_crt_and_ssl_key()
    {
        var (crt, key) = WriteSelfSigned();
        await using var host = await TornadoHost.StartAsync(("disable_ssl", false), ("ssl_crt", crt), ("ssl_key", key));
        Assert.Equal(HttpStatusCode.OK, await GetRootAsync(host.Port));
    }

    [Fact]
    public async Task A_certificate_that_does_not_load_is_logged_and_nothing_listens()
    {
        var crt = Path.Combine(dir, "broken.crt");
        File.WriteAllText(crt, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        var port = SaltApi.Testing.FreePort.Next();
        var client = new ScriptedClient();
        var logger = new ListLogger();
        using var stop = new CancellationTokenSource();
        var section = new Dictionary<string, object?> { ["port"] = (long)port, ["address"] = "127.0.0.1", ["ssl_crt"] = crt };
        var run = new SaltApi.Plugins.RestTornadoCompat.RestTornadoModule().RunAsync(new SaltApi.Abstractions.Modules.NetapiModuleContext(section, new Dictionary<string, object?>(), client, client.Bus, logger, stop.Token));
        await ListLogger.WaitForAsync(logger, "Could not load the certificate", run);
        Assert.False(run.IsFaulted, run.Exception?.ToString());
        Assert.Contains(logger.Lines, l => l.Contains($"Not starting 'rest_tornado'. Could not load the certificate {crt}", StringComparison.Ordinal));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Https_with_the_key_in_the_certificate_file()
    {
        var (crt, key) = WriteSelfSigned();
        File.AppendAllText(crt, "\n" + File.ReadAllText(key));
        await using var host = await TornadoHost.StartAsync(("disable_ssl", false), ("ssl_crt", crt));
        Assert.Equal(HttpStatusCode.OK, await GetRootAsync(host.Port));
    }
}
