using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Discovery.Config.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Cluster;
using O8Actors.Cluster.Bootstrap;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// <c>--cluster N</c>: the same app as N nodes of one Akka.NET cluster in this process, behind a YARP proxy on the
/// public address (<c>Urls</c>, https://localhost:5443 by default). Each node is its own actor system and its own Kestrel
/// on a loopback port, talks Akka.Remote over TLS on another (<see cref="RemotingTls"/>), forms the cluster with
/// Akka.Management's cluster bootstrap (configuration-based Akka.Discovery lists every node's contact point; each serves
/// its own on a third loopback port through <c>WithClusterBootstrapOnKestrel</c>) and runs logins as sharded entities (<c>WithOAuthLoginsCluster</c>, whose HOCON brings the
/// keep-majority split brain resolver). All nodes share one Data Protection key ring (a folder), so the sign-in cookie,
/// the antiforgery tokens and every login's browser-binding cookie are good on any node.
/// </summary>
/// <remarks>
/// The users' connections list is one object for all nodes here, standing in for the database a real deployment shares.
/// </remarks>
internal sealed class ClusterMode : IAsyncDisposable
{
    private const string SystemName = "web-connect";
    private const string ApplicationName = "web-connect";

    /// <summary>The discovery service name under which the nodes' bootstrap contact points are listed.</summary>
    private const string ServiceName = "web-connect-nodes";

    /// <summary>The response header naming the node that answered (to see the balancer at work).</summary>
    public const string NodeHeader = "X-WebConnect-Node";

    private static readonly TimeSpan FormationTimeout = TimeSpan.FromSeconds(60);

    private readonly List<WebApplication> _nodes;
    private readonly WebApplication _proxy;
    private readonly IAsyncDisposable? _sandbox;
    private readonly RemotingTls _tls;

    private ClusterMode(List<WebApplication> nodes, WebApplication proxy, IAsyncDisposable? sandbox, RemotingTls tls, X509Certificate2 certificate)
    {
        _nodes = nodes;
        _proxy = proxy;
        _sandbox = sandbox;
        _tls = tls;
        Certificate = certificate;
        PublicRoot = new Uri(proxy.Urls.First());
    }

    /// <summary>The proxy's address: the only one users see.</summary>
    public Uri PublicRoot { get; }

    /// <summary>The nodes, in the order the summary lists them.</summary>
    public IReadOnlyList<WebApplication> Nodes => _nodes;

    /// <summary>The https certificate of the proxy and the nodes.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The N of <c>--cluster N</c> (or <c>--cluster=N</c>); null without the switch.</summary>
    /// <exception cref="ArgumentException">The switch has no whole number from 1 to 9.</exception>
    public static int? NodeCount(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            string? value = args[i] == "--cluster" ? (i + 1 < args.Length ? args[i + 1] : null)
                : args[i].StartsWith("--cluster=", StringComparison.Ordinal) ? args[i]["--cluster=".Length..]
                : null;
            if (value is null && args[i] != "--cluster") continue;
            if (int.TryParse(value, out var count) && count is >= 1 and <= 9) return count;
            throw new ArgumentException("--cluster takes the number of nodes, 1 to 9 (for example --cluster 3).");
        }

