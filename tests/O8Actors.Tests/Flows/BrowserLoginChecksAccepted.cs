using Akka.Actor;
using O8Actors.Providers;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Stands in front of a test's providers probe: accepts every browser login's check (<see cref="CheckBrowserLogin"/>,
/// asked while the listener has not bound) and forwards every other message to the probe, sender kept, so a test that
/// is not about the check scripts the provider's part as before.
/// </summary>
internal sealed class BrowserLoginChecksAccepted : ReceiveActor
{
    /// <summary>The front of <paramref name="providers"/>.</summary>
    public static Props Props(IActorRef providers) => Akka.Actor.Props.Create(() => new BrowserLoginChecksAccepted(providers));

    /// <summary>Creates the front; use <see cref="Props"/>.</summary>
    public BrowserLoginChecksAccepted(IActorRef providers)
    {
        Receive<CheckBrowserLogin>(check => Sender.Tell(new BrowserLoginAccepted(check.LoginId)));
        ReceiveAny(message => providers.Forward(message));
    }
}
