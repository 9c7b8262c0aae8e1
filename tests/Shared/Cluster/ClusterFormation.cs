using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.TestSupport;

/// <summary>Seed nodes and membership of a test cluster on loopback.</summary>
/// <remarks>
/// Seed nodes, not Akka.Management's cluster bootstrap with configuration-based discovery: Akka.Management 1.5.73 needs
/// Ceen.Httpd 0.9.9 for its HTTP endpoint, and the registry this is built from has only 0.9.10, which lacks a method it
/// calls (MissingMethodException at start; bootstrap then terminates the actor system).
/// </remarks>
public static class ClusterFormation
{
    /// <summary>The seed node addresses of <paramref name="systemName"/> on 127.0.0.1 at <paramref name="remotingPorts"/>.</summary>
    public static string[] Seeds(string systemName, IEnumerable<int> remotingPorts, string scheme = "akka.tcp") =>
        remotingPorts.Select(p => $"{scheme}://{systemName}@127.0.0.1:{p}").ToArray();

    /// <summary>How many members <paramref name="node"/> sees as Up.</summary>
    public static int UpMembers(WebApplication node) =>
        Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    /// <summary>Waits until every one of <paramref name="nodes"/> sees all of them Up.</summary>
    public static Task WaitForUpAsync(IReadOnlyCollection<WebApplication> nodes, TimeSpan within) =>
        Eventually.TrueAsync(() => nodes.All(n => UpMembers(n) == nodes.Count),
            $"all {nodes.Count} nodes see a cluster of {nodes.Count} Up members", within);
}
