using Akka.Actor;
using Akka.Event;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Providers;

namespace O8Actors.Flows;

/// <summary>
/// One sign-out's browser step (OpenID Connect RP-Initiated Logout 1.0): registers a fresh <c>state</c> with the
/// listener (one that has not bound yet only once the provider said it has an end-session endpoint), asks the provider
/// for its end-session URL (<c>id_token_hint</c>, <c>post_logout_redirect_uri</c>: the provider's own redirect URI, and
/// the state), opens the browser there and waits for the provider to send it back. Every path ends in exactly one <see cref="ProviderSessionEnded"/> to the requester; then the actor stops.
/// </summary>
/// <remarks>
/// The listener routes a return by its state, as it routes a login's callback, and hands this actor only a return
/// that carries neither a code nor an error (a login's callback never reaches it, nor a return a login): a page that
/// learned the state can end the wait early, never make a sign-out look like a login.
/// </remarks>
internal sealed class EndSessionActor : UntypedActor, IWithTimers
{
    private readonly EndProviderSession _request;
    private readonly FlowContext _context;
    private readonly IActorRef _replyTo;
    private const int StateBytes = 32;
    private readonly string _state = FlowSecrets.RandomToken(StateBytes);
    private CancellationTokenSource? _browserCancellation;
    private string? _returnPath;

    /// <summary>
    /// Whether <paramref name="state"/> has the shape of a sign-out's state (32 random bytes, base64url: 43 characters),
    /// so that a node of a cluster asks the others about it only then, not about any stray request's junk.
    /// </summary>
    internal static bool IsStateShaped(string state) => FlowSecrets.IsToken(state, StateBytes);
    private bool _stateRegistered;
    // The end-session URL went out (to the browser, or to the app that redirects its user): only from then on can the
    // deadline be the provider's doing.
    private bool _urlHandedOut;
    private bool _ended;

