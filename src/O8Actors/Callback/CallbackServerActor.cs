using Akka.Actor;
using Akka.Event;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using O8Actors.Certificates;
using O8Actors.Configuration;
using O8Actors.Diagnostics;

namespace O8Actors.Callback;

/// <summary>
/// Owns the loopback redirect listener (Kestrel on 127.0.0.1, and on [::1] too for the host <c>localhost</c> or
/// <c>[::1]</c>; one port for every login) and the table
/// <c>state → FlowActor</c>. States are single use: a callback removes its state before it reaches the login, so a
/// replay gets a 400 page. Stray requests never reach this actor. It starts Kestrel without blocking (stashing
/// messages until bound); when it cannot start it stays alive and refuses registrations with the reason.
/// </summary>
/// <remarks>
/// A routed callback is forwarded to the login, so the login answers the browser request's <c>Ask</c> itself (its
/// sender is the Ask). A login that stops after the callback reached it answers from its PostStop; a callback that
/// reaches a login already gone is answered by the <see cref="O8Actors.Flows.UndeliveredLoginWatcher"/>; a login that
/// never answers leaves the browser a 504 when the Ask times out. A registrant is DeathWatched, to forget its states
/// if it dies without unregistering, only if it asked to be (<see cref="RegisterState.WatchRegistrant"/>): a FlowActor
/// unregisters itself when it stops and does not ask. Over https with certificate files, a periodic timer has the
/// <see cref="CertificateWatch"/> keep the served certificate current (files replaced, or near its end).
/// <para>With <c>o8.listener.start = on-first-use</c> it starts unbound and binds when something first needs it (a
/// <see cref="RegisterState"/> or a <see cref="BindListener"/>); what arrives while it binds is stashed and answered by
/// that one bind. A failed bind answers those with its failure and leaves the actor unbound again, so the next need
/// binds afresh; status questions are answered at once meanwhile, never held behind a bind.</para>
/// <para>With <c>while-needed</c> it binds the same way and releases the port again once idle (<c>CallbackServerActor.Release.cs</c>).</para>
/// </remarks>
internal sealed partial class CallbackServerActor : ReceiveActor, IWithStash, IWithTimers
{
    private const string CertificateCheckTimer = "certificate-check";
    private const string CertificateCheckTimeoutTimer = "certificate-check-timeout";

    private readonly O8Options _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly CertificateProvider _certificates;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Registration> _states = new(StringComparer.Ordinal);
    // Watched registrants → how many of their states are registered.
    private readonly Dictionary<IActorRef, int> _watched = new();
    private readonly List<IActorRef> _stopRequesters = new();
    private readonly CancellationTokenSource _lifetime = new();
    private Task<ListenerStarted>? _starting;
    private bool _startConsumed;
    private WebApplication? _app;
    private ServedCertificate? _servedCertificate;
    private CertificateWatch? _certificateWatch;
    private Uri? _redirectUri;
    private OAuthFlowException? _failure;
    // o8.listener.start = on-first-use or while-needed: bind when first needed, and again after a failed bind (or a release).
    private readonly bool _onFirstUse;
    // o8.listener.start = while-needed: release the port once nothing has waited for a callback for a while.
    private readonly bool _releaseWhenIdle;

