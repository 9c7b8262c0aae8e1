using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace O8Actors.Cluster.Bootstrap;

/// <summary>
/// Cluster formation with Akka.Management's cluster bootstrap and Akka.Discovery, its contact point served by Kestrel.
/// <code>
/// akka.WithRemoting(host, port)
///     .WithClustering(new ClusterOptions())                        // no seed nodes: bootstrap finds them
///     .WithConfigDiscovery(d => d.Services.Add(new Service { Name = "web", Endpoints = ["10.0.0.1:8558", "10.0.0.2:8558", "10.0.0.3:8558"] }))
///     .WithClusterBootstrap(b => b.ContactPointDiscovery.ServiceName = "web", autoStart: false)
///     .WithClusterBootstrapOnKestrel(o => o.Listen = new IPEndPoint(privateAddress, 8558));
/// </code>
/// </summary>
/// <remarks>
/// Akka.Management discovers the contact points, probes them, decides who forms the cluster and joins it; this serves the
/// one HTTP route those probes ask for (<c>GET /bootstrap/seed-nodes</c>, in Akka.Management's format) and starts the
/// bootstrap. Akka.Management's own HTTP server is not started: version 1.5.73 runs on Ceen.Httpd 0.9.9, and where only
/// 0.9.10 is served it fails at start with a <see cref="MissingMethodException"/>. Hence <c>autoStart: false</c> on
/// <c>WithClusterBootstrap</c>: auto-start would start that server, and terminate the actor system when it fails.
/// </remarks>
public static class O8ClusterBootstrapExtensions
{
    private const string ManagementPortPath = "akka.management.http.port";

    // Akka.Management's reference value of akka.management.http.port.
    private const int AkkaManagementsPort = 8558;

    /// <summary>Whether the configuration so far sets Akka.Management's HTTP port to another value than Akka.Management's own.</summary>
    private static bool AppSetManagementPort(AkkaConfigurationBuilder builder) =>
        builder.Configuration.HasValue && builder.Configuration.Value.HasPath(ManagementPortPath)
        && builder.Configuration.Value.GetInt(ManagementPortPath) != AkkaManagementsPort;

    /// <summary>
    /// Serves this node's cluster bootstrap contact point on Kestrel and starts Akka.Management's cluster bootstrap once the
    /// actor system is up. Configure the bootstrap (<c>WithClusterBootstrap(..., autoStart: false)</c>) and a discovery
    /// method (<c>WithConfigDiscovery</c>, or Kubernetes, DNS…) beside it; leave the cluster's seed nodes empty.
    /// </summary>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="configure">Where the contact point listens, and how discovery lists it.</param>
    /// <exception cref="ArgumentException">
    /// <see cref="ClusterBootstrapEndpointOptions.Listen"/> is not set, or has port 0; or the certificate has no private key.
    /// </exception>
    public static AkkaConfigurationBuilder WithClusterBootstrapOnKestrel(this AkkaConfigurationBuilder builder,
        Action<ClusterBootstrapEndpointOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ClusterBootstrapEndpointOptions();
        configure(options);
        var listen = options.Listen
            ?? throw new ArgumentException("Set Listen: the address and port this node's bootstrap contact point listens on.", nameof(configure));
        // Discovery lists each contact point with its port, so the port is known before the node starts: no port 0.
        if (listen.Port == 0)
            throw new ArgumentException("Listen needs a port of its own (not 0): discovery lists every node's contact point with its port.", nameof(configure));
        var advertisedPort = options.AdvertisedPort ?? listen.Port;
        var certificate = options.Certificate;
        if (certificate is { HasPrivateKey: false })
            throw new ArgumentException("The contact point's Certificate needs its private key to serve TLS.", nameof(configure));

        // Akka.Management's contact-point port is its HTTP port: bootstrap probes a discovered host without a port there,
        // and by default keeps only discovered contact points on it. Ours is that port now, ahead of Akka.Management's own
        // 8558, which WithClusterBootstrap (called first, as the README does) has already added as a fallback, and an
        // earlier fallback wins; a port the app's configuration set before this call is left alone.
        if (!AppSetManagementPort(builder)) builder.AddHocon($"{ManagementPortPath} = {advertisedPort}", HoconAddMode.Prepend);

        builder.AddStartup(async (system, registry) =>
        {
            if (AutoStartsBootstrap(system))
                throw new InvalidOperationException(
                    "Cluster bootstrap is set to start by itself (WithClusterBootstrap's autoStart): that starts Akka.Management's own " +
                    "HTTP server, which cannot run here. Pass autoStart: false; WithClusterBootstrapOnKestrel starts the bootstrap.");

            var loggerFactory = Akka.DependencyInjection.DependencyResolver.For(system).Resolver.GetService<ILoggerFactory>();
            var bootstrap = ClusterBootstrap.Get(system);
            var maxSeedNodes = ClusterBootstrapSettings.Create(system.Settings.Config, system.Log).ContactPoint.MaxSeedNodesToExpose;
            var cluster = Akka.Cluster.Cluster.Get(system);
            var endpoint = await ClusterBootstrapEndpoint.StartAsync(listen, certificate, () => SeedNodesDocument.Of(cluster, maxSeedNodes),
                loggerFactory, CancellationToken.None).ConfigureAwait(false);
            // However the actor system ends (coordinated shutdown, or terminated abruptly), the contact point goes with it.
            _ = system.WhenTerminated.ContinueWith(_ => endpoint.DisposeAsync().AsTask(), TaskScheduler.Default).Unwrap();

            var scheme = certificate is null ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;
            var self = new UriBuilder(scheme, options.AdvertisedHost ?? HostOf(listen.Address), advertisedPort).Uri;
            // Binding the routes is how Akka.Management learns the node's own contact point (its own HTTP server does the
            // same when it binds); the routes it returns are its Ceen.Httpd handlers, which the endpoint above replaces.
            // Its prober asks every contact point with this URI's scheme.
            _ = bootstrap.Routes(ManagementRouteProviderSettings.Create(self, readOnly: true));
            await bootstrap.Start().ConfigureAwait(false);
        });
        return builder;
    }

    private static string HostOf(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static bool AutoStartsBootstrap(ActorSystem system) =>
        system.Settings.Config.GetStringList("akka.extensions").Any(e => e.Contains(nameof(ClusterBootstrapProvider), StringComparison.Ordinal));
}
