using Akka.Actor;
using Akka.Event;
using O8Actors.Accounts;
using O8Actors.Callback;
using O8Actors.Providers;

namespace O8Actors.Flows;

/// <summary>
/// Answers what a login sent to an actor that is gone, so nobody waits forever: a <see cref="StartFlow"/> that never
/// reached a live <see cref="FlowsSupervisor"/> (sent while the actor system shuts down) completes as
/// <see cref="LoginCancelled"/>; a state registration that reached no listener (it was stopped, or crashed) is refused,
/// so the login ends at once as Failed (ListenerUnavailable); a callback routed to a login already gone gets its browser
/// the "login ended" page (410), a callback left in a crashed listener's mailbox the page a stopped listener gives, and
/// a sign-out's return its "sign-out ended" page; tokens a login's token request
/// brought after the login was gone are revoked by the provider actor that answered; a request for a provider actor that
/// stopped before it took it (left in its mailbox when the registry gave up on it, or forwarded before the registry heard
/// of the stop) is answered as unavailable, naming the provider, so its login, refresh or call fails at once rather than
/// at its deadline; likewise a request for an account's actor that stopped before it took it (a token, a login's
/// tokens to store, a sign-out) fails at once as that actor's own stop answers. Subscribed to the event stream's dead letters; a child of the O8 guardian next to the supervisor.
/// </summary>
/// <remarks>
/// Answering from dead letters costs a login nothing while its provider lives: no watch of the provider actor per login,
/// no Ask. A dead letter is the one place where every undelivered request shows up, whoever sent it (a login, an
/// account's refresh, a caller's Ask).
/// </remarks>
internal sealed class UndeliveredLoginWatcher : UntypedActor
{
    /// <summary>Props for the watcher.</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new UndeliveredLoginWatcher());

    /// <inheritdoc />
    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

    /// <inheritdoc />
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DeadLetter { Message: StartFlow { Completion: { } completion } start }:
                completion.TrySetResult(new LoginCancelled(start.LoginId));
                break;
            case DeadLetter { Message: RegisterState register, Sender: { } login } when !login.IsNobody():
                login.Tell(new StateRegistrationRefused(register.LoginId, "The redirect listener is not running."));
                break;
            case DeadLetter { Message: AuthorizationCallback, Sender: { } browser } when !browser.IsNobody():
                // Routed to a login that stopped before its unregistration reached the listener (its deadline, a cancel or
                // a failure ended it; or it was stopped from outside, which its caller hears as a failure): the browser's
                // request (the sender) gets the "login ended" page now, as an ended login answers itself, rather than a
                // 504 when its Ask times out. Whatever stopped it, this browser can only start again.
                browser.Tell(CallbackPages.AlreadyEnded);
                break;
            // A login's token request answered after the login was gone (stopped from outside: its cluster entity moved,
            // its node stopped, or it crashed): the tokens are live at the provider and nobody's. The provider actor that
            // answered revokes them (RFC 7009). Never a refresh's answer (see CodeExchanged.ForLogin).
            case DeadLetter { Message: CodeExchanged { ForLogin: true } answer, Sender: { } provider } when !provider.IsNobody():
                provider.Tell(new RevokeUnclaimedTokens(answer.Tokens));
                break;
            case DeadLetter { Message: DeviceTokenPolled { Poll: { Status: DevicePollStatus.Issued, Tokens: { } issued } }, Sender: { } provider }
                when !provider.IsNobody():
                provider.Tell(new RevokeUnclaimedTokens(issued));
                break;
            case DeadLetter { Message: var request, Sender: { } waiting, Recipient: { } stopped }
                when !waiting.IsNobody() && ProviderRegistryActor.IsProviderActor(stopped) && ProviderRequestFailures.ProviderOf(request) is { } provider:
                // Never taken, so never sent: its code, refresh token or device code is unspent.
                waiting.Tell(ProviderRequestFailures.For(request, LoginFailure.ProviderUnavailable,
                    ProviderRequestFailures.Stopped(provider, "before it took it (after failing repeatedly, or once its provider was unregistered)")), Self);
                break;
            case DeadLetter { Message: var request, Sender: { } waiting, Recipient: { } stopped }
                when !waiting.IsNobody() && AccountsSupervisor.IsAccountActor(stopped) && AccountRequestFailures.AccountOf(request) is { } account:
                // An account's actor that failed and was stopped: what was still in its mailbox, or forwarded to it before
                // its supervisor heard, is answered as the requests it held were (an interactive caller waits 30 minutes).
                AccountRequestFailures.AnswerStopped(request, account, waiting, Self);
                break;
            case DeadLetter { Message: CallbackReceived callback, Sender: { } request } when !request.IsNobody():
                // A browser's callback still in the listener's mailbox when it crashed and was stopped: its request gets
                // the page a stopped listener gives (its login was told the listener was lost), not a reset or a 504.
                request.Tell(callback.Search ? CallbackPages.Malformed : CallbackPages.LoginGone);
                break;
            case DeadLetter { Message: SignOutReturned, Sender: { } returning } when !returning.IsNobody():
                // The same for a sign-out's return routed to a step already gone.
                returning.Tell(CallbackPages.SignOutAlreadyEnded);
                break;
        }
    }
}
