using System.Runtime.CompilerServices;
using Akka.Actor;

namespace O8Actors.Cluster;

/// <summary>
/// The token a node's <see cref="IClusterLoginOutcomeHandler"/> gets: cancelled as the node's actor system terminates, in
/// the last phase of its coordinated shutdown, or when the system terminates without one.
/// </summary>
/// <remarks>
/// Not the host's <c>ApplicationStopping</c>: SIGTERM cancels that first, and only then does the host stop Akka, whose
/// shutdown hands its logins off for up to two minutes so those whose code is at the provider can finish. Each of them
/// would run its handler with a token already cancelled, and a handler that passes it to its I/O would lose the app's
/// record of that sign-in. By the last phase every login here has ended or moved; the token is cancelled there rather than
/// once the system has terminated so that the cancellation a handler reports still reaches the node's loggers.
/// </remarks>
internal static class NodeShutdownToken
{
    // One per actor system, however many of its parts ask (the logins' region and the gateway each build their node's parts).
    private static readonly ConditionalWeakTable<ActorSystem, CancellationTokenSource> Sources = new();

    /// <summary>The token of <paramref name="system"/>'s end.</summary>
    public static CancellationToken For(ActorSystem system) => Sources.GetValue(system, Follow).Token;

    private static CancellationTokenSource Follow(ActorSystem system)
    {
        var ends = new CancellationTokenSource();
        // CancelAsync: the handlers' registrations run off the shutdown's own task; what they throw is theirs.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "o8-outcome-handlers",
            () => ends.CancelAsync().ContinueWith(static t => { _ = t.Exception; return Akka.Done.Instance; }, TaskScheduler.Default));
        // Terminated without the coordinated shutdown (akka.coordinated-shutdown.run-by-actor-system-terminate = off).
        system.WhenTerminated.ContinueWith(static (_, cts) => _ = ((CancellationTokenSource)cts!).CancelAsync(), ends,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return ends;
    }
}
