using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Diagnostics;
using O8Actors.Providers;

namespace O8Actors.Flows;

/// <summary>
/// One login's state machine: registering its <c>state</c> with the listener → preparing the authorize URL →
/// awaiting the callback (browser launched, deadline running) → exchanging the code → ended.
/// Every path ends in exactly one <see cref="LoginOutcome"/>, sent once to <c>outcomeTo</c>; then the actor stops.
/// A device login (RFC 8628) runs its own phases in the same actor (<c>FlowActor.Device.cs</c>).
/// </summary>
/// <remarks>
/// Each phase is a behaviour (<c>Become</c>); an <see cref="UntypedActor"/> rather than a <c>ReceiveActor</c>, whose
/// <c>Become</c> builds a whole handler table anew: thousands of logins wait at once, and here a phase change costs one
/// delegate.
/// </remarks>
internal sealed partial class FlowActor : UntypedActor, IWithTimers
{
    private const string DeadlineTimer = "deadline";
    private const string ExchangeTimer = "exchange-deadline";

    private readonly FlowStart _start;
    private readonly FlowSecrets _secrets;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private CancellationTokenSource? _browserCancellation;
    private ILoggingAdapter? _log;
    private Activity? _activity;
    private Uri? _redirectUri;
    // The path a callback to _redirectUri arrives with (decoded, as the listener passes it), computed once per login.
    private string? _redirectPath;
    // The login's DPoP key when its provider binds tokens (RFC 9449): the exchange signs with it; the tokens keep it.
    private Dpop.DpopKey? _dpopKey;
    // Whether the authorize request carried this login's challenge: the verifier goes to the token endpoint exactly then.
    private bool _pkceUsed;
    // With max_age (StepUp): the earliest sign-in (auth_time) the ID token may show, fixed when the login starts; null: not checked.
    private DateTimeOffset? _authenticatedNotBefore;
    // With acr_values (the login's own among its provider's, else either's): the acr values the ID token may show; null: not checked.
    private IReadOnlyList<string>? _acceptedAcrValues;
    private ProviderDescriptor _descriptor = ProviderDescriptor.Static;
    private IActorRef? _callbackResponder;
    private long _callbackAt;
    private bool _ended;
    // The provider has this login's PrepareAuthorization and has not answered: parked while it discovers its metadata, or
    // its pushed request (RFC 9126) queued. A login that ends then takes it back, so no push goes out for it.
    private bool _preparing;
    // Cancelled by an account that holds a newer sign-in of the grant: tokens still on their way are dropped (CancelFlow).
    private bool _dropLateTokens;
    // Whether the listener holds this login's state: exactly while a browser login waits for its redirect (not before it
    // registered, nor after a callback spent the state, a refusal, or a switch to the device grant; never for a device login).
    private bool _stateRegistered;
    // When the login's deadline passes (before a device code sets a deadline of its own): what the provider's queue drops a
    // device code request by.
    private DateTimeOffset _deadline;

    /// <summary>Props for one login.</summary>
    /// <param name="flowId">The login's public id.</param>
    /// <param name="provider">The provider's registered name.</param>
    /// <param name="request">Scopes, timeout and extra parameters.</param>
    /// <param name="options">Login defaults (timeout, exchange timeout, PKCE).</param>
    /// <param name="listener">The <see cref="CallbackServerActor"/>.</param>
    /// <param name="providers">The <see cref="ProviderRegistryActor"/> (or one provider actor).</param>
    /// <param name="browser">Opens the authorize URL.</param>
    /// <param name="outcomeTo">Receives the one <see cref="LoginOutcome"/>.</param>
    public static Props Props(string flowId, string provider, AuthorizationRequest request, LoginOptions options,
        IActorRef listener, IActorRef providers, IBrowserLauncher browser, IActorRef outcomeTo) =>
        Props(flowId, provider, request, options, listener, providers, browser, outcomeTo, default);

    /// <summary>Props for one login whose <c>o8.login</c> span is a child of <paramref name="parent"/>.</summary>
    internal static Props Props(string flowId, string provider, AuthorizationRequest request, LoginOptions options,
        IActorRef listener, IActorRef providers, IBrowserLauncher browser, IActorRef outcomeTo, ActivityContext parent) =>
        Props(new FlowStart(new FlowContext(options, listener, providers, browser, outcomeTo), flowId, provider, request, parent));

    /// <summary>Props for one login described by <paramref name="start"/> (server mode: with its verifier and browser binding).</summary>
    internal static Props Props(FlowStart start) => Props(start, DefaultTemplate);

    /// <summary>
    /// Props for one login, deployed as <paramref name="template"/> says (<see cref="Template"/>: the supervisor's flow
    /// dispatcher, whose configuration names the login's mailbox).
    /// </summary>
    internal static Props Props(FlowStart start, Props template) => new FlowProps(template, start);

    /// <summary>
    /// The deployment every login of one supervisor shares, built once: on <paramref name="dispatcher"/> when given.
    /// </summary>
    /// <remarks>
    /// Built once because Akka builds every <see cref="Deploy"/> (<c>Props.WithDispatcher</c>, <c>WithDeploy</c>) with
    /// a parse of an empty HOCON document: per login that was a parse and about 30 more methods for the JIT to tier up.
    /// </remarks>
    internal static Props Template(string? dispatcher) => dispatcher is null ? DefaultTemplate : DefaultTemplate.WithDispatcher(dispatcher);

