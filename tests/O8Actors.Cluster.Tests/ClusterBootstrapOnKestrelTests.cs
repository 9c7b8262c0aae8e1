using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Discovery.Config.Hosting;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Newtonsoft.Json;
using O8Actors.Certificates;
using O8Actors.Cluster.Bootstrap;
using O8Actors.Configuration;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The bootstrap contact point served on Kestrel: what it answers Akka.Management's prober, what else it refuses, and
/// that it goes with the actor system. (Three nodes forming through it, and a fourth joining, are the fixtures of the
/// other cluster tests.)
/// </summary>
public sealed class ClusterBootstrapOnKestrelTests
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_forms_a_cluster_through_its_contact_point_and_reports_itself_as_a_seed_in_Akka_Managements_format()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, contact) = await StartedNodeAsync(ct);
        using var _ = host;
        var cluster = Akka.Cluster.Cluster.Get(host.Services.GetRequiredService<ActorSystem>());
        await Eventually.TrueAsync(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, "the node forms a cluster of one", Formation);

        using var http = new HttpClient();
        using var response = await http.GetAsync($"http://127.0.0.1:{contact}{ClusterBootstrapEndpoint.SeedNodesPath}", ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        // Read as Akka.Management's prober reads it.
        var seeds = JsonConvert.DeserializeObject<HttpBootstrapJsonProtocol.SeedNodes>(await response.Content.ReadAsStringAsync(ct))!;
        Assert.Equal(cluster.SelfAddress, seeds.SelfNode);
        var member = Assert.Single(seeds.Nodes);
        Assert.Equal(cluster.SelfAddress, member.Node);
        Assert.Equal(Akka.Cluster.MemberStatus.Up, member.Status);
        Assert.Equal(cluster.SelfUniqueAddress.Uid, member.NodeUid);

        await host.StopAsync(ct);
    }

    [Fact]
    public async Task The_contact_point_serves_nothing_else_and_only_GET_and_stops_with_the_actor_system()
    {
        var (host, contact) = await StartedNodeAsync(TestContext.Current.CancellationToken);
        using var _ = host;
        var ct = TestContext.Current.CancellationToken;
        var root = $"http://127.0.0.1:{contact}";
        using var http = new HttpClient();

        using (var other = await http.GetAsync(root + "/cluster/members", ct)) Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var post = await http.PostAsync(root + ClusterBootstrapEndpoint.SeedNodesPath, new StringContent("{}"), ct))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal("GET", post.Content.Headers.Allow.Single());
        }

        // Terminated abruptly (no coordinated shutdown of the host): the contact point goes all the same.
        await host.Services.GetRequiredService<ActorSystem>().Terminate();
        await Eventually.TrueAsync(() => !Accepts(contact), "the contact point stops listening once the actor system has terminated", Formation);
    }

    [Fact]
    public async Task A_node_listed_by_a_host_name_recognises_itself_by_its_advertised_host_and_forms_the_cluster()
    {
        // Discovery lists the node as localhost; it listens on 127.0.0.1. Bootstrap forms a new cluster only on the node
        // that finds itself among the discovered contact points, by host and port: without AdvertisedHost it would look
        // for 127.0.0.1 and wait for another node to form it, forever.
        var ct = TestContext.Current.CancellationToken;
        var contact = ClusterNodes.FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("o8-advertised", akka => akka
            .WithRemoting("127.0.0.1", ClusterNodes.FreePort())
            .WithClustering(new ClusterOptions())
            .WithConfigDiscovery(d => d.Services.Add(new Service { Name = "advertised", Endpoints = [$"localhost:{contact}"] }))
            .WithClusterBootstrap(b =>
            {
                b.ContactPointDiscovery.ServiceName = "advertised";
                b.ContactPointDiscovery.RequiredContactPointsNr = 1;
                b.ContactPointDiscovery.StableMargin = TimeSpan.FromSeconds(1);
            }, autoStart: false)
            .WithClusterBootstrapOnKestrel(o =>
            {
                o.Listen = new IPEndPoint(IPAddress.Loopback, contact);
                o.AdvertisedHost = "localhost";
            }));
        using var host = builder.Build();
        await host.StartAsync(ct);
        var cluster = Akka.Cluster.Cluster.Get(host.Services.GetRequiredService<ActorSystem>());
        await Eventually.TrueAsync(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, "the node forms a cluster of one", Formation);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task Over_TLS_the_bootstrap_probes_the_contact_point_with_https_and_plain_http_gets_no_answer()
    {
        // mkcert's certificate: its root is in the machine's trust store, which Akka.Management's prober checks against.
        var ct = TestContext.Current.CancellationToken;
        var folder = Directory.CreateTempSubdirectory("o8-contact-point-tls-");
        try
        {
            using var certificate = await CertificateProvider.LoadOrCreateAsync(new CertificateOptions { Folder = folder.FullName }, ct);
            var contact = ClusterNodes.FreePort();
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddAkka("o8-bootstrap-tls", akka => akka
                .WithRemoting("127.0.0.1", ClusterNodes.FreePort())
                .WithBootstrapOnLoopback([contact], contact, requiredContactPoints: 1, contactPoint: o => o.Certificate = certificate));
            using var host = builder.Build();
            await host.StartAsync(ct);

            // A new cluster forms only once the node's probe of the contact points (its own, here) has been answered.
            var cluster = Akka.Cluster.Cluster.Get(host.Services.GetRequiredService<ActorSystem>());
            await Eventually.TrueAsync(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, "the node forms a cluster of one over https", Formation);

            using var http = new HttpClient();
            using (var seeds = await http.GetAsync($"https://127.0.0.1:{contact}{ClusterBootstrapEndpoint.SeedNodesPath}", ct))
                Assert.Equal(HttpStatusCode.OK, seeds.StatusCode);
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{contact}{ClusterBootstrapEndpoint.SeedNodesPath}", ct));

            await host.StopAsync(ct);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_refused_when_configured()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var publicOnly = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(withKey.RawData);

        var error = Assert.Throws<ArgumentException>(() => AkkaConfigurationBuilderFor().WithClusterBootstrapOnKestrel(o =>
        {
            o.Listen = new IPEndPoint(IPAddress.Loopback, ClusterNodes.FreePort());
            o.Certificate = publicOnly;
        }));
        Assert.Contains("private key", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Bootstrap probes a discovered host without a port on Akka.Management's HTTP port, and by default keeps only the
    /// contact points discovered on it: that port must be the contact point's. Added as a fallback after
    /// WithClusterBootstrap (the README's order), it lost to Akka.Management's own 8558, added before it.
    /// </summary>
    [Fact]
    public async Task After_WithClusterBootstrap_Akka_Managements_port_is_the_contact_points()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, contact) = await StartedNodeAsync(ct);
        using var _ = host;

        Assert.Equal(contact, host.Services.GetRequiredService<ActorSystem>().Settings.Config.GetInt("akka.management.http.port"));
        await host.StopAsync(ct);
    }

    [Fact]
    public void A_management_port_the_app_set_before_is_left_alone()
    {
        var builder = AkkaConfigurationBuilderFor()
            .AddHocon("akka.management.http.port = 9100", HoconAddMode.Append)
            .WithClusterBootstrap(_ => { }, autoStart: false)
            .WithClusterBootstrapOnKestrel(o => o.Listen = new IPEndPoint(IPAddress.Loopback, 9000));

        Assert.Equal(9100, builder.Configuration.Value.GetInt("akka.management.http.port"));
    }

    [Fact]
    public void Without_an_address_and_port_to_listen_on_it_says_so_when_configured()
    {
        var error = Assert.Throws<ArgumentException>(() => AkkaConfigurationBuilderFor().WithClusterBootstrapOnKestrel(_ => { }));
        Assert.Contains("Listen", error.Message, StringComparison.Ordinal);
        var anyPort = Assert.Throws<ArgumentException>(() => AkkaConfigurationBuilderFor()
            .WithClusterBootstrapOnKestrel(o => o.Listen = new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.Contains("not 0", anyPort.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_set_to_start_by_itself_is_refused_with_the_setting_to_change()
    {
        var ct = TestContext.Current.CancellationToken;
        var contact = ClusterNodes.FreePort();
        using var host = Node(contact, autoStart: true);
        var error = await Record.ExceptionAsync(() => host.StartAsync(ct));
        var refused = FindInChain<InvalidOperationException>(error);
        Assert.NotNull(refused);
        Assert.Contains("autoStart: false", refused.Message, StringComparison.Ordinal);
        Assert.False(Accepts(contact));
    }

    private static async Task<(IHost Host, int ContactPort)> StartedNodeAsync(CancellationToken ct)
    {
        var contact = ClusterNodes.FreePort();
        var host = Node(contact);
        await host.StartAsync(ct);
        return (host, contact);
    }

    private static IHost Node(int contact, bool autoStart = false)
    {
        var builder = Host.CreateApplicationBuilder();
        var remoting = ClusterNodes.FreePort();
        builder.Services.AddAkka("o8-bootstrap-" + Guid.NewGuid().ToString("N")[..8], akka => akka
            .WithRemoting("127.0.0.1", remoting)
            .WithBootstrapOnLoopback([contact], contact, requiredContactPoints: 1, autoStart: autoStart));
        return builder.Build();
    }

    private static AkkaConfigurationBuilder AkkaConfigurationBuilderFor() => new(new ServiceCollection(), "o8-unused");

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static T? FindInChain<T>(Exception? error) where T : Exception
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is T found) return found;
            if (error is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions)
                    if (FindInChain<T>(inner) is { } nested) return nested;
        }

        return null;
    }
}
