using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.TestSupport;

/// <summary>How a test takes a whole test cluster down at its end, each node leaving gracefully.</summary>
public static class ClusterShutdown
{
    /// <summary>
    /// Stops and disposes every one of <paramref name="nodes"/> (each host runs its node's coordinated shutdown): all but
    /// the oldest member still running together, then the oldest. Stopped all at once, the nodes wait out the
    /// <c>cluster-exiting</c> phase (10 s) for a leader that is leaving too; with the oldest (the leader) staying until
    /// the others have gone, three nodes stop in about a second and a half. A member whose actor system a test stopped
    /// without leaving is downed first: while it stays a member that cannot answer, no other can finish leaving.
    /// </summary>
    public static async Task StopAllAsync(IEnumerable<WebApplication> nodes)
    {
        var all = nodes.Select(n => (Node: n, System: SystemOf(n))).ToList();
        var running = all.Where(n => n.System is { WhenTerminated.IsCompleted: false }).ToList();
        if (running.Count > 0)
        {
            var oldest = running.OrderBy(n => Akka.Cluster.Cluster.Get(n.System!).SelfMember, Akka.Cluster.Member.AgeOrdering).First();
            var leader = Akka.Cluster.Cluster.Get(oldest.System!);
            foreach (var stopped in all.Except(running).Where(n => n.System is not null))
                leader.Down(Akka.Cluster.Cluster.Get(stopped.System!).SelfAddress);
            await Task.WhenAll(all.Where(n => n.Node != oldest.Node).Select(n => StopAsync(n.Node)));
            await StopAsync(oldest.Node);
        }
        else
        {
            await Task.WhenAll(all.Select(n => StopAsync(n.Node)));
        }
    }

    private static async Task StopAsync(WebApplication node)
    {
        await node.StopAsync(CancellationToken.None);
        await node.DisposeAsync();
    }

    /// <summary>The node's actor system; null once a test has disposed its host.</summary>
    private static ActorSystem? SystemOf(WebApplication node)
    {
        try
        {
            return node.Services.GetRequiredService<ActorSystem>();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }
}
