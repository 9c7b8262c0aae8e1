using Akka.Actor;
using O8Actors.Providers;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Stands in front of a test's providers probe: accepts every check asked while the listener has not bound (a browser
/// login's, <see cref="CheckBrowserLogin"/>; a sign-out's, <see cref="CheckEndSession"/>: it has an end-session endpoint)
/// and forwards every other message to the probe, sender kept, so a test that is not about the checks scripts the
/// provider's part as before.
/// </summary>
internal sealed class ProviderChecksAccepted : ReceiveActor
{
    /// <summary>The front of <paramref name="providers"/>.</summary>
    public static Props Props(IActorRef providers) => Akka.Actor.Props.Create(() => new ProviderChecksAccepted(providers));

    /// <summary>Creates the front; use <see cref="Props"/>.</summary>
    public ProviderChecksAccepted(IActorRef providers)
    {
        Receive<CheckBrowserLogin>(check => Sender.Tell(new BrowserLoginAccepted(check.LoginId)));
        Receive<CheckEndSession>(check => Sender.Tell(new EndSessionChecked(check.RequestId, Supported: true)));
        ReceiveAny(message => providers.Forward(message));
    }
}
