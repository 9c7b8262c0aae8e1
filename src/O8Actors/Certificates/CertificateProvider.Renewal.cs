using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using O8Actors.Configuration;

namespace O8Actors.Certificates;

// What a running listener asks of the provider: whether the files changed, their pair as it is now, and a remade one
// before the served certificate expires. The listener start is in CertificateProvider.cs.
internal sealed partial class CertificateProvider
{
    /// <summary>What <see cref="Fingerprint"/> gives when either file is missing.</summary>
    internal const string NoFiles = "missing";

    /// <summary>
    /// A digest of both files' bytes (<see cref="NoFiles"/> when either is missing): it changes when either is replaced,
    /// also within one second or with its old modification time kept (cp -p, a restored backup), where a timestamp would not.
    /// The digest leaves the key's bytes unrecoverable and is never logged.
    /// </summary>
    internal static string Fingerprint(CertificateOptions options, string host)
    {
        var files = Files.Of(options, host);
        if (!files.BothExist) return NoFiles;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(File.ReadAllBytes(files.CertPath));
            var key = File.ReadAllBytes(files.KeyPath);
            hash.AppendData(key);
            // The key's bytes go as soon as they are hashed, not whenever the collector reuses the array.
            CryptographicOperations.ZeroMemory(key);
            return Convert.ToHexString(hash.GetHashAndReset());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable now: its own value, so that the pair becoming readable again counts as a change.
            return "unreadable: " + ex.GetType().Name;
        }
    }

    /// <summary>Whether <paramref name="certificate"/> ends within <see cref="ExpiryWarning"/> (or has ended) on this provider's clock.</summary>
    internal bool IsDue(X509Certificate2 certificate) => NotAfter(certificate) - _time.GetUtcNow() < ExpiryWarning;

    /// <summary>Whether <paramref name="certificate"/> has ended on this provider's clock.</summary>
    internal bool HasExpired(X509Certificate2 certificate) => NotAfter(certificate) <= _time.GetUtcNow();

    /// <summary>The pair in the folder as it is now, checked as at listener start but never made or remade; else why it cannot be used.</summary>
    internal (X509Certificate2? Certificate, string? Problem) Reload(CertificateOptions options, string host)
    {
        var files = Files.Of(options, host);
        if (!files.BothExist) return (null, $"'{files.CertPath}' or '{files.KeyPath}' is missing");
        try
        {
            return Inspect(files);
        }
        catch (ListenerStartException ex)
        {
            // The reader's message names formats and lengths, never key bytes.
            return (null, $"it could not be read ({ex.InnerException?.Message ?? ex.Message})");
        }
    }

    /// <summary>
    /// Remakes the pair with mkcert, for <paramref name="served"/> is due: only where a missing pair would be made
    /// (auto-create on, mkcert on PATH, its CA present) and only when that CA issued <paramref name="served"/>, so the
    /// new certificate is the same kind as the old; a certificate from any other CA is its owner's to renew.
    /// </summary>
    /// <returns>The new certificate, or null and why it was not remade.</returns>
    /// <exception cref="OAuthFlowException">mkcert failed, or what it made cannot be used (the message says why, with the commands).</exception>
    internal async Task<(X509Certificate2? Certificate, string? WhyNot)> RenewAsync(CertificateOptions options, string host,
        X509Certificate2 served, ILogger? logger, CancellationToken ct)
    {
        var files = Files.Of(options, host);
        var (mkcert, caRoot, whyNot) = await CreatorAsync(options, files, ct).ConfigureAwait(false);
        if (mkcert is null) return (null, whyNot);
        if (!IssuedBy(served, Path.Combine(caRoot!, "rootCA.pem")))
            return (null, $"mkcert's CA ('{caRoot}') did not issue it, so renewing it is up to whoever made it");
        // Another process sharing the folder may have renewed it first: a pair that is not due is taken as it is.
        var renewed = await CreateAsync(mkcert, files, logger, c => !IsDue(c), ct).ConfigureAwait(false);
        return (renewed, null);
    }

    /// <summary>Whether the CA certificate in <paramref name="caPath"/> signed <paramref name="leaf"/> (whatever their dates).</summary>
    private static bool IssuedBy(X509Certificate2 leaf, string caPath)
    {
        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }

        using (ca)
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            // A certificate past its end is still this CA's: renewing it is the point.
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
            var issued = chain.Build(leaf);
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
            return issued;
        }
    }

    /// <summary>The certificate file's full path, for messages.</summary>
    internal static string CertificatePath(CertificateOptions options) => Files.Of(options, "localhost").CertPath;

    /// <summary>The mkcert command that makes the pair, for messages.</summary>
    internal static string CreateCommand(CertificateOptions options)
    {
        var files = Files.Of(options, "localhost");
        return MkcertInstructions.CreateCommand(files.CertPath, files.KeyPath);
    }

    /// <summary>A certificate's end as a UTC instant, the way every message writes it.</summary>
    internal static string Ends(X509Certificate2 certificate) => Format(NotAfter(certificate));

    private static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime());
}
