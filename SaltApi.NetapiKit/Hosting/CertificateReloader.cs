using System.Net.Security;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>
/// The certificate a module serves, renewed without a restart: the files (<c>ssl_crt</c>, <c>ssl_key</c>,
/// <c>ssl_chain</c>, symbolic links followed, as certbot's <c>live/</c> folder has them) are looked at every
/// <see cref="Period"/>, and read again when one changed or when the daemon is asked to reload (SIGHUP). New
/// connections get the newest certificate; open ones keep theirs. A renewal that does not load (a key written
/// after its certificate, a broken file) is a warning, and the certificate in use stays.
/// </summary>
internal sealed class CertificateReloader : IDisposable
{
    /// <summary>How often the files are looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly string module;
    private readonly TlsFiles files;
    private readonly ReloadSignal signal;
    private readonly ILogger log;
    private readonly Timer timer;
    private readonly Lock gate = new();
    private volatile SslStreamCertificateContext current;
    private string stamp;

    public CertificateReloader(string module, TlsFiles files, PemCertificate first, ReloadSignal signal, ILogger log)
    {
        this.module = module;
        this.files = files;
        this.signal = signal;
        this.log = log;
        current = Context(first);
        stamp = Stamp();
        signal.Requested += OnReload;
        timer = new Timer(_ => Check(force: false), null, Period, Period);
    }

    /// <summary>The certificate for a new connection.</summary>
    public SslStreamCertificateContext Current => current;

    public void Dispose()
    {
        signal.Requested -= OnReload;
        timer.Dispose();
    }

    private static SslStreamCertificateContext Context(PemCertificate pem) =>
        // The chain as given, built once and offline: no download of a missing issuer.
        SslStreamCertificateContext.Create(pem.Certificate, pem.Chain, offline: true);

    private void OnReload() => ThreadPool.QueueUserWorkItem(_ => Check(force: true));

    private void Check(bool force)
    {
        lock (gate)
        {
            var now = Stamp();
            if (!force && now == stamp)
            {
                return;
            }

            stamp = now;
            try
            {
                var pem = PemCertificate.Load(files.Crt!, files.Key, files.Chain);
                current = Context(pem);
                log.LogInformation("{Module}: serving the certificate {Path} ({Subject}, valid until {NotAfter:u}) to new connections", module, files.Crt, pem.Certificate.Subject, pem.Certificate.NotAfter.ToUniversalTime());
            }
            catch (NetapiConfigException e)
            {
                log.LogWarning("{Module}: the certificate in use stays: {Message}", module, e.Problems[0].Message);
            }
        }
    }

    // Each file's target, time and size: a change of any means a renewal to read.
    private string Stamp() => string.Join('|', new[] { files.Crt, files.Key, files.Chain }.Where(f => !string.IsNullOrEmpty(f)).Select(f =>
    {
        try
        {
            var target = File.ResolveLinkTarget(f!, returnFinalTarget: true)?.FullName ?? f!;
            var info = new FileInfo(target);
            return info.Exists ? $"{target}:{info.LastWriteTimeUtc.Ticks}:{info.Length}" : "-";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }));
}
