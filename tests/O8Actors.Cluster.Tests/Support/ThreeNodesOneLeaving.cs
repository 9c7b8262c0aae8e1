using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// The three nodes of <see cref="ThreeNodesBehindProxy"/>, of which the last leaves the cluster once a test asks
/// (<see cref="LeftAsync"/>) and is then held in its shutdown's <c>before-cluster-shutdown</c> phase, as an account's
/// refresh under way holds a leaving node there, until the fixture is disposed: its logins' region has handed its shards
/// off and stopped, while its HTTP server and its gateways still take requests. Its own cluster: that node is gone for good.
/// A test may make a node it added leave the same way (<see cref="LeaveAndHoldAsync"/>).
/// </summary>
public sealed class ThreeNodesOneLeaving : ThreeNodesBehindProxy
{
    /// <summary>The index in <see cref="ThreeNodesBehindProxy.Apps"/> of the node that leaves.</summary>
    public const int Leaving = 2;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly TaskCompletionSource<Akka.Done> _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lazy<Task> _left;

    public ThreeNodesOneLeaving() => _left = new Lazy<Task>(() => LeaveAndHoldAsync(Leaving));

    /// <summary>Completes once the leaving node's logins' region has stopped (the node leaves on the first call).</summary>
    public Task LeftAsync() => _left.Value;

    /// <summary>
    /// Makes node <paramref name="index"/> of <see cref="ThreeNodesBehindProxy.Apps"/> leave, held as <see cref="Leaving"/>
    /// is until the fixture is disposed; completes once its logins' region has stopped.
    /// </summary>
    public Task LeaveAndHoldAsync(int index) => HoldWhileItStopsAsync(index, system => Akka.Cluster.Cluster.Get(system).LeaveAsync());

    /// <summary>
    /// Shuts node <paramref name="index"/> down as SIGTERM does (its coordinated shutdown runs, and it stays an
    /// <c>Up</c> member until the shutdown's <c>cluster-leave</c> phase), held in <c>before-cluster-shutdown</c> until the
    /// fixture is disposed; completes once its logins' region has stopped.
    /// </summary>
    public Task ShutDownAndHoldAsync(int index) =>
        HoldWhileItStopsAsync(index, system => CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance));

    /// <summary>Holds node <paramref name="index"/> in <c>before-cluster-shutdown</c>, runs <paramref name="stop"/> and waits until its logins' region has stopped.</summary>
    private async Task HoldWhileItStopsAsync(int index, Func<ActorSystem, Task> stop)
    {
        var services = Apps[index].Services;
        var system = services.GetRequiredService<ActorSystem>();
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "test-holds-the-node", () => _release.Task);
        var regionStopped = services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>().WatchAsync();
        _ = stop(system);
        await regionStopped.WaitAsync(Wait);
        if (system.WhenTerminated.IsCompleted) throw new InvalidOperationException("The node's actor system stopped instead of being held.");
    }

    public override async ValueTask DisposeAsync()
    {
        _release.TrySetResult(Akka.Done.Instance);
        await base.DisposeAsync();
    }
}
