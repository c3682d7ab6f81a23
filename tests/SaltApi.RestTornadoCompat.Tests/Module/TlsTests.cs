using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>TLS as rest_tornado's start() sets it up: ssl_crt, and ssl_key optional when the key is in the certificate file.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-tornado-tls-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (string Crt, string Key) WriteSelfSigned(string cn = "127.0.0.1")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var crt = Path.Combine(dir, "server.crt");
        var keyFile = Path.Combine(dir, "server.key");
        // Each file replaced whole (written aside, then renamed over), as certbot and configuration tools do.
        File.WriteAllText(keyFile + ".new", key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(crt + ".new", cert.ExportCertificatePem());
        File.Move(keyFile + ".new", keyFile, overwrite: true);
        File.Move(crt + ".new", crt, overwrite: true);
        return (crt, keyFile);
    }

    // The subject of the certificate a new connection is served, as openssl s_client prints it.
    private static async Task<string> ServedSubjectAsync(int port)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "127.0.0.1"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(bound.Token);
        var subject = (await output).Split('\n').FirstOrDefault(l => l.StartsWith("subject=", StringComparison.Ordinal));
        return subject ?? "";
    }

    [Fact]
    public async Task A_renewed_certificate_is_served_to_new_connections_without_a_restart_and_open_ones_keep_working()
    {
        var (crt, key) = WriteSelfSigned("first.test");
        await using var host = await TornadoHost.StartAsync(("disable_ssl", false), ("ssl_crt", crt), ("ssl_key", key));
        Assert.Contains("CN = first.test", await ServedSubjectAsync(host.Port), StringComparison.Ordinal);

        // A connection opened before the renewal, its handshake done with the first certificate.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, host.Port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        Assert.Contains("CN=first.test", tls.RemoteCertificate!.Subject, StringComparison.Ordinal);

        WriteSelfSigned("second.test");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var served = "";
        while (sw.Elapsed < TimeSpan.FromSeconds(30) && !served.Contains("CN = second.test", StringComparison.Ordinal))
        {
            served = await ServedSubjectAsync(host.Port);
        }

        Assert.Contains("CN = second.test", served, StringComparison.Ordinal);
        Assert.False(host.Run.IsCompleted);

        // The connection opened before is still served.
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray());
        var answer = await new StreamReader(tls).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
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
