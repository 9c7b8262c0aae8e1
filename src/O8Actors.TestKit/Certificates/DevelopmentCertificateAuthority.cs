using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.TestKit.Certificates;

/// <summary>
/// A throwaway, in-memory certificate authority for tests and demos on machines without <c>mkcert</c>:
/// an ECDSA P-256 root that issues <c>localhost</c> / <c>127.0.0.1</c> / <c>::1</c> server certificates for Kestrel.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is written to disk or to any certificate store, so the root is trusted <b>only</b> by clients that opt in
/// through <see cref="CreateHttpHandler"/>, <see cref="CreateHttpClient"/> or <see cref="CreateValidationCallback"/>.
/// A default <see cref="HttpClient"/> rejects its certificates, and so does every real browser.
/// </para>
/// <para>
/// Real browsers (Chromium, Firefox, Edge) need a CA they trust: run <c>mkcert -install</c> and use mkcert's
/// <c>localhost</c> certificate instead. On Linux, Chromium reads only <c>$HOME/.pki/nssdb</c>; create it, when it is
/// missing, before <c>mkcert -install</c>: <c>mkdir -p "$HOME/.pki/nssdb"</c>, then
/// <c>[ -f "$HOME/.pki/nssdb/cert9.db" ] || certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password</c> (certutil prompts
/// on an existing database).
/// </para>
/// </remarks>
public sealed class DevelopmentCertificateAuthority : IDisposable
{
    // Server authentication (RFC 5280, id-kp-serverAuth).
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    private readonly X509Certificate2 _rootWithKey;
    private readonly TimeProvider _time;

    private DevelopmentCertificateAuthority(X509Certificate2 rootWithKey, TimeProvider time)
    {
        _rootWithKey = rootWithKey;
        _time = time;
        RootCertificate = X509CertificateLoader.LoadCertificate(rootWithKey.Export(X509ContentType.Cert));
    }

    /// <summary>The root certificate, without its private key: hand it to clients that should trust this CA.</summary>
    public X509Certificate2 RootCertificate { get; }

    /// <summary>Creates a new root CA with a fresh ECDSA P-256 key, valid for <paramref name="validity"/> (default 7 days).</summary>
    /// <param name="subjectName">Common name of the root.</param>
    /// <param name="validity">How long the root stays valid.</param>
    /// <param name="timeProvider">Clock for the validity window; the system clock by default.</param>
    public static DevelopmentCertificateAuthority Create(
        string subjectName = "O8Actors Development CA (untrusted, tests only)",
        TimeSpan? validity = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subjectName);
        var time = timeProvider ?? TimeProvider.System;
        var now = time.GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // The builder escapes the name, so commas or quotes in it cannot break the distinguished name.
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(subjectName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Backdated a little so a client clock slightly behind still accepts it.
        var root = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity ?? TimeSpan.FromDays(7)));
        return new DevelopmentCertificateAuthority(root, time);
    }

    /// <summary>
    /// Issues a server certificate (ECDSA P-256, serverAuth EKU) for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>
    /// plus any <paramref name="extraDnsNames"/>. The result carries its private key and went through PKCS#12,
    /// so Kestrel's <c>SslStream</c> can use the key on every platform.
    /// </summary>
    /// <param name="extraDnsNames">More DNS names for the subject alternative name extension.</param>
    /// <param name="validity">How long the certificate stays valid (default 1 day, capped by the root's validity).</param>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string>? extraDnsNames = null, TimeSpan? validity = null)
    {
        var now = _time.GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=localhost"), key, HashAlgorithmName.SHA256);

        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var name in extraDnsNames ?? [])
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_rootWithKey, true, false));

        var notAfter = now.Add(validity ?? TimeSpan.FromDays(1));
        if (notAfter > _rootWithKey.NotAfter.ToUniversalTime())
        {
            notAfter = _rootWithKey.NotAfter.ToUniversalTime();
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var publicOnly = request.Create(_rootWithKey, now.AddMinutes(-5), notAfter, serial);
        using var withKey = publicOnly.CopyWithPrivateKey(key);
        // Round trip through PKCS#12: an ephemeral key is not usable by every SslStream backend.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>A TLS validation callback that trusts this root (and nothing else) and still requires a matching host name.</summary>
    public RemoteCertificateValidationCallback CreateValidationCallback() => CustomRootTrust.CreateCallback(RootCertificate);

    /// <summary>
    /// A new <see cref="SocketsHttpHandler"/> that trusts this root only. Automatic redirects are off, like
    /// every client in this kit, so the caller sees each 302.
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler() => new()
    {
        AllowAutoRedirect = false,
        SslOptions = { RemoteCertificateValidationCallback = CreateValidationCallback() },
    };

    /// <summary>A new <see cref="HttpClient"/> over <see cref="CreateHttpHandler"/>; the client owns the handler.</summary>
    public HttpClient CreateHttpClient() => new(CreateHttpHandler(), disposeHandler: true);

    /// <summary>Disposes the root's private key.</summary>
    public void Dispose()
    {
        _rootWithKey.Dispose();
        RootCertificate.Dispose();
    }
}
