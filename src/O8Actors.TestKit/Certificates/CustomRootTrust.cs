using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.TestKit.Certificates;

/// <summary>
/// Certificate validation against one explicitly given root, for clients that opt in to trusting a
/// <see cref="DevelopmentCertificateAuthority"/> (or any private test CA) without touching the system store.
/// </summary>
public static class CustomRootTrust
{
    /// <summary>
    /// A validation callback accepting a server certificate only when it chains to <paramref name="root"/> and the
    /// host name matched. Revocation is not checked: a throwaway CA publishes no revocation lists.
    /// </summary>
    /// <param name="root">The only trusted root.</param>
    public static RemoteCertificateValidationCallback CreateCallback(X509Certificate2 root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return (_, certificate, chain, errors) => IsTrusted(root, certificate, chain, errors);
    }

    /// <summary>
    /// A validation callback as a browser with <paramref name="root"/> installed beside the system's roots: the platform's
    /// verdict first (a certificate it trusts needs no second chain), else a certificate that chains to
    /// <paramref name="root"/> with its host name matched, as <see cref="CreateCallback"/>.
    /// </summary>
    /// <param name="root">The root trusted on top of the system's.</param>
    public static RemoteCertificateValidationCallback CreateBrowserCallback(X509Certificate2 root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return (_, certificate, chain, errors) => errors == SslPolicyErrors.None || IsTrusted(root, certificate, chain, errors);
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="root"/> with no name or availability error.</summary>
    /// <param name="root">The only trusted root.</param>
    /// <param name="certificate">The server's certificate.</param>
    /// <param name="presentedChain">The chain the platform built, whose extra elements serve as intermediates.</param>
    /// <param name="errors">The platform's verdict; name mismatches and missing certificates are never forgiven.</param>
    public static bool IsTrusted(X509Certificate2 root, X509Certificate? certificate, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (certificate is null
            || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)
            || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (!chain.Build(leaf))
        {
            return false;
        }

        // CustomRootTrust already pins the anchor; checking the thumbprint keeps that explicit.
        var anchor = chain.ChainElements[^1].Certificate;
        return anchor.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span);
    }
}