    private static readonly Props DefaultTemplate = Akka.Actor.Props.CreateBy(TemplateProducer.Instance);

    /// <summary>
    /// How a login's parent (the supervisor, or a cluster login's entity) supervises it: stopped when it throws, never
    /// restarted, unlike Akka's default. A new incarnation would mint a new state and announce a second authorize URL,
    /// the browser's redirect with the first state would be refused, and the login would hang until its deadline. The
    /// parent's watch then reports the login as failed.
    /// </summary>
    internal static readonly SupervisorStrategy ParentStrategy = new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>
    /// One login's props: a copy of its supervisor's template (its deployment, no new one) that constructs the login's
    /// actor directly.
    /// </summary>
    /// <remarks>
    /// Not the reflective forms (<c>Props.Create(() => new FlowActor(start))</c> or type-and-arguments): those construct
    /// each actor through <c>Activator.CreateInstance</c>, whose constructor lookup and invoke stub live in the runtime's
    /// per-type reflection cache — a cache the runtime holds weakly, so after a full GC it is rebuilt and its stub
    /// compiled again. Under sustained logins that was a JIT compilation after every gen-2 collection, for as long as the
    /// app runs (measured: 17 recompiled stubs in 8,000 logins).
    /// </remarks>
    private sealed class FlowProps(Props template, FlowStart start) : Props(template)
    {
        // Through a producer, as Akka's analyzer asks (AK1000: an actor is constructed only by props or a producer).
        private readonly Producer _producer = new(start);

        public override ActorBase NewActor() => _producer.Produce();

        protected override Props Copy() => new FlowProps(base.Copy(), start);
    }

    /// <summary>Creates one login's actor by its constructor, no reflection.</summary>
    private sealed class Producer(FlowStart start) : IIndirectActorProducer
    {
        public Type ActorType => typeof(FlowActor);

        public ActorBase Produce() => new FlowActor(start);

        public void Release(ActorBase actor)
        {
        }
    }

    /// <summary>The producer of the templates: it names the actor type (Akka reads it) and creates no actor itself.</summary>
    private sealed class TemplateProducer : IIndirectActorProducer
    {
        public static readonly TemplateProducer Instance = new();

        public Type ActorType => typeof(FlowActor);

        public ActorBase Produce() => throw new InvalidOperationException("A login's props create its actor; their template does not.");

        public void Release(ActorBase actor)
        {
        }
    }

