using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Cluster;
using O8Actors.Hosting;

namespace O8Actors.TestSupport;

/// <summary>What one test cluster node is made of; see <see cref="LoopbackClusterNode.StartAsync"/>.</summary>
public sealed class LoopbackNodeOptions
{
    /// <summary>The actor system's name (the same on every node of a cluster).</summary>
    public required string SystemName { get; init; }

    /// <summary>The node's https port on 127.0.0.1.</summary>
    public required int HttpsPort { get; init; }

    /// <summary>The node's https certificate.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>The key ring all nodes share.</summary>
    public required SharedKeyRing KeyRing { get; init; }

    /// <summary>Remoting and cluster formation (seed nodes, TLS, extra HOCON).</summary>
    public required Action<AkkaConfigurationBuilder> Clustering { get; init; }

    /// <summary>The app's configuration and services; must call <c>AddOAuthLogins</c> (providers, settings).</summary>
    public required Action<WebApplicationBuilder> Configure { get; init; }

    /// <summary>The app's own endpoints and middleware (for example <c>POST /connect</c>); optional.</summary>
    public Action<WebApplication>? Map { get; init; }

    /// <summary>
    /// Whether logins run as sharded entities (<c>WithOAuthLoginsCluster</c>, the default); off, the node is a plain
    /// server-mode node (the benchmark's one-node baseline) and <see cref="Clustering"/> may do nothing.
    /// </summary>
    public bool Sharded { get; init; } = true;

    /// <summary>The options of <c>WithOAuthLoginsCluster</c> (a role, for example); its defaults when null.</summary>
    public Action<O8ClusterOptions>? ClusterOptions { get; init; }

    /// <summary>The value of <see cref="LoopbackClusterNode.NodeHeader"/>: the system name and https port unless set.</summary>
    public string? NodeName { get; init; }
}

/// <summary>
/// A server-mode node of a test cluster: a Kestrel app on 127.0.0.1 over https with <c>MapOAuthCallback</c> and the
/// Hosting package's health check at <c>/healthz</c> (what a balancer probes), O8Actors with
/// <c>WithOAuthLoginsCluster</c>, the shared Data Protection key ring, and a header on every response naming the node.
/// Shared by the cluster tests and the interop suite (linked source).
/// </summary>
public static class LoopbackClusterNode
{
    /// <summary>The response header naming the node that answered (every node of a cluster has the same system name, so it names the port too).</summary>
    public const string NodeHeader = "X-O8-Node";

    /// <summary>Builds and starts the node; returns once Kestrel listens (the cluster may not have formed yet).</summary>
    public static async Task<WebApplication> StartAsync(LoopbackNodeOptions options, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, options.HttpsPort, listen => listen.UseHttps(options.Certificate)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        options.KeyRing.AddTo(builder.Services);
        options.Configure(builder);
        builder.Services.AddAkka(options.SystemName, akka =>
        {
            options.Clustering(akka);
            akka.WithOAuthLogins();
            if (options.Sharded) akka.WithOAuthLoginsCluster(options.ClusterOptions);
        });

        var web = builder.Build();
        var name = options.NodeName ?? $"{options.SystemName}:{options.HttpsPort}";
        // Which node answered: a test behind the proxy counts the nodes that began logins and that took callbacks.
        web.Use((context, next) =>
        {
            context.Response.Headers[NodeHeader] = name;
            return next(context);
        });
        web.MapOAuthCallback("/oauth/callback");
        // What a load balancer probes: the Hosting package's health check (a dead actor system answers 503).
        web.MapHealthChecks("/healthz");
        options.Map?.Invoke(web);
        await web.StartAsync(cancellationToken);
        return web;
    }
}