    /// <summary>Creates the actor; use <see cref="Props(O8Options, ILoggerFactory?, CertificateProvider?)"/>.</summary>
    public CallbackServerActor(O8Options options, ILoggerFactory? loggerFactory, CertificateProvider certificates)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _certificates = certificates;
        _onFirstUse = options.Listener.Start != ListenerStart.AtStart && options.Listener.ExternalRedirectUri is null;
        _releaseWhenIdle = options.Listener.Start == ListenerStart.WhileNeeded && options.Listener.ExternalRedirectUri is null;
        if (_onFirstUse) Unbound();
        else Starting();
    }

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the listener actor.</summary>
    /// <param name="options">Validated here; the listener, certificate and login (exchange timeout) settings are used.</param>
    /// <param name="loggerFactory">Receives Kestrel's own logs; null keeps Kestrel silent (the actor logs through Akka).</param>
    /// <param name="certificates">Finds, and later renews, the https certificate; null is <see cref="CertificateProvider.Default"/>.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public static Props Props(O8Options options, ILoggerFactory? loggerFactory = null, CertificateProvider? certificates = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var provider = certificates ?? CertificateProvider.Default;
        return Akka.Actor.Props.Create(() => new CallbackServerActor(options, loggerFactory, provider));
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        if (_options.Listener.ExternalRedirectUri is { } external)
        {
            // Server mode: no Kestrel here; the host app's pipeline hands callbacks in (MapOAuthCallback).
            _startConsumed = true;
            _redirectUri = external;
            // The base, not a redirect URI to register: each provider's is its own path under it (GetRedirectUriAsync).
            _log.Info("Callback routing in server mode; callback base {0} (each provider's redirect URI is a path under it)", external);
            Become(Bound);
            return;
        }

        if (_onFirstUse)
        {
            _log.Info("Callback listener binds when first needed (o8.listener.start = {0}); nothing bound yet",
                _releaseWhenIdle ? "while-needed" : "on-first-use");
            return;
        }

        BeginBind();
    }

    /// <summary>Starts Kestrel; its result comes back as <see cref="ListenerStarted"/> or <see cref="ListenerStartFailed"/>.</summary>
    private void BeginBind()
    {
        var self = Self;
        var handler = new CallbackRequestHandler(self, _options.Listener.Path, O8Actors.Providers.ExchangeTimeouts.BrowserWait(_options.Login.ExchangeTimeout), _log,
            localReplies: ((ExtendedActorSystem)Context.System).Provider);
        var options = _options;
        var loggerFactory = _loggerFactory;
        var certificates = _certificates;
        var token = _lifetime.Token;
        _startConsumed = false;
        // Off the actor thread entirely: reading PEM files and running mkcert are blocking or slow.
        _starting = Task.Run(() => CallbackListenerHost.StartAsync(options, handler.HandleAsync, loggerFactory, token, certificates), token);
        _starting.PipeTo(self, success: started => started, failure: ex => new ListenerStartFailed(Unwrap(ex)));
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Cancelled, not disposed: a start still running holds the token.
        _lifetime.Cancel();
        if (_app is { } app)
        {
            // Fallback when the actor is stopped without StopListener: release the port without blocking.
            _app = null;
            _ = ShutDownAsync(app, _servedCertificate);
        }
        else if (!_startConsumed && _starting is { } starting)
        {
            // Stopped while Kestrel was still starting: dispose whatever the start produces.
            _ = ShutDownOnceStartedAsync(starting);
        }

        base.PostStop();
    }

    /// <summary>
    /// On first use, before the first bind and after a failed one: the first registration or <see cref="BindListener"/>
    /// binds (and is answered once the bind has ended); nothing else needs the port.
    /// </summary>
    private void Unbound()
    {
        Receive<RegisterState>(_ => BindForThis());
        Receive<BindListener>(_ => BindForThis());
        // The last bind's failure, if it failed: it is what the next bind will likely meet again.
        Receive<GetListenerStatus>(_ => Sender.Tell(new ListenerStatus(false, null, 0, _failure)));
        Receive<UnregisterState>(_ => { });
        // A check that ran while a while-needed listener released its port: its certificate is served by nobody.
        IgnoreCertificateChecks();
        // No Kestrel, so only another node's search could get here; a login it names is not on this node.
        Receive<CallbackReceived>(c => Sender.Tell(c.Search ? CallbackPages.Malformed : CallbackPages.LoginGone));
        Receive<StopListener>(_ =>
        {
            Sender.Tell(ListenerStopped.Instance);
            Context.Stop(Self);
        });
    }

    private void BindForThis()
    {
        // Kept for the bind's end: answered in Bound (registered) or in Failed (refused with the bind's failure).
        Stash.Stash();
        _log.Info("Callback listener binding on first use");
        BeginBind();
        Become(Starting);
    }

    private void Starting()
    {
        // A health probe or a status call must not wait out a bind (mkcert, a certificate lock) that it did not ask for.
        if (_onFirstUse) Receive<GetListenerStatus>(_ => Sender.Tell(new ListenerStatus(false, null, 0, null)));
        Receive<ListenerStarted>(started =>
        {
            _startConsumed = true;
            // This bind succeeded: an earlier one's failure is no longer how the listener stands once it is unbound again
            // (a while-needed release), and must not make it look failed.
            _failure = null;
            _app = started.App;
            _servedCertificate = started.Certificate;
            _redirectUri = _options.Listener.RedirectUriOn(started.Port);
            WatchCertificate(started);
            _log.Info("Callback listener bound on 127.0.0.1:{0}{1} ({2}); callback base {3} (each provider's redirect URI is a path under it)", started.Port,
                started.IPv6 ? $" and [::1]:{started.Port}" : "", _options.Listener.Scheme, _redirectUri);
            Become(Bound);
            Stash.UnstashAll();
            // Bound for a BindListener alone, the port is released after the wait too; a registration behind it keeps it.
            ReleaseLaterIfIdle();
        });
        Receive<ListenerStartFailed>(failed =>
        {
            _startConsumed = true;
            _failure = CallbackListenerHost.Classify(failed.Cause, _options.Listener.Port);
            Become(Failed);
            Stash.UnstashAll();
            if (!_onFirstUse)
            {
                _log.Error("Callback listener could not start: {0}", _failure.Message);
                return;
            }

            // Everything already in the mailbox asked while this bind ran and gets its failure; what comes after the
            // marker binds afresh (the port may be free by then, the certificate made).
            _log.Warning("Callback listener could not bind on first use: {0} The calls that waited for it fail; the next one binds again.", _failure.Message);
            Self.Tell(BindAttemptOver.Instance);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bound()
    {
        Receive<RegisterState>(Register);
        Receive<UnregisterState>(Unregister);
        Receive<CallbackReceived>(Route);
        Receive<Terminated>(t => ForgetFlow(t.ActorRef));
        AnswerStatus(() => new ListenerStatus(true, _redirectUri, _states.Count, null));
        Receive<StopListener>(_ => BeginStop());
        Receive<ReleaseIfIdle>(_ => Release());
        Receive<CheckCertificate>(_ => CheckCertificateNow());
        Receive<CertificateChecked>(found =>
        {
            if (found.Check == _certificateWatch!.Running) Timers.Cancel(CertificateCheckTimeoutTimer);
            _certificateWatch.Apply(found, Context.System.Scheduler.Now, _log);
        });
        Receive<CertificateCheckTimedOut>(timedOut => _certificateWatch!.TimedOut(timedOut.Check, _log));
    }

    private void Stopping() => Stopping("stopped; port released", "stopped uncleanly");

    /// <summary>Kestrel is stopping for good; <paramref name="clean"/> and <paramref name="unclean"/> end the log line.</summary>
    private void Stopping(string clean, string unclean)
    {
        Receive<StopListener>(_ => _stopRequesters.Add(Sender));
        Receive<RegisterState>(r => Sender.Tell(new StateRegistrationRefused(r.LoginId, "The redirect listener is stopping.")));
        Receive<UnregisterState>(Unregister);
        // Another cluster node searching for a sign-out's return is told "not here" (uncounted, as when bound): a 503 would
        // pass for the answer and hide the node that holds the return.
        Receive<CallbackReceived>(c => Sender.Tell(c.Search ? CallbackPages.Malformed : CallbackPages.ShuttingDown));
        Receive<Terminated>(t => ForgetFlow(t.ActorRef));
        AnswerStatus(() => new ListenerStatus(false, null, _states.Count, null));
        IgnoreCertificateChecks();
        Receive<ListenerShutDown>(down =>
        {
            LogShutDown(down, clean, unclean);
            StopAndAnswerStoppers();
        });
    }

    /// <summary>
    /// Kestrel is stopping: a tick queued before the timer was cancelled starts nothing; a check that was running when the
    /// stop began found a certificate nobody will serve.
    /// </summary>
    private void IgnoreCertificateChecks()
    {
        Receive<CheckCertificate>(_ => { });
        Receive<CertificateChecked>(found => found.Discard());
        Receive<CertificateCheckTimedOut>(_ => { });
    }

    private void LogShutDown(ListenerShutDown down, string clean, string unclean)
    {
        if (down.Failure is null) _log.Info("Callback listener {0}", clean);
        else _log.Warning("Callback listener {0}: {1}: {2}", unclean, down.Failure.GetType().Name, down.Failure.Message);
    }

    private void StopAndAnswerStoppers()
    {
        foreach (var requester in _stopRequesters) requester.Tell(ListenerStopped.Instance);
        Context.Stop(Self);
    }

    private void Failed()
    {
        Receive<RegisterState>(r => Sender.Tell(new StateRegistrationRefused(r.LoginId, _failure!.Message, _failure)));
        AnswerStatus(() => new ListenerStatus(false, null, 0, _failure));
        Receive<StopListener>(_ =>
        {
            Sender.Tell(ListenerStopped.Instance);
            Context.Stop(Self);
        });
        Receive<CallbackReceived>(_ => Sender.Tell(CallbackPages.LoginGone));
        Receive<UnregisterState>(_ => { });
        // A check of the certificate served before a while-needed release, which ended after the fresh bind failed.
        IgnoreCertificateChecks();
        // On first use only: the failed bind has answered everything that waited for it.
        Receive<BindAttemptOver>(_ => Become(Unbound));
    }

    /// <summary>
    /// Answers a status question and a <see cref="BindListener"/> alike with this state's <paramref name="status"/>: a
    /// listener that is bound, stopping or failed has no bind to start, so a bind request is told how the listener stands.
    /// </summary>
    private void AnswerStatus(Func<ListenerStatus> status)
    {
        Receive<GetListenerStatus>(_ => Sender.Tell(status()));
        Receive<BindListener>(_ => Sender.Tell(status()));
    }

    private void WatchCertificate(ListenerStarted started)
    {
        // A certificate given in code has no files to follow, and its renewal is its owner's.
        if (started.Certificate is not { } served || started.CertificateFiles is not { } files) return;
        _certificateWatch = new CertificateWatch(_certificates, _options, served, files, _loggerFactory);
        Timers.StartPeriodicTimer(CertificateCheckTimer, CheckCertificate.Instance, CertificateWatch.Interval);
    }

    private void CheckCertificateNow()
    {
        // Off the actor thread (file reads, mkcert); a tick while a check runs starts none. A check that hangs (mkcert) is
        // cancelled after its timeout, on this actor's clock, so that the ticks after it check again.
        if (_certificateWatch?.Begin(Context.System.Scheduler.Now, _lifetime.Token) is not { } check) return;
        var number = _certificateWatch.Running;
        Timers.StartSingleTimer(CertificateCheckTimeoutTimer, new CertificateCheckTimedOut(number), CertificateWatch.CheckTimeout);
        check.PipeTo(Self, failure: ex => new CertificateChecked("") { Failure = Unwrap(ex), Check = number });
    }

    private void Register(RegisterState register)
    {
        if (string.IsNullOrEmpty(register.State))
        {
            Sender.Tell(new StateRegistrationRefused(register.LoginId, "The state must not be empty."));
            return;
        }

        var flow = Sender;
        if (_states.TryGetValue(register.State, out var existing) && !existing.Flow.Equals(flow))
        {
            // Two logins with one state would let one steal the other's code: refuse the newcomer.
            _log.Warning("Callback listener refused a duplicate state registration for login {0}", register.LoginId);
            Sender.Tell(new StateRegistrationRefused(register.LoginId, "That state is already registered by another login."));
            return;
        }

        if (existing is null)
        {
            _states[register.State] = new Registration(flow, register.LoginId, register.WatchRegistrant, register.ForSignOut);
            if (register.WatchRegistrant) Watch(flow);
            KeepBound();
        }

        if (register.Acknowledge) Sender.Tell(new StateRegistered(register.LoginId, _redirectUri!));
    }

    private void Unregister(UnregisterState unregister)
    {
        if (!_states.TryGetValue(unregister.State, out var registration) || registration.LoginId != unregister.LoginId) return;
        ForgetState(unregister.State);
        if (registration.Watch) Unwatch(registration.Flow);
    }

    private void Route(CallbackReceived callback)
    {
        // A login takes only a code or an error; a sign-out only the provider's return, which carries neither.
        var isReturn = callback.Code is null && callback.Error is null;
        if (!_states.TryGetValue(callback.State, out var registration))
        {
            // A return nobody waits for is the malformed request it always was; a code or an error, an unknown state.
            // Debug: any local process can send these (the metric counts them); a Warning each would flood the app's log.
            if (isReturn) RefuseMalformed(counted: !callback.Search);
            else
            {
                _log.Debug("Callback listener rejected a callback: unknown or already used state");
                O8Metrics.CallbackRejected(O8Metrics.UnknownStateReason);
                Sender.Tell(CallbackPages.UnknownState);
            }
            return;
        }

        if (registration.ForSignOut != isReturn)
        {
            // The other shape for this state: refused, and the state stays (a leaked sign-out state feeds no code to the
            // app, a login's state ends no login with a bare return).
            RefuseMalformed(counted: !callback.Search);
            return;
        }

        // Single use: the state is gone before the login sees the code, so a replay finds nothing. Forwarded: the
        // login's answer goes straight to the browser request that asked.
        ForgetState(callback.State);
        if (registration.Watch) Unwatch(registration.Flow);
        _log.Debug("Callback listener routing a callback to {0}", registration.LoginId);
        if (isReturn)
        {
            registration.Flow.Tell(new SignOutReturned(registration.LoginId, callback.Path), Sender);
            return;
        }

        registration.Flow.Tell(new AuthorizationCallback(registration.LoginId, callback.Code, callback.Error, callback.ErrorDescription, callback.Issuer,
            callback.Path) { BrowserSecrets = callback.BrowserSecrets }, Sender);
    }

    private void RefuseMalformed(bool counted)
    {
        if (counted)
        {
            _log.Debug("Callback listener rejected a callback: neither code nor error, or a code or an error for a sign-out");
            O8Metrics.CallbackRejected(O8Metrics.MissingCodeAndErrorReason);
        }
        Sender.Tell(CallbackPages.Malformed);
    }

    private void ForgetFlow(IActorRef flow)
    {
        // Only a watched registrant that died without unregistering gets here, so a scan of the table is rare.
        if (!_watched.Remove(flow)) return;
        foreach (var state in _states.Where(e => e.Value.Flow.Equals(flow)).Select(e => e.Key).ToList())
            ForgetState(state);
    }

    private void Watch(IActorRef flow)
    {
        if (_watched.TryGetValue(flow, out var states))
        {
            _watched[flow] = states + 1;
            return;
        }

        _watched.Add(flow, 1);
        Context.Watch(flow);
    }

    private void Unwatch(IActorRef flow)
    {
        if (!_watched.TryGetValue(flow, out var states)) return;
        if (states > 1)
        {
            _watched[flow] = states - 1;
            return;
        }

        _watched.Remove(flow);
        Context.Unwatch(flow);
    }

    private void BeginStop()
    {
        _stopRequesters.Add(Sender);
        Become(Stopping);
        ShutDownServer();
    }

    /// <summary>Stops Kestrel and its timers; <see cref="ListenerShutDown"/> comes back once the port is released.</summary>
    private void ShutDownServer()
    {
        if (_app is null)
        {
            // Server mode: no port of our own to release.
            Self.Tell(new ListenerShutDown(null));
            return;
        }

        Timers.Cancel(CertificateCheckTimer);
        Timers.Cancel(CertificateCheckTimeoutTimer);
        Timers.Cancel(IdleReleaseTimer);
        // A check still running would otherwise go on (up to its timeout, which was just cancelled) past a release.
        _certificateWatch?.GiveUp();
        var app = _app!;
        var certificate = _servedCertificate;
        _app = null;
        _servedCertificate = null;
        // Disposal ran either way, so the port is released even when the stop was not clean.
        ShutDownAsync(app, certificate).PipeTo(Self,
            success: () => new ListenerShutDown(null),
            failure: ex => new ListenerShutDown(Unwrap(ex)));
    }

    /// <summary>Disposes what a start still under way produces; a start that fails leaves nothing to dispose.</summary>
    private static async Task ShutDownOnceStartedAsync(Task<ListenerStarted> starting)
    {
        ListenerStarted started;
        try
        {
            started = await starting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return; // reported (or not) by the start itself; nothing was bound
        }

        await ShutDownAsync(started.App, started.Certificate).ConfigureAwait(false);
    }

    private static async Task ShutDownAsync(WebApplication app, ServedCertificate? certificate)
    {
        try
        {
            await CallbackListenerHost.StopAsync(app).ConfigureAwait(false);
        }
        finally
        {
            certificate?.Dispose();
        }
    }

    private static Exception Unwrap(Exception ex) =>
        ex is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : ex;

    private sealed record Registration(IActorRef Flow, string LoginId, bool Watch, bool ForSignOut);

}
