using Akka.Actor;

namespace O8Actors.Callback;

/// <summary>
/// Carries one callback to its login and the login's page back to the waiting browser request. A short-lived child of
/// the <see cref="CallbackServerActor"/>, one per routed callback (once per login, not per request): it watches the
/// login so a login that dies before answering still gets the browser a page, and it answers the browser exactly once.
/// </summary>
internal sealed class CallbackReplyRelay : ReceiveActor
{
    /// <summary>Creates the relay; it sends <paramref name="callback"/> to <paramref name="flow"/> as it starts.</summary>
    public CallbackReplyRelay(IActorRef browser, IActorRef flow, AuthorizationCallback callback, TimeSpan patience)
    {
        Receive<CallbackResponse>(response =>
        {
            browser.Tell(response);
            Context.Stop(Self);
        });
        Receive<Terminated>(t => t.ActorRef.Equals(flow), _ =>
        {
            // Terminated arrives after every message the login sent, so it did not answer.
            browser.Tell(CallbackPages.LoginGone);
            Context.Stop(Self);
        });
        Receive<ReceiveTimeout>(_ => Context.Stop(Self)); // the browser's Ask has given up by now

        Context.Watch(flow);
        Context.SetReceiveTimeout(patience);
        flow.Tell(callback, Self);
    }

    /// <summary>Props for one relay.</summary>
    public static Props Props(IActorRef browser, IActorRef flow, AuthorizationCallback callback, TimeSpan patience) =>
        Akka.Actor.Props.Create(() => new CallbackReplyRelay(browser, flow, callback, patience));
}
