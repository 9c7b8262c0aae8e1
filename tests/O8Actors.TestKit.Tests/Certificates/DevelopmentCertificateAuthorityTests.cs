using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Certificates;

public sealed class DevelopmentCertificateAuthorityTests
{
    [Fact]
    public void Server_certificate_names_loopback_and_is_for_server_auth()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var certificate = ca.IssueServerCertificate();

        Assert.True(certificate.HasPrivateKey);
        Assert.NotNull(certificate.GetECDsaPrivateKey());
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses().ToArray());
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Contains(eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.Equal(ca.RootCertificate.Subject, certificate.Issuer);
        Assert.False(ca.RootCertificate.HasPrivateKey);
    }

    [Fact]
    public async Task Opt_in_handler_trusts_the_ca_and_a_default_client_does_not()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var certificate = ca.IssueServerCertificate();
        await using var listener = await CallbackListener.StartAsync(certificate);

        using var trusting = ca.CreateHttpClient();
        using var response = await trusting.GetAsync(listener.Url("/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var plain = new HttpClient();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(listener.Url("/hello")));
        Assert.IsType<AuthenticationException>(refused.InnerException);
        Assert.Single(listener.Hits);
    }

    [Fact]
    public async Task Another_development_ca_is_not_trusted()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var stranger = DevelopmentCertificateAuthority.Create();
        using var certificate = stranger.IssueServerCertificate();
        await using var listener = await CallbackListener.StartAsync(certificate);
        using var trusting = ca.CreateHttpClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => trusting.GetAsync(listener.Url("/hello")));
        Assert.Empty(listener.Hits);
    }

    [Fact]
    public async Task Host_name_must_still_match()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var certificate = ca.IssueServerCertificate();
        await using var listener = await CallbackListener.StartAsync(certificate);
        var port = listener.Url("/").Port;

        HttpClient ClientReachingLoopback()
        {
            // Every host name goes to the loopback listener, so only the certificate's names decide.
            var handler = ca.CreateHttpHandler();
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            };
            return new HttpClient(handler);
        }

        using var good = ClientReachingLoopback();
        using var bad = ClientReachingLoopback();
        using var ok = await good.GetAsync(new Uri($"https://localhost:{port}/hello"));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => bad.GetAsync(new Uri($"https://not-in-the-certificate.test:{port}/hello")));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.IsType<AuthenticationException>(refused.InnerException);
    }
}
