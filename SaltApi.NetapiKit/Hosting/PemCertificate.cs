using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>A server certificate with its private key, and the intermediates to send after it.</summary>
/// <param name="Certificate">The server's certificate, its key usable by SslStream.</param>
/// <param name="Chain">The certificates sent after it; null when there are none.</param>
public sealed record PemCertificate(X509Certificate2 Certificate, X509Certificate2Collection? Chain)
{
    /// <summary>
    /// The certificate of <paramref name="crt"/> with the key of <paramref name="key"/> (null: the key is in
    /// <paramref name="crt"/>), and the chain to send with it: the certificates after the first in
    /// <paramref name="crt"/> (a <c>fullchain.pem</c>, which Python's <c>load_cert_chain</c> sends too), then those
    /// of <paramref name="chain"/> (CherryPy's <c>server.ssl_certificate_chain</c>). A file that cannot be read is a
    /// <see cref="NetapiConfigException"/> naming its key (<c>ssl_crt</c>, <c>ssl_chain</c>).
    /// </summary>
    public static PemCertificate Load(string crt, string? key, string? chain = null)
    {
        ArgumentNullException.ThrowIfNull(crt);
        key = string.IsNullOrEmpty(key) ? null : key;
        X509Certificate2 certificate;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(crt, key);
            // Export/re-import so the private key is usable by SslStream on every platform.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NetapiConfigException("ssl_crt", $"Could not load the certificate {crt} with the key {key ?? crt}: {e.Message}");
        }

        var sent = new X509Certificate2Collection();
        sent.AddRange(ReadCertificates("ssl_crt", crt).Skip(1).ToArray());
        if (!string.IsNullOrEmpty(chain))
        {
            var given = ReadCertificates("ssl_chain", chain);
            if (given.Count == 0)
            {
                throw new NetapiConfigException("ssl_chain", $"ssl_chain: no PEM certificate in {chain}");
            }

            sent.AddRange(given);
        }

        return new PemCertificate(certificate, sent.Count > 0 ? sent : null);
    }

    private static X509Certificate2Collection ReadCertificates(string key, string path)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NetapiConfigException(key, $"{key}: cannot read certificates from {path}: {e.Message}");
        }
    }
}
