using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.TestSupport;

/// <summary>How a test takes a whole test cluster down at its end, each node leaving gracefully.</summary>
public static class ClusterShutdown
{
    /// <summary>
    /// Stops and disposes every one of <paramref name="nodes"/> (each host runs its node's coordinated shutdown): all but
    /// one member that is still Up together, then that one, the oldest such (the oldest running, should none be Up).
    /// Stopped all at once, the nodes wait out the <c>cluster-exiting</c> phase (10 s) for one another, as nobody is left
    /// to move them on; with one member staying Up until the others have gone, three nodes stop in about a second and a
    /// half. A member whose actor system a test stopped without leaving is downed first: while it stays a member that
    /// cannot answer, no other can finish leaving.
    /// </summary>
    public static async Task StopAllAsync(IEnumerable<WebApplication> nodes)
    {
        var all = nodes.Select(n => (Node: n, System: SystemOf(n))).ToList();
        var running = all.Where(n => n.System is { WhenTerminated.IsCompleted: false }).ToList();
        if (running.Count == 0)
        {
            await Task.WhenAll(all.Select(n => StopAsync(n.Node)));
            return;
        }

        var last = running
            .OrderBy(n => Member(n.System!).Status == Akka.Cluster.MemberStatus.Up ? 0 : 1)
            .ThenBy(n => Member(n.System!), Akka.Cluster.Member.AgeOrdering)
            .First();
        var stays = Akka.Cluster.Cluster.Get(last.System!);
        foreach (var stopped in all.Except(running).Where(n => n.System is not null))
            stays.Down(Member(stopped.System!).Address);
        try
        {
            await Task.WhenAll(all.Where(n => n.Node != last.Node).Select(n => StopAsync(n.Node)));
        }
        finally
        {
            await StopAsync(last.Node);
        }
    }

    private static async Task StopAsync(WebApplication node)
    {
        await node.StopAsync(CancellationToken.None);
        await node.DisposeAsync();
    }

    private static Akka.Cluster.Member Member(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfMember;

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
