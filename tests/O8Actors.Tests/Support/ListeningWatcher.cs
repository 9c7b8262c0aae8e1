using Akka.Actor;
using Akka.TestKit;
using O8Actors.Flows;

namespace O8Actors.Tests.Support;

/// <summary>
/// Starts the <see cref="UndeliveredLoginWatcher"/> as every O8Actors system has it, and returns once it listens.
/// </summary>
/// <remarks>
/// The watcher subscribes to dead letters in its <c>PreStart</c>, which runs after <c>ActorOf</c> has returned: a test
/// that sends to a stopped actor at once could have its dead letter published before the watcher listens. An actor
/// answers <see cref="Identify"/> only once <c>PreStart</c> has run, so the round trip waits for the subscription.
/// </remarks>
internal static class ListeningWatcher
{
    public static IActorRef Start(TestKitBase kit)
    {
        var watcher = kit.Sys.ActorOf(UndeliveredLoginWatcher.Props());
        var probe = kit.CreateTestProbe();
        watcher.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
        return watcher;
    }
}
