using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Hosting;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// Akka.Remote over TLS between the demo's nodes: codes (in routed callbacks) and tokens (in outcomes) cross it. The
/// demo makes a throwaway CA and one node certificate for 127.0.0.1 (server and client authentication) at each start,
/// in memory only; the nodes authenticate each other (mutual TLS) and accept a peer only when its chain ends in that CA.
/// A deployment issues node certificates from its own CA and loads them from files or a store.
/// </summary>
internal sealed class RemotingTls : IDisposable
{
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _node;

    private RemotingTls(X509Certificate2 root, X509Certificate2 node)
    {
        _root = root;
        _node = node;
    }

    /// <summary>The CA's subject, for the start-up summary.</summary>
    public string Authority => _root.Subject;

    /// <summary>Makes the CA and the node certificate.</summary>
    public static RemotingTls Create()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=WebConnect demo remoting CA (this run only)", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));

        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nodeRequest = new CertificateRequest("CN=web-connect-node", nodeKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        nodeRequest.CertificateExtensions.Add(names.Build());
        nodeRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        nodeRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication: each node is both
        using var issued = nodeRequest.Create(root, now.AddMinutes(-5), now.AddDays(7), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(nodeKey);
        // Through PKCS#12, so the TLS stack holds the private key as it would one loaded from a file.
        return new RemotingTls(root, X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }

    /// <summary>Remoting options of a node on 127.0.0.1:<paramref name="port"/> over TLS with this CA.</summary>
    public RemoteOptions Options(int port) => new()
    {
        HostName = "127.0.0.1",
        Port = port,
        EnableSsl = true,
        Ssl = new SslOptions
        {
            X509Certificate = _node,
            RequireMutualAuthentication = true,
            CustomValidator = (peer, _, _, _, _) => TrustedByRoot(peer),
        },
    };

    /// <summary>A peer is accepted only when its chain ends in this run's CA (not the system's trust store; offline, so no revocation check).</summary>
    private bool TrustedByRoot(X509Certificate2? peer)
    {
        if (peer is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _root.Dispose();
        _node.Dispose();
    }
}