    /// <summary>Props for one sign-out's browser step, answering <paramref name="replyTo"/>.</summary>
    public static Props Props(EndProviderSession request, FlowContext context, IActorRef replyTo) =>
        Akka.Actor.Props.Create(() => new EndSessionActor(request, context, replyTo));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public EndSessionActor(EndProviderSession request, FlowContext context, IActorRef replyTo)
    {
        _request = request;
        _context = context;
        _replyTo = replyTo;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Deadline
    {
        public static Deadline Instance { get; } = new();
    }

    private sealed record BrowserLaunched(BrowserLaunchResult Launch);

    private sealed record BrowserRefused(string Reason);

    /// <inheritdoc />
    protected override void PreStart()
    {
        Timers.StartSingleTimer(Deadline.Instance, Deadline.Instance, _request.Timeout);
        if (_context.RedirectUri is { } known)
        {
            RegisterState(acknowledge: false);
            Prepare(known);
            return;
        }

        // The listener has not bound yet (o8.listener.start = on-first-use or while-needed): the provider is asked first
        // whether it has an end-session endpoint, so a provider without one binds no port for nothing, and says so
        // instead of a listener that cannot start (no certificate, the port taken).
        _context.Providers.Tell(new CheckEndSession(_request.Provider, _request.RequestId));
        Become(Checking);
    }

    /// <summary>
    /// Registers the step's state with the listener; <paramref name="acknowledge"/>: the listener answers once bound
    /// (<see cref="StateRegistered"/>, with its redirect URI), else only when it refuses.
    /// </summary>
    private void RegisterState(bool acknowledge)
    {
        _stateRegistered = true;
        _context.Listener.Tell(new RegisterState(_state, _request.RequestId, WatchRegistrant: false, Acknowledge: acknowledge) { ForSignOut = true });
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _browserCancellation?.Cancel();
        _browserCancellation?.Dispose();
        if (!_ended)
        {
            // Stopped from outside (the system shuts down): the requester still gets its one answer.
            _request.UrlTo?.TrySetResult(null);
            Unregister();
            _replyTo.Tell(new ProviderSessionEnded(_request.RequestId, ProviderSessionOutcome.Failed,
                "The sign-out stopped before the browser came back (the application is shutting down)."));
        }
    }

    /// <inheritdoc />
    protected override void OnReceive(object message) => Registering(message);

    private void Checking(object message)
    {
        switch (message)
        {
            case EndSessionChecked { Supported: false }:
                End(ProviderSessionOutcome.NotSupported, NoEndSessionEndpoint);
                break;
            case EndSessionChecked { Supported: true } when NoBrowserToOpen is { } reason:
                End(ProviderSessionOutcome.Failed, reason);
                break;
            case EndSessionChecked:
                // It has one (or only its URL will tell, for an app's own strategy): the listener binds for it and answers.
                RegisterState(acknowledge: true);
                Become(Registering);
                break;
            default:
                Always(message);
                break;
        }
    }

    private void Registering(object message)
    {
        if (message is StateRegistered registered) Prepare(registered.RedirectUri);
        else Always(message);
    }

    private void Prepare(Uri listenerUri)
    {
        if (_request.UrlTo is null && _context.ServerMode)
        {
            // Server mode: the user's browser is the web app's to redirect (IOAuthConnector.BeginSignOutAsync), not a
            // window this process can open.
            End(ProviderSessionOutcome.Failed,
                "In server mode O8Actors cannot open the user's browser: use IOAuthConnector.BeginSignOutAsync, which gives the app the URL to redirect its user to. The tokens were revoked and forgotten.");
            return;
        }

        _context.Providers.Tell(new PrepareEndSession(_request.Provider, _request.RequestId, _state, listenerUri, _request.IdTokenHint));
        Become(Preparing);
    }

    private void Preparing(object message)
    {
        switch (message)
        {
            case EndSessionPrepared { EndSessionUrl: null }:
                End(ProviderSessionOutcome.NotSupported, NoEndSessionEndpoint);
                break;
            case EndSessionPrepared when NoBrowserToOpen is { } reason:
                End(ProviderSessionOutcome.Failed, reason);
                break;
            case EndSessionPrepared prepared:
                // Decoded, as the listener passes a request's path (not AbsolutePath, the escaped form).
                _returnPath = RedirectPaths.RequestPathOf(prepared.PostLogoutRedirectUri);
                // Server mode: the app redirects its user there, and the return comes through MapOAuthCallback.
                if (_request.UrlTo is { } urlTo) urlTo.TrySetResult(prepared.EndSessionUrl);
                else Launch(prepared.EndSessionUrl);
                _urlHandedOut = true;
                Become(AwaitingReturn);
                break;
            default:
                Always(message);
                break;
        }
    }

    private string NoEndSessionEndpoint =>
        $"The provider '{_request.Provider}' has no end_session_endpoint (OpenID Connect RP-Initiated Logout): its browser session stays open.";

    /// <summary>
    /// Why this step cannot open the end-session URL (no browser can be opened here, and no caller takes the URL to
    /// redirect its user), or null when it can.
    /// </summary>
    private string? NoBrowserToOpen => _request.UrlTo is null && (_context.Browser as IBrowserAvailability)?.UnavailableReason is { } headless
        ? $"No browser can be opened here ({headless}), so the provider's session cannot be ended from this machine."
        : null;

    private void Launch(Uri url)
    {
        _browserCancellation = new CancellationTokenSource();
        BrowserLaunchPipe.Start(_context.Browser, url, _browserCancellation.Token, Self,
            launched: r => new BrowserLaunched(r), refused: reason => new BrowserRefused(reason));
    }

    private void AwaitingReturn(object message)
    {
        switch (message)
        {
            case SignOutReturned returned when returned.Path is { } path && !string.Equals(path, _returnPath, StringComparison.Ordinal):
                // The listener removed the state when it routed this: the sign-out cannot complete any more.
                _stateRegistered = false;
                Sender.Tell(CallbackPages.NotThisSignOut);
                End(ProviderSessionOutcome.Failed,
                    $"The browser came back at '{path}', not at the provider's redirect path '{_returnPath}': another server sent it, so the provider's session may still be open.");
                break;
            case SignOutReturned:
                _stateRegistered = false;
                Sender.Tell(CallbackPages.SignedOut);
                End(ProviderSessionOutcome.Ended, null);
                break;
            case BrowserLaunched { Launch.Launched: false } launched:
                // As for a login: the launcher showed the URL instead (the system launcher prints it), and the user may
                // still open it before the deadline.
                Context.GetLogger().Warning("Sign-out {0}: no browser opened ({1}); the end-session URL was not opened by O8Actors", _request.RequestId, launched.Launch.Detail);
                break;
            case BrowserLaunched:
                break;
            case BrowserRefused refused:
                End(ProviderSessionOutcome.Failed, refused.Reason);
                break;
            default:
                Always(message);
                break;
        }
    }

    /// <summary>
    /// What every phase answers: the deadline, the provider's refusal (of the check or the URL), the listener's refusal or
    /// loss, and a return that came too early.
    /// </summary>
    private void Always(object message)
    {
        switch (message)
        {
            case ProviderUnavailable unavailable:
                End(ProviderSessionOutcome.Failed, unavailable.Reason);
                break;
            case Deadline when !_urlHandedOut:
                // The listener's bind (on first use: mkcert, the certificate's lock) or the provider's metadata took the
                // whole time: the provider never saw this sign-out, and its registration is not what to look at.
                End(ProviderSessionOutcome.TimedOut,
                    $"No end-session URL within {_request.Timeout.TotalSeconds:0.#} seconds (the redirect listener's start or the provider's " +
                    "metadata took longer); no browser was opened, and the provider's session is still open.");
                break;
            case Deadline:
                End(ProviderSessionOutcome.TimedOut,
                    $"The browser did not come back from the provider within {_request.Timeout.TotalSeconds:0.#} seconds: the user closed it, or the provider " +
                    "refused the request or kept the browser (is the redirect URI listed among the client's post-logout redirect URIs? does the " +
                    "provider send the browser back only with an id_token_hint, SignOutOptions.SendIdTokenHint?). Its session may still be open.");
                break;
            case StateRegistrationRefused refused:
                _stateRegistered = false;
                End(ProviderSessionOutcome.Failed, refused.Reason);
                break;
            case ListenerLost lost when _stateRegistered:
                // The listener crashed and was stopped with the state: the browser's return can no longer reach this step.
                _stateRegistered = false;
                End(ProviderSessionOutcome.Failed, $"{lost.Reason} The browser cannot come back to it, so the provider's session may still be open.");
                break;
            case ListenerLost:
                break;
            case SignOutReturned:
                // Before the end-session URL went out (registering, preparing): no genuine return can carry this state,
                // and the listener spent it routing this one, so the step can no longer complete. It ends now, and the
                // tab gets its page (unanswered, it waited for the listener's timeout and then read a 504).
                _stateRegistered = false;
                Sender.Tell(CallbackPages.SignOutNotYetSent);
                End(ProviderSessionOutcome.Failed,
                    "The browser came back with this sign-out's state before its end-session URL was handed out, so it was refused; the provider's session may still be open.");
                break;
            case EndSessionSuperseded:
                End(ProviderSessionOutcome.Failed,
                    "A newer sign-out of the same account took over the provider's session step before this one's browser came back; its return is no longer awaited.");
                break;
            case EndSessionShutDown:
                End(ProviderSessionOutcome.Failed,
                    "The application is shutting down: the browser's return from the provider is no longer awaited, so the provider's session may still be open.");
                break;
            case BrowserLaunched or BrowserRefused:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void End(ProviderSessionOutcome outcome, string? reason)
    {
        if (_ended) return;
        _ended = true;
        _request.UrlTo?.TrySetResult(null); // ended before a URL was handed out: the caller must not wait for one
        Unregister();
        _replyTo.Tell(new ProviderSessionEnded(_request.RequestId, outcome, reason));
        // A PoisonPill, not Context.Stop (as a login does): it queues behind a return the listener already routed, which
        // then gets its page from Ended instead of vanishing into dead letters and leaving the browser to a 504.
        Become(Ended);
        Self.Tell(PoisonPill.Instance);
    }

    private void Ended(object message)
    {
        if (message is SignOutReturned) Sender.Tell(CallbackPages.SignOutAlreadyEnded);
        // everything else that arrives after the end is moot
    }

    private void Unregister()
    {
        if (!_stateRegistered) return;
        _stateRegistered = false;
        _context.Listener.Tell(new UnregisterState(_state, _request.RequestId));
    }
}