        return null;
    }

    /// <summary>
    /// Starts the cluster and the proxy, prints what runs where, and runs until Ctrl+C; returns the exit code. Ctrl+C while
    /// the nodes start or form the cluster stops what started (each node's own host takes Ctrl+C only once it runs).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, int count)
    {
        using var stop = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            stop.Cancel();
        }

        Console.CancelKeyPress += OnCancel;
        ClusterMode cluster;
        try
        {
            cluster = await StartAsync(args, count, Console.Out, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("WebConnect: stopped while the cluster started.");
            return 0;
        }
        // The nodes did not form one cluster in time (a loaded machine), a port taken between its choice and its bind: said
        // in one line, as a bad argument is (StartAsync has stopped the nodes it started).
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"WebConnect: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }

        await using (cluster)
            await cluster._proxy.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>Starts <paramref name="count"/> nodes, waits until they form one cluster, then the proxy; writes the summary to <paramref name="output"/>.</summary>
    public static async Task<ClusterMode> StartAsync(string[] args, int count, TextWriter output, CancellationToken cancellationToken = default)
    {
        var proxyBuilder = WebApplication.CreateBuilder(args);
        var configuration = proxyBuilder.Configuration;
        var (sandbox, sharedSettings) = await DemoSandbox.StartIfEnabledAsync(configuration);
        var tls = RemotingTls.Create();
        var nodes = new List<WebApplication>();
        var started = new WebApplication?[count];
        X509Certificate2? certificate = null;
        WebApplication? proxy = null;
        try
        {
            using (var startupLog = LoggerFactory.Create(l => l.AddConsole()))
                certificate = DemoCertificate.Load(startupLog.CreateLogger("WebConnect"));

            var keyRing = SharedKeyRing(configuration);
            var https = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
            var remoting = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
            var contacts = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
            var connections = new Connections();

            // All nodes start at once, as a deployment's would: once every contact point answers, the node with the
            // lowest one forms the cluster and the others join it.
            // Each node is kept as it starts: if another fails, those that started are stopped with the rest below.
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i => started[i] = await StartNodeAsync(
                args, $"node{i}", https[i], tls.Options(remoting[i]), contacts, contacts[i], certificate, keyRing, sharedSettings, connections, cancellationToken)));
            nodes.AddRange(started.Select(n => n!));
            await WaitForMembersAsync(nodes, count, cancellationToken);

            proxyBuilder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
            var nodeRoots = https.Select(p => new Uri($"https://127.0.0.1:{p}/")).ToList();
            ClusterProxy.AddServices(proxyBuilder, nodeRoots, certificate);
            proxy = proxyBuilder.Build();
            proxy.MapReverseProxy();
            await proxy.StartAsync(cancellationToken);

            var cluster = new ClusterMode(nodes, proxy, sandbox, tls, certificate);
            output.WriteLine($"WebConnect as a cluster of {count} nodes (actor system '{SystemName}'):");
            output.WriteLine($"  proxy   {cluster.PublicRoot}  YARP, random balancing, health checks on /healthz  <- open this");
            for (var i = 0; i < count; i++)
                output.WriteLine($"  node{i}   {nodeRoots[i]}  Akka.Remote akka.ssl.tcp://{SystemName}@127.0.0.1:{remoting[i]}, bootstrap contact point http://127.0.0.1:{contacts[i]}/");
            output.WriteLine($"  remoting: TLS, mutual authentication, peers must chain to '{tls.Authority}'");
            output.WriteLine("  split brain resolver: keep-majority (O8Actors.Cluster's hocon); cluster formed by Akka.Management's bootstrap (configuration-based discovery)");
            output.WriteLine($"  Data Protection key ring shared by all nodes: {keyRing.FullName}");
            if (sandbox is not null) output.WriteLine($"  provider: the TestKit sandbox at {sandbox.IssuerString}");
            return cluster;
        }
        catch
        {
            if (proxy is not null) await proxy.DisposeAsync();
            await StopAsync([.. started.OfType<WebApplication>()]);
            if (sandbox is not null) await sandbox.DisposeAsync();
            certificate?.Dispose();
            tls.Dispose();
            throw;
        }
    }

    private static async Task<WebApplication> StartNodeAsync(string[] args, string name, int httpsPort, RemoteOptions remoting,
        int[] contactPorts, int ownContactPort, X509Certificate2 certificate, DirectoryInfo keyRing, Dictionary<string, string?> sharedSettings,
        Connections connections, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddInMemoryCollection(sharedSettings);
        // Loopback only, on the node's own port (not the public address, which is the proxy's).
        builder.WebHost.UseUrls($"https://127.0.0.1:{httpsPort}");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
        // The summary says where each node listens; keep three nodes' start-up lines out of the console.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Akka's errors only: nodes starting at once probe each other's contact points before all of them listen, and
        // Akka.Management logs each refused probe as a warning with its stack trace, then probes again.
        builder.Logging.AddFilter("Akka", LogLevel.Error);
        builder.Services.AddDataProtection().PersistKeysToFileSystem(keyRing).SetApplicationName(ApplicationName);
        WebConnectApp.AddServices(builder, SystemName, connections, akka => akka
            .WithRemoting(remoting)
            .WithClustering(new ClusterOptions())  // no seed nodes: the bootstrap finds the cluster
            .WithConfigDiscovery(d => d.Services.Add(new Service { Name = ServiceName, Endpoints = [.. contactPorts.Select(p => $"127.0.0.1:{p}")] }))
            .WithClusterBootstrap(b =>
            {
                b.ContactPointDiscovery.ServiceName = ServiceName;
                b.ContactPointDiscovery.RequiredContactPointsNr = contactPorts.Length;
                // All nodes run on one machine, each contact point on a port of its own: probe them all.
                b.ContactPoint.FilterOnFallbackPort = false;
            }, autoStart: false)
            .WithClusterBootstrapOnKestrel(o => o.Listen = new IPEndPoint(IPAddress.Loopback, ownContactPort))
            .WithOAuthLoginsCluster());

        var node = builder.Build();
        node.Use((context, next) =>
        {
            context.Response.Headers[NodeHeader] = name;
            return next(context);
        });
        WebConnectApp.Map(node);
        try
        {
            await node.StartAsync(cancellationToken);
        }
        catch
        {
            // Half started (its actor system up, Kestrel's port taken by another process): nothing else holds it.
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>
    /// The key ring folder (<c>Cluster:KeyRing</c>, default a folder of this user's own, kept between runs so sign-in
    /// cookies survive a restart), with one key in it before any node reads it: nodes starting at once would otherwise
    /// each make their own. Not in the temp folder, which on Linux all users share: another user could create the folder
    /// first and plant a key, then forge this app's sign-in, antiforgery and browser-binding cookies.
    /// </summary>
    private static DirectoryInfo SharedKeyRing(IConfiguration configuration)
    {
        var path = configuration["Cluster:KeyRing"] ?? Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "o8-webconnect", "cluster-keys");
        var folder = OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(path)
            : Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        DataProtectionProvider.Create(folder, o => o.SetApplicationName(ApplicationName)).CreateProtector("warm-up").Protect([1]);
        return folder;
    }

    /// <summary>Waits, bounded, until every node sees all <paramref name="count"/> members Up.</summary>
    private static async Task WaitForMembersAsync(List<WebApplication> nodes, int count, CancellationToken cancellationToken)
    {
        var clusters = nodes.Select(n => Akka.Cluster.Cluster.Get(n.Services.GetRequiredService<ActorSystem>())).ToList();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(FormationTimeout);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (!clusters.All(c => c.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == count))
                await tick.WaitForNextTickAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The {count} nodes did not form one cluster within {FormationTimeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>A port free on 127.0.0.1 at the moment of asking (the OS picks it).</summary>
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }

    /// <summary>Stops the nodes one at a time, each leaving a cluster whose other members still answer.</summary>
    private static async Task StopAsync(List<WebApplication> nodes)
    {
        foreach (var node in Enumerable.Reverse(nodes))
        {
            await node.StopAsync(CancellationToken.None);
            await node.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _proxy.StopAsync(CancellationToken.None);
        await _proxy.DisposeAsync();
        await StopAsync(_nodes);
        if (_sandbox is not null) await _sandbox.DisposeAsync();
        Certificate.Dispose();
        _tls.Dispose();
    }
}
