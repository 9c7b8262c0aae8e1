using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace O8Actors.Callback;

/// <summary>
/// The certificate the listener's TLS handshakes present, replaceable while Kestrel runs: each new handshake takes the
/// current one, and a connection already open keeps the one it began with.
/// </summary>
/// <remarks>
/// A per-connection callback handing out a context made once per certificate, not Kestrel's certificate selector: with a
/// selector, SslStream builds the certificate's chain again on every handshake, and every callback is a new connection.
/// </remarks>
internal sealed class ServedCertificate : IDisposable
{
    // Server authentication (RFC 5280 id-kp-serverAuth); Kestrel refuses a certificate whose usages leave it out.
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private volatile Prepared _current;
    // Only the owner (the listener actor) touches these, never a handshake.
    private Prepared? _retired;
    private bool _disposed;

    /// <summary>Serves <paramref name="first"/>.</summary>
    public ServedCertificate(Prepared first) => _current = first;

    /// <summary>The certificate new handshakes present.</summary>
    public X509Certificate2 Certificate => _current.Certificate;

    /// <summary>
    /// A certificate ready to serve. Made off the actor thread: building the context may read the system's stores.
    /// </summary>
    /// <param name="Certificate">The certificate, with its private key.</param>
    /// <param name="Context">Its handshake context, made once.</param>
    /// <param name="Owned">Whether disposing it is ours (false for one given in code).</param>
    public sealed record Prepared(X509Certificate2 Certificate, SslStreamCertificateContext Context, bool Owned)
    {
        /// <inheritdoc />
        public override string ToString() => $"Prepared {{ Thumbprint = {Certificate.Thumbprint} }}";
    }

    /// <summary>Makes <paramref name="certificate"/>'s handshake context.</summary>
    /// <exception cref="InvalidOperationException">Its extended key usages leave out server authentication.</exception>
    public static Prepared Prepare(X509Certificate2 certificate, bool owned)
    {
        if (!AllowsServerAuthentication(certificate))
            throw new InvalidOperationException(
                $"The certificate {certificate.Thumbprint} cannot serve TLS: its extended key usages leave out server authentication.");
        return new Prepared(certificate, SslStreamCertificateContext.Create(certificate, additionalCertificates: null), owned);
    }

    /// <summary>Has <paramref name="endpoint"/> serve HTTPS with whichever certificate is current at each handshake.</summary>
    public void Serve(ListenOptions endpoint) =>
        endpoint.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = OnConnection, OnConnectionState = this });

    /// <summary>
    /// Serves <paramref name="next"/> from the next handshake on. The one it replaces is disposed only at the replacement
    /// after this, or with this object: a handshake that took it just before may still be using it.
    /// </summary>
    public void Replace(Prepared next)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var older = _retired;
        _retired = _current;
        _current = next;
        Release(older);
    }

    /// <summary>Disposes the certificates this holds that are its own; call once the listener has stopped.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Release(_retired);
        Release(_current);
    }

    private static ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context) =>
        // New options each time: Kestrel adds its ALPN list (h2, http/1.1) to the instance it is given.
        ValueTask.FromResult(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = ((ServedCertificate)context.State!)._current.Context,
        });

    private static bool AllowsServerAuthentication(X509Certificate2 certificate)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        // No extension at all allows every usage.
        return usages.Count == 0 || usages.Any(u => u.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()
            .Any(oid => oid.Value == ServerAuthentication));
    }

    private static void Release(Prepared? prepared)
    {
        if (prepared is { Owned: true }) prepared.Certificate.Dispose();
    }
}