    // Only through Props: Akka calls NewActor once per incarnation.
    private FlowActor(FlowStart start)
    {
        _start = start;
        _secrets = FlowSecrets.Create(start.StatePrefix);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan Timeout => _start.Request.Timeout ?? _start.Context.Options.Timeout;

    /// <summary>How this login signs the user in: the request's method, else the configured <c>o8.login.method</c>.</summary>
    private LoginMethod Method => _start.Request.Method ?? _start.Context.Options.Method;

    /// <summary>The deadline in force: the login's timeout, or a device login's (bounded by its code's lifetime).</summary>
    private TimeSpan EffectiveTimeout => _deviceTimeout ?? Timeout;

    // Created on first use: a logger per actor costs its path string, and most logins never log.
    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    private sealed record Deadline
    {
        public static Deadline Instance { get; } = new();
    }

    private sealed record ExchangeDeadline
    {
        public static ExchangeDeadline Instance { get; } = new();
    }

    private sealed record BrowserLaunchCompleted(BrowserLaunchResult Launch);

    /// <summary>The launcher refused the authorize URL (not https, nor http on loopback): the login cannot go on.</summary>
    private sealed record BrowserLaunchRefused(string Reason);

    /// <inheritdoc />
    protected override void PreStart()
    {
        // The caller's activity (carried by StartFlow) is the parent; without one the span is a root. StartActivity makes
        // the span current on this thread, which the next actor to run here must not inherit: restore what was there.
        var ambient = Activity.Current;
        Activity.Current = null;
        _activity = O8Metrics.ActivitySource.StartActivity("o8.login", ActivityKind.Internal, _start.Parent);
        Activity.Current = ambient;
        _activity?.SetTag("o8.login_id", _start.LoginId);
        _activity?.SetTag("o8.provider", _start.Provider);
        O8Metrics.LoginsStarted.Add(1);
        O8Metrics.LoginsInFlight.Add(1);
        Publish(new LoginStartedEvent(_start.LoginId, _start.Provider) { LoginHint = _start.Request.Parameters.GetValueOrDefault("login_hint") });

        // The deadline covers the whole wait for the user, from the first moment.
        Timers.StartSingleTimer(DeadlineTimer, Deadline.Instance, Timeout);
        _deadline = Context.System.Scheduler.Now + Timeout;
        if (StepUp.Requested(_start.Request))
        {
            // The sign-in must be this recent: the ID token's auth_time is checked against the moment the login started.
            if (StepUp.MaxAgeOf(_start.Request) is { } maxAge) _authenticatedNotBefore = Context.System.Scheduler.Now - maxAge;
            if (Method != LoginMethod.Browser)
            {
                // A device login cannot carry them (the app's configured method, or Auto): this one uses the browser.
                Choose(LoginMethod.Browser, "the login asks for max_age or acr_values, which only a browser login carries");
                RegisterWithListener();
                return;
            }
        }

        switch (Method)
        {
            case LoginMethod.Device:
                StartDevice("the login asked for the device grant");
                return;
            case LoginMethod.Auto when (_start.Context.Browser as IBrowserAvailability)?.UnavailableReason is { } headless:
                StartDevice($"no browser can be opened here: {headless}");
                return;
            case LoginMethod.Auto:
                Choose(LoginMethod.Browser, "a browser can be opened here");
                break;
        }
        RegisterWithListener();
    }

    /// <summary>
    /// Registers the login's state with the listener. Where the listener's redirect URI is already known
    /// (<see cref="FlowContext.RedirectUri"/>) the login goes straight on to its authorize URL and hears from the listener
    /// only if it refuses (in any phase); otherwise it waits for <see cref="StateRegistered"/> in the registering phase.
    /// </summary>
    /// <remarks>
    /// This actor unregisters itself in End and in PostStop unless its callback already spent the state (and answers a
    /// waiting browser there), so the listener need not DeathWatch it while it waits: a watch costs every waiting login
    /// about 400 bytes.
    /// </remarks>
    private void RegisterWithListener()
    {
        var known = _start.Context.RedirectUri;
        if (known is null)
        {
            // The listener has not bound yet (o8.listener.start = on-first-use or while-needed): the provider is asked
            // first whether it would take this login, so a refusal binds no port and is not hidden behind a listener that
            // cannot start (no certificate, the port taken), and an Auto login the provider sends to the device grant gets there.
            _start.Context.Providers.Tell(new CheckBrowserLogin(_start.Provider, _start.LoginId, StepUp.AuthorizeParameters(_start.Request)));
            Become(CheckingPhase);
            return;
        }
        TellListenerTheState(acknowledge: false);
        AskForAuthorizeUrl(known);
    }

    /// <summary>
    /// Registers the login's state with the listener; <paramref name="acknowledge"/>: the listener answers once bound
    /// (<see cref="StateRegistered"/>, with its redirect URI), else only when it refuses.
    /// </summary>
    private void TellListenerTheState(bool acknowledge)
    {
        _stateRegistered = true;
        _start.Context.Listener.Tell(new RegisterState(_secrets.State, _start.LoginId, WatchRegistrant: false, Acknowledge: acknowledge));
    }

    /// <summary>Asks the provider for the authorize URL, with the listener's redirect URI; the login then waits for it.</summary>
    private void AskForAuthorizeUrl(Uri redirectUri)
    {
        _redirectUri = redirectUri;
        // Always offered: the provider puts it on the URL unless it cannot take it or o8.login.pkce = off and its client is confidential.
        _start.Context.Providers.Tell(new PrepareAuthorization(_start.Provider, _start.LoginId, _secrets.State,
            FlowSecrets.ChallengeFor(_secrets.CodeVerifier), redirectUri, _start.Request.ScopeList, StepUp.AuthorizeParameters(_start.Request),
            _secrets.Nonce) { PkceOffForConfidentialClient = !_start.Context.Options.Pkce, AccountKey = _start.Request.AccountKey });
        _preparing = true;
        Become(PreparingPhase);
    }

    /// <summary>
    /// The listener removes a state when it routes a callback for it (states are single use), so a login that has had
    /// its callback has nothing left to unregister: one message fewer per login.
    /// </summary>
    private void StateSpentByCallback() => _stateRegistered = false;

    private void UnregisterFromListener()
    {
        if (!_stateRegistered) return;
        _stateRegistered = false;
        _start.Context.Listener.Tell(new UnregisterState(_secrets.State, _start.LoginId));
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        CancelBrowserLaunch();
        if (!_ended)
        {
            // Stopped from outside (parent stopping, or a bug threw): the supervisor reports the outcome; still keep
            // the counts true, free the state and give a waiting browser its page instead of a hung tab.
            O8Metrics.LoginsInFlight.Add(-1);
            UnregisterFromListener();
            // Its preparation may wait for the provider's discovery, where nothing watches it: taken back, so no pushed
            // request (RFC 9126) goes out for a login that is gone (a cluster hand-off, the parent stopping).
            if (_preparing) _start.Context.Providers.Tell(new WithdrawExchange(_start.Provider, _start.LoginId));
            if (!_start.ParentAnswersWhenStopped) _callbackResponder?.Tell(CallbackPages.LoginGone);
        }
        _activity?.Dispose();
    }

    /// <summary>The first phase: registering the state with the listener.</summary>
    protected override void OnReceive(object message) => Live(Registering(message), message);

    // The behaviours; each phase handler answers what it knows, and every live phase answers the deadline and cancellation.
    private void CheckingPhase(object message) => Live(Checking(message), message);
    private void RegisteringPhase(object message) => Live(Registering(message), message);
    private void PreparingPhase(object message) => Live(Preparing(message), message);
    private void AwaitingCallbackPhase(object message) => Live(AwaitingCallback(message), message);
    private void ExchangingPhase(object message) => Live(Exchanging(message), message);

    private void Live(bool handled, object message)
    {
        if (!handled && !Ending(message)) Unhandled(message);
    }

    private bool Checking(object message)
    {
        switch (message)
        {
            case BrowserLoginAccepted:
                // The provider would take it: the listener binds for it and answers with its redirect URI.
                TellListenerTheState(acknowledge: true);
                Become(RegisteringPhase);
                return true;
            case ProviderUnavailable msg:
                Refused(msg);
                return true;
            default:
                return false;
        }
    }

    private bool Registering(object message)
    {
        switch (message)
        {
            case StateRegistered msg:
                AskForAuthorizeUrl(msg.RedirectUri);
                return true;
            case AuthorizationCallback:
                EndOnEarlyCallback();
                return true;
            default:
                return false;
        }
    }

    private bool Preparing(object message)
    {
        switch (message)
        {
            case AuthorizationPrepared msg:
                _preparing = false;
                _descriptor = msg.Descriptor;
                // The provider's own redirect URI (its path under the listener's): sent again with the code, and the
                // only path on which this login accepts its callback.
                _redirectUri = msg.RedirectUri;
                _redirectPath = RedirectPaths.RequestPathOf(msg.RedirectUri);
                _dpopKey = msg.DpopKey;
                _pkceUsed = msg.PkceUsed;
                HoldToProviderStepUp(msg.RequiredStepUp);
                var ready = new AuthorizeUrlReadyEvent(_start.LoginId, _start.Provider, msg.AuthorizeUrl);
                Publish(ready);
                _start.AuthorizeUrlTo?.Tell(ready); // immutable: one event for the stream and the cluster entity
                _browserCancellation = new CancellationTokenSource();
                BrowserLaunchPipe.Start(_start.Context.Browser, msg.AuthorizeUrl, _browserCancellation.Token, Self,
                    launched: r => new BrowserLaunchCompleted(r), refused: reason => new BrowserLaunchRefused(reason));
                Become(AwaitingCallbackPhase);
                return true;
            case ProviderUnavailable msg:
                _preparing = false;
                Refused(msg);
                return true;
            case AuthorizationCallback:
                EndOnEarlyCallback();
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The provider will not prepare this browser login. Where Auto chose the browser because one can be opened here but
    /// the provider redeems no browser login's code (a public GitHub client), the device grant is the way this login can
    /// sign in; otherwise it fails with the provider's reason.
    /// </summary>
    private void Refused(ProviderUnavailable msg)
    {
        if (msg.DeviceMayServe && Method == LoginMethod.Auto && DeviceGrantMayServe)
        {
            UnregisterFromListener();
            StartDevice("the provider redeems a browser login's code only for a client with a secret; this one has none");
            return;
        }
        End(new LoginFailed(_start.LoginId, msg.Failure, msg.Reason));
    }

    /// <summary>
    /// The login's ID token is held to its provider's step-up (<paramref name="required"/>) as to its own: of two
    /// <c>max_age</c> the shorter, counted from now (the authorize request goes out now); an <c>acr</c> among the login's
    /// own <c>acr_values</c> and the provider's alike (a login narrows the provider's requirement, never widens it; the
    /// provider actor put the same values on the request).
    /// </summary>
    private void HoldToProviderStepUp(StepUp.Requirement? required)
    {
        _acceptedAcrValues = StepUp.AcceptedAcrValues(StepUp.AcrValuesOf(_start.Request), required);
        if (required?.MaxAge is not { } maxAge) return;
        var notBefore = Context.System.Scheduler.Now - maxAge;
        if (_authenticatedNotBefore is null || notBefore > _authenticatedNotBefore) _authenticatedNotBefore = notBefore;
    }

    /// <summary>
    /// A callback with this login's state before its authorize URL was handed out. No genuine redirect can carry it (the
    /// state is minted per login and nobody outside this process has seen it yet), so the state leaked or a bug replayed
    /// it; the listener spent it routing this request (states are single use), so the login can no longer finish. It
    /// ends at once with a clear failure and a 400 page, rather than open a browser for a sign-in whose redirect would be
    /// refused and then wait for its deadline. Its code, if any, is never used.
    /// </summary>
    private void EndOnEarlyCallback()
    {
        StateSpentByCallback();
        _callbackResponder = Sender;
        End(new LoginFailed(_start.LoginId, LoginFailure.InvalidCallback,
            "A redirect carried this login's state before its authorize URL was handed out, so it was refused; start the sign-in again."));
    }

    private bool AwaitingCallback(object message)
    {
        switch (message)
        {
            case AuthorizationCallback msg:
                OnCallback(msg);
                return true;
            case BrowserLaunchRefused msg:
                // A provider (or an OAuthFlow subclass) built a URL that would start another program: fail, loudly.
                End(new LoginFailed(_start.LoginId, LoginFailure.UnsafeAuthorizeUrl, msg.Reason));
                return true;
            case BrowserLaunchCompleted msg:
                if (!msg.Launch.Launched) Log.Warning("Login {0}: no browser opened ({1}); it waits for its redirect, should the user open the authorize URL another way", _start.LoginId, msg.Launch.Detail);
                Publish(new BrowserLaunchedEvent(_start.LoginId, _start.Provider, msg.Launch.Launched, msg.Launch.Detail));
                if (!msg.Launch.Launched && Method == LoginMethod.Auto) TryDeviceInstead(msg.Launch.Detail);
                return true;
            default:
                return DeviceFallback(message);
        }
    }

    private void OnCallback(AuthorizationCallback msg)
    {
        StateSpentByCallback();
        _callbackResponder = Sender;
        _callbackAt = Stopwatch.GetTimestamp();
        var refused = NotThisProvidersAnswer(msg);
        // The event carries the redirect's error only once the redirect is known to be this provider's answer in this
        // browser: another server's or another browser's words are not shown as this provider's refusal.
        Publish(new CallbackReceivedEvent(_start.LoginId, _start.Provider, msg.Code is not null, refused is null ? msg.Error : null));
        if (refused is not null)
        {
            End(refused);
            return;
        }

        if (msg.Error is not null)
        {
            End(new LoginDenied(_start.LoginId, msg.Error, msg.ErrorDescription));
            return;
        }

        if (string.IsNullOrEmpty(msg.Code))
        {
            End(new LoginFailed(_start.LoginId, LoginFailure.InvalidCallback, "The redirect carried neither a code nor an error."));
            return;
        }

        // The user is back: the login deadline no longer applies; the exchange has its own.
        Timers.Cancel(DeadlineTimer);
        var exchangeDeadline = ExchangeTimeouts.LoginDeadline(_start.Context.Options.ExchangeTimeout);
        Timers.StartSingleTimer(ExchangeTimer, ExchangeDeadline.Instance, exchangeDeadline);
        _start.Context.Providers.Tell(new ExchangeCode(_start.Provider, _start.LoginId, msg.Code, _pkceUsed ? _secrets.CodeVerifier : null, _redirectUri!,
            _activity?.Context ?? default, _secrets.Nonce, Context.System.Scheduler.Now + exchangeDeadline, _dpopKey, _authenticatedNotBefore, _acceptedAcrValues)
        {
            Scopes = _start.Request.ScopeList,
        });
        Become(ExchangingPhase);
    }

    /// <summary>
    /// Why the redirect is not this provider's answer in this login's browser, checked before anything it carries is
    /// believed (its code, its error); null when it is.
    /// </summary>
    private LoginFailed? NotThisProvidersAnswer(AuthorizationCallback msg)
    {
        // First of all: a response on another provider's redirect path was sent by another authorization server (the
        // mix-up of RFC 9700 section 4.4.2), whatever it says of itself. Its code is never used.
        if (msg.Path is { } path && !string.Equals(path, _redirectPath, StringComparison.Ordinal))
            return new LoginFailed(_start.LoginId, LoginFailure.RedirectMismatch,
                $"The response arrived at '{path}', not at this login's redirect path '{_redirectPath}' (provider '{_start.Provider}'): " +
                "it was sent by another authorization server (mix-up defence, RFC 9700 section 4.4). Start the sign-in again.");

        // Then: a redirect that came back in another browser than the one that started this login is not this user's
        // answer (RFC 9700 section 4.7.1), whatever it carries; its code must never reach the token endpoint.
        if (BrowserProblem(msg) is { } browserProblem)
            return new LoginFailed(_start.LoginId, LoginFailure.BrowserMismatch, browserProblem);

        // Before the error, too (RFC 9207 section 2.4): an error from another authorization server must not pass for
        // this provider's refusal, nor its words be shown as this provider's.
        return IssuerProblem(msg.Issuer) is { } issuerProblem ? new LoginFailed(_start.LoginId, LoginFailure.IssuerMismatch, issuerProblem) : null;
    }

    /// <summary>
    /// Server mode: a bound login accepts only a callback that presents its browser's secret (the cookie set by
    /// <c>BeginAsync</c>, or the secret the app kept in its session), checked in constant time. Null when it may go on.
    /// </summary>
    private string? BrowserProblem(AuthorizationCallback msg)
    {
        if (_start.Binding is not { } binding) return null; // not bound (loopback mode): the listener's own rules apply
        if (msg.BrowserSecrets is null || !msg.BrowserSecrets.TryGetValue(_start.LoginId, out var presented))
            return "The callback came from a browser that did not start this login (it presented no browser binding for it); the code was not used.";
        if (_start.Context.BindingVerifier is not { } verifier)
            return "This login is bound to a browser but no browser-binding verifier is configured; the code was not used.";
        switch (verifier.Check(binding, presented))
        {
            case Binding.BrowserBindingCheck.Matches:
                return null;
            case Binding.BrowserBindingCheck.KeyUnreadable:
                // Every login begun on another instance fails so when the instances do not share their key ring: say
                // why, or it reads as a forged callback (to the user, the page still says the browser could not be
                // confirmed).
                Log.Warning("Login {0}: its browser binding could not be checked: this instance cannot read the key that protected it; " +
                             "share one ASP.NET Core Data Protection key ring across the app's instances and nodes", _start.LoginId);
                return "The callback's browser binding could not be checked: this instance cannot read the key that protected it (the " +
                       "login was begun where another ASP.NET Core Data Protection key ring is in use: share one key ring across the app's " +
                       "instances and nodes); the code was not used.";
            default:
                return "The callback came from a browser that did not start this login (its browser binding did not match); the code was not used.";
        }
    }

    /// <summary>
    /// RFC 9207: an <c>iss</c> that is present must equal the provider's known issuer; a missing one is refused where the
    /// provider promises it. An <c>iss</c> on a login whose provider's issuer is unknown is refused too: this provider
    /// was never said to send one, so it names another authorization server (the mix-up of RFC 9700 section 4.4),
    /// which is also how an <c>iss</c> naming another registered provider is caught.
    /// </summary>
    private string? IssuerProblem(string? issuer)
    {
        var expected = _descriptor.Issuer;
        if (issuer is null)
            return _descriptor.RequiresIssuer ? "The redirect carried no 'iss' parameter, but the provider always sends one (RFC 9207)." : null;
        if (string.IsNullOrEmpty(expected))
            return $"The redirect names issuer '{issuer}', but the issuer of provider '{_start.Provider}' is unknown, so it may come from " +
                "another authorization server (RFC 9207 mix-up defence). If that is this provider's issuer, configure it as the provider's Issuer " +
                "(in an OAuthFlow subclass: override Issuer).";
        if (!string.Equals(issuer, expected, StringComparison.Ordinal))
            return $"The redirect came from issuer '{issuer}', not '{expected}' (RFC 9207 mix-up defence).";
        return null;
    }

    private bool Exchanging(object message)
    {
        switch (message)
        {
            case CodeExchanged msg:
                Publish(new TokensExchangedEvent(_start.LoginId, _start.Provider));
                End(new LoginSucceeded(_start.LoginId, msg.Tokens));
                return true;
            case CodeExchangeFailed msg:
                End(new LoginFailed(_start.LoginId, msg.Failure, msg.Reason, msg.ProviderError) { Cause = msg.Cause });
                return true;
            case AuthorizationCallback:
                // The listener routes a state once; a second callback can only be a replay and never starts a second exchange.
                Sender.Tell(CallbackPages.AlreadyUsed);
                return true;
            case ExchangeDeadline:
                End(new LoginFailed(_start.LoginId, LoginFailure.ExchangeTimeout,
                    $"The token exchange did not finish within {_start.Context.Options.ExchangeTimeout.TotalSeconds:0.#} seconds."));
                return true;
            case CancelFlow msg:
                // The code may be spent at the provider: tokens on their way that nobody will take. The caller hears at
                // once; the login stays for the answer and revokes what it brings (RFC 7009), so no live grant is left
                // that the app does not know of (a provider may drop the user's oldest grant for it, or count it).
                _dropLateTokens = msg.DropLateTokens;
                End(new LoginCancelled(_start.LoginId), awaitSpentCode: true);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Ended (cancelled, or a device login's deadline) with its code or a device poll perhaps at the provider: waits for
    /// the answer, revokes any tokens and waits for that too (a shutdown waits for this login, so the revocation is sent
    /// before the system goes), then stops.
    /// </summary>
    private void AwaitingSpentCode(object message)
    {
        switch (message)
        {
            case CodeExchanged msg:
                RevokeUnclaimedOrStop(msg.Tokens);
                break;
            case DeviceTokenPolled { Poll: { Status: DevicePollStatus.Issued, Tokens: { } tokens } }:
                RevokeUnclaimedOrStop(tokens);
                break;
            case CodeExchangeFailed or DeviceTokenPolled or ExchangeDeadline:
                Self.Tell(PoisonPill.Instance);
                break;
            case RevocationDone msg:
                if (msg.Outcome == RevocationOutcome.Failed)
                    Log.Warning("Login {0} with {1}: the tokens its cancelled exchange brought were not revoked ({2}); they live until they expire",
                        _start.LoginId, _start.Provider, msg.Reason);
                Self.Tell(PoisonPill.Instance);
                break;
            case CancelFlow { DropLateTokens: true }:
                // Cancelled earlier (its callers left), and now its account holds a newer sign-in of the same grant: what
                // the spent code still brings is dropped, not revoked (see CancelFlow.DropLateTokens).
                _dropLateTokens = true;
                break;
            default:
                Ended(message);
                break;
        }
    }

    /// <summary>Asks the provider to revoke tokens no caller will take and waits for its answer; stops when there are none.</summary>
    private void RevokeUnclaimedOrStop(TokenSet tokens)
    {
        var revoke = RevokeTokens.Of(tokens);
        if (revoke.Count == 0)
        {
            Self.Tell(PoisonPill.Instance);
            return;
        }

        if (_dropLateTokens)
        {
            Log.Info("Login {0} with {1}: ended with its token request at the provider; the tokens it brought are dropped, not revoked " +
                "(its account signed in through another login of the same grant)", _start.LoginId, _start.Provider);
            Self.Tell(PoisonPill.Instance);
            return;
        }

        Log.Info("Login {0} with {1}: ended with its token request at the provider; revoking the {2} token(s) the provider issued for it",
            _start.LoginId, _start.Provider, revoke.Count);
        _start.Context.Providers.Tell(new RevokeTokens(_start.Provider, $"revoke-{_start.LoginId}", revoke));
        // The revocation is one more token request: its answer within the same deadline as the exchange's.
        Timers.StartSingleTimer(ExchangeTimer, ExchangeDeadline.Instance, ExchangeTimeouts.LoginDeadline(_start.Context.Options.ExchangeTimeout));
    }

    /// <summary>
    /// What every live phase answers: the deadline, cancellation, the listener's refusal (which reaches a login that did
    /// not wait for the registration's answer in a later phase) and late browser results.
    /// </summary>
    private bool Ending(object message)
    {
        switch (message)
        {
            case StateRegistrationRefused when !_stateRegistered:
                // A refusal of a registration this login has withdrawn since (it went on with the device grant, which needs
                // no listener; the refusal came late, through the dead-letter watcher): nothing of this login is refused.
                return true;
            case StateRegistrationRefused msg:
                // Refused: the listener holds no state of this login, so there is nothing to unregister. A bind that failed
                // (on first use) goes along, so the caller gets the exception a start would have thrown.
                _stateRegistered = false;
                End(new LoginFailed(_start.LoginId, LoginFailure.ListenerUnavailable, msg.Reason) { ListenerFailure = msg.Cause as OAuthFlowException });
                return true;
            // A device poll on its way may bring tokens the user just approved: the login stays for its answer and revokes
            // them, as a browser login cancelled mid-exchange does (Exchanging answers CancelFlow itself).
            case Deadline:
                EndTimedOut();
                return true;
            case CancelFlow msg:
                _dropLateTokens = msg.DropLateTokens;
                End(new LoginCancelled(_start.LoginId), awaitSpentCode: PollInFlight);
                return true;
            case ListenerLost msg:
                // Only a login still waiting for its redirect needs the listener: one whose callback came (its code is
                // being exchanged) or a device login (it never registered) goes on without it.
                if (_stateRegistered) End(new LoginFailed(_start.LoginId, LoginFailure.ListenerUnavailable, msg.Reason));
                return true;
            case BrowserLaunchCompleted msg:
                Publish(new BrowserLaunchedEvent(_start.LoginId, _start.Provider, msg.Launch.Launched, msg.Launch.Detail));
                return true;
            case DeviceCodeIssued or DeviceCodeRefused:
                _deviceCodeAsked = false;
                // Auto's device code, answered after the shown URL was used: the browser login goes on, and an unused
                // device code expires at the provider on its own.
                return true;
            default:
                return false;
        }
    }

    /// <summary>Ends the login as its deadline does (a device poll perhaps at the provider is waited for).</summary>
    private void EndTimedOut() =>
        End(new LoginTimedOut(_start.LoginId, EffectiveTimeout)
        {
            Waiting = _deviceTimeout is not null ? TimedOutWaiting.DeviceApproval
                : _deviceChosen ? TimedOutWaiting.DeviceCode
                // The redirect path is set with the authorize URL, when the browser is opened.
                : _redirectPath is null ? TimedOutWaiting.AuthorizeUrl
                : TimedOutWaiting.Redirect,
        }, awaitSpentCode: PollInFlight);

    private void End(LoginOutcome outcome, bool awaitSpentCode = false)
    {
        if (_ended) return;
        _ended = true;
        Timers.CancelAll();
        // Still queued at the provider, a code, a poll, a device-code request or a pushed request is taken back unsent (and
        // the answer says so); sent, it answers. An unused device code expires at the provider on its own, so this login
        // need not wait for it.
        if (awaitSpentCode || DeviceCodeMayBeQueued || _preparing) _start.Context.Providers.Tell(new WithdrawExchange(_start.Provider, _start.LoginId));
        if (awaitSpentCode)
        {
            Become(AwaitingSpentCode);
            Timers.StartSingleTimer(ExchangeTimer, ExchangeDeadline.Instance, ExchangeTimeouts.LoginDeadline(_start.Context.Options.ExchangeTimeout));
        }
        else
        {
            Become(Ended);
        }

        _callbackResponder?.Tell(PageFor(outcome) with { LoginId = _start.LoginId });
        _start.Context.OutcomeTo.Tell(outcome);
        UnregisterFromListener();

        var reason = ReasonOf(outcome);
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        var tag = O8Metrics.Outcome(outcome.Kind);
        O8Metrics.LoginsInFlight.Add(-1);
        if (outcome is LoginFailed failed) O8Metrics.LoginsEnded.Add(1, tag, O8Metrics.Reason(failed.Failure));
        else O8Metrics.LoginsEnded.Add(1, tag);
        O8Metrics.LoginDuration.Record(elapsed.TotalSeconds, tag);
        if (_callbackAt != 0) O8Metrics.CallbackToOutcome.Record(Stopwatch.GetElapsedTime(_callbackAt).TotalSeconds, tag);
        _activity?.SetTag("o8.outcome", O8Metrics.OutcomeTag(outcome.Kind));
        if (outcome.Kind != LoginOutcomeKind.Succeeded) _activity?.SetStatus(ActivityStatusCode.Error, reason);
        Publish(new LoginEndedEvent(_start.LoginId, _start.Provider, outcome.Kind, reason, elapsed));
        // Guarded by the system's level (AkkaLogLevel): the arguments are built and boxed before an adapter could drop
        // the line, and asking this actor's own adapter would create it (and its path string) per login.
        if (AkkaLogLevel.InfoEnabled(Context.System))
            Log.Info("Login {0} with {1} ended: {2}{3}", _start.LoginId, _start.Provider, outcome.Kind, reason is null ? "" : $" ({reason})");

        // A PoisonPill, not Context.Stop: it queues behind messages already in the mailbox, so a callback that raced
        // the deadline still gets its page (from Ended) instead of vanishing into dead letters.
        if (!awaitSpentCode) Self.Tell(PoisonPill.Instance);
    }

    private void Ended(object message)
    {
        switch (message)
        {
            case AuthorizationCallback:
                Sender.Tell(CallbackPages.AlreadyEnded);
                break;
            // Tokens that land between the end (the exchange deadline, with the request still running at the provider)
            // and the stop: live at the provider and nobody's. The provider actor that answered revokes them, as it does
            // for those that land after the stop (UndeliveredLoginWatcher); waiting here for them instead would keep an
            // ended login, and a shutdown, for another token request.
            case CodeExchanged { ForLogin: true } late when !Sender.IsNobody():
                RevokeLate(late.Tokens);
                break;
            case DeviceTokenPolled { Poll: { Status: DevicePollStatus.Issued, Tokens: { } issued } } when !Sender.IsNobody():
                RevokeLate(issued);
                break;
            // everything else that arrives after the end is moot
        }
    }

    private void RevokeLate(TokenSet tokens)
    {
        Log.Info("Login {0} with {1}: its token request was answered after the login ended; the provider revokes the tokens it issued",
            _start.LoginId, _start.Provider);
        Sender.Tell(new RevokeUnclaimedTokens(tokens));
    }

    /// <summary>A launcher may go on using its token after it returns (a scripted browser does): cancel it only at the end.</summary>
    private void CancelBrowserLaunch()
    {
        if (_browserCancellation is not { } cancellation) return;
        _browserCancellation = null;
        cancellation.Cancel();
        cancellation.Dispose();
    }

    private static string? ReasonOf(LoginOutcome outcome) => outcome switch
    {
        LoginDenied d => d.ErrorDescription is null ? d.Error : $"{d.Error}: {d.ErrorDescription}",
        LoginFailed f => f.Reason,
        LoginTimedOut t => t.Waiting switch
        {
            TimedOutWaiting.DeviceApproval => $"the user did not answer the device code within {t.Timeout.TotalSeconds:0.#} s",
            TimedOutWaiting.DeviceCode => $"the provider issued no device code within {t.Timeout.TotalSeconds:0.#} s",
            TimedOutWaiting.AuthorizeUrl => $"no authorize URL within {t.Timeout.TotalSeconds:0.#} s (no browser was opened)",
            _ => $"no callback within {t.Timeout.TotalSeconds:0.#} s",
        },
        _ => null,
    };

    /// <summary>The page a browser waiting on the callback gets for how the login ended (each failure kind has its status).</summary>
    internal static CallbackResponse PageFor(LoginOutcome outcome) => outcome switch
    {
        LoginSucceeded => CallbackPages.SignedIn,
        LoginDenied d => new CallbackResponse(403, CallbackPageKind.Denied,
            d.ErrorDescription is null ? $"The provider refused the authorization ({d.Error})." : $"The provider refused the authorization ({d.Error}): {d.ErrorDescription}"),
        LoginFailed { Failure: LoginFailure.InvalidCallback } f => new CallbackResponse(400, CallbackPageKind.Failed, f.Reason),
        // Their reasons quote the sender's words (the path the request arrived at, the iss it carried): not for the page.
        LoginFailed { Failure: LoginFailure.RedirectMismatch } => CallbackPages.NotTheCallbackAddress,
        LoginFailed { Failure: LoginFailure.IssuerMismatch } => CallbackPages.NotThisProvider,
        LoginFailed { Failure: LoginFailure.ExchangeTimeout } f => new CallbackResponse(504, CallbackPageKind.Failed, f.Reason),
        LoginFailed { Failure: LoginFailure.ExchangeQueueFull } f => new CallbackResponse(503, CallbackPageKind.Failed, f.Reason),
        LoginFailed { Failure: LoginFailure.TooManyPendingLogins or LoginFailure.TooManyPendingLoginsInPartition } f =>
            new CallbackResponse(429, CallbackPageKind.Failed, f.Reason),
        LoginFailed { Failure: LoginFailure.Internal } f => new CallbackResponse(500, CallbackPageKind.Failed, f.Reason),
        LoginFailed { Failure: LoginFailure.BrowserMismatch } => CallbackPages.OtherBrowser,
        LoginFailed f => new CallbackResponse(502, CallbackPageKind.Failed, f.Reason),
        LoginCancelled => new CallbackResponse(409, CallbackPageKind.Failed, "The application cancelled this login."),
        _ => CallbackPages.AlreadyEnded,
    };

    private void Publish(LoginEvent e)
    {
        // Before it is published: a subscriber may read it at once, on another thread.
        e.AccountKey = _start.Request.AccountKey;
        Context.System.EventStream.Publish(e);
    }
}
