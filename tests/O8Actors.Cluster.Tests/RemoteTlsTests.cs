using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Certificates;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Configuration;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Codes and tokens cross the network between nodes (the routed callback carries the code, the outcome the tokens), so
/// the nodes talk over Akka.Remote with TLS: a test CA, one node certificate (server and client authentication), mutual
/// authentication, and each side validating the other's chain against that CA only. The cluster forms through bootstrap
/// contact points served over HTTPS too (mkcert's certificate: Akka.Management's prober checks it against the machine's
/// trust store). A login begun on one node and called back on the other signs in over it.
/// </summary>
public sealed class RemoteTlsTests
{
    private sealed record TestPki(X509Certificate2 Root, X509Certificate2 Node) : IDisposable
    {
        public void Dispose()
        {
            Root.Dispose();
            Node.Dispose();
        }
    }

    /// <summary>A CA of this test and a node certificate it issued for 127.0.0.1, usable as TLS server and client.</summary>
    private static TestPki CreatePki()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=O8 cluster test remoting CA", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nodeRequest = new CertificateRequest("CN=o8-cluster-node", nodeKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        nodeRequest.CertificateExtensions.Add(san.Build());
        nodeRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        nodeRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        using var issued = nodeRequest.Create(root, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(nodeKey);
        // Through PKCS#12, so the TLS stack holds the private key as it would one loaded from a file.
        var node = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return new TestPki(root, node);
    }

    /// <summary>Accepts a peer only when its chain ends in <paramref name="root"/> (no system trust, no revocation check offline).</summary>
    private static bool TrustedBy(X509Certificate2 root, X509Certificate2? peer)
    {
        if (peer is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    [Fact]
    public async Task Two_nodes_over_mutually_authenticated_TLS_route_a_login_begun_on_one_and_called_back_on_the_other()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pki = CreatePki();
        var contactFolder = Directory.CreateTempSubdirectory("o8-contact-point-tls-");
        using var contactCertificate = await CertificateProvider.LoadOrCreateAsync(new CertificateOptions { Folder = contactFolder.FullName }, ct);
        var https = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        var remoting = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        var validated = 0;
        await using var nodes = await ClusterNodes.StartAsync(new Uri($"https://127.0.0.1:{https[0]}/oauth/callback"));
        var contacts = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        var apps = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => nodes.StartNodeAsync("o8-tls", https[i], akka => akka
            .WithRemoting(new RemoteOptions
            {
                HostName = "127.0.0.1",
                Port = remoting[i],
                EnableSsl = true,
                Ssl = new SslOptions
                {
                    X509Certificate = pki.Node,
                    RequireMutualAuthentication = true,
                    CustomValidator = (peer, _, _, _, _) =>
                    {
                        Interlocked.Increment(ref validated);
                        return TrustedBy(pki.Root, peer);
                    },
                },
            })
            .WithBootstrapOnLoopback(contacts, contacts[i], requiredContactPoints: 2, contactPoint: o => o.Certificate = contactCertificate))));
        try
        {
            await Eventually.TrueAsync(() => apps.All(a =>
                    Akka.Cluster.Cluster.Get(a.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 2),
                "both nodes see a cluster of two over TLS", TimeSpan.FromSeconds(60));
            Assert.True(Volatile.Read(ref validated) > 0, "the peers' certificates were validated");
            Assert.True(apps[0].Services.GetRequiredService<ActorSystem>().Settings.Config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));

            using var browser = nodes.Browser();
            using var connect = await browser.PostAsync(new Uri($"https://127.0.0.1:{https[0]}/connect/sandbox?user=alice"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            var login = nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
            using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
            // The provider redirects to node 0's callback; the browser lands on node 1 instead (a load balancer's choice).
            var onOtherNode = new UriBuilder(authorize.Headers.Location!) { Port = https[1] }.Uri;
            using var landing = await browser.GetAsync(onOtherNode, ct);

            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            Assert.Equal($"o8-tls:{https[1]}", landing.Headers.GetValues(ClusterNodes.NodeHeader).Single());
            var success = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Equal("alice", ClusterNodes.Subject(success.Tokens.IdToken!));
        }
        finally
        {
            await ClusterShutdown.StopAllAsync(apps);
            contactFolder.Delete(recursive: true);
        }
    }
}
