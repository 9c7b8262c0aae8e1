using Akka.Actor;
using Akka.Event;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;

namespace O8Actors.Flows;

/// <summary>
/// The top-level actor that creates one <see cref="FlowActor"/> per login, relays each login's single outcome to
/// whoever started it, and guarantees an outcome even when a flow actor dies unexpectedly.
/// </summary>
/// <remarks>
/// Each child is named by its login id, so the supervisor keeps one table (login id → who waits for the outcome) and
/// finds a child by name. Thousands of logins wait at once; every reference kept per login is multiplied by them.
/// </remarks>
internal sealed class FlowsSupervisor : ReceiveActor
{
    // Every login's dispatcher (which names its mailbox) and the context its logins share: built once, not per login
    // (and again when the listener's redirect URI becomes known or is lost).
    private readonly Props _flowTemplate;
    private FlowContext _flowContext;
    // Login id → the waiter: a TaskCompletionSource<LoginOutcome> (IOAuthLogins) or the IActorRef that sent StartFlow.
    private readonly Dictionary<string, object> _waiters = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // Everyone who asked for CancelAllFlows and is not answered yet: each gets its answer once the last login has ended
    // (CoordinatedShutdown and a dispose can both ask). Once draining, new logins are refused as cancelled.
    private readonly List<IActorRef> _drainRequesters = [];
    // Logins cancelled with their code perhaps at the provider, and device logins timed out with a poll perhaps at it:
    // answered, but still alive to revoke what the provider's answer brings. A drain (shutdown) waits for them too, so the
    // revocation is sent before the system goes.
    private readonly HashSet<string> _endedStillRunning = new(StringComparer.Ordinal);
    private bool _draining;
    // Bounded work: the login count is _waiters.Count; logins with a partition are counted per partition there too.
    private readonly PendingLoginLimits _limits;
    // Sign-outs' browser steps running (children with generated names): each holds a state at the listener and two actors
    // for up to its timeout, as a login does. Bounded on their own by o8.login.max-pending (never taking a login's slot),
    // and one per account: a newer step of an account takes over from the one still waiting.
    private int _signOutSteps;
    private readonly Dictionary<OAuthAccount, IActorRef> _stepOfAccount = [];
    private readonly Dictionary<IActorRef, OAuthAccount> _accountOfStep = [];

    /// <summary>Props for the supervisor; <paramref name="bindingVerifier"/> checks server-mode logins' browser secrets.</summary>
    public static Props Props(LoginOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser,
        O8Actors.Binding.BrowserBindingVerifier? bindingVerifier = null, bool serverMode = false) =>
        Akka.Actor.Props.Create(() => new FlowsSupervisor(options, listener, providers, browser, bindingVerifier, serverMode));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public FlowsSupervisor(LoginOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser,
        O8Actors.Binding.BrowserBindingVerifier? bindingVerifier, bool serverMode)
    {
        // O8Actors' own systems always carry o8.conf; a bare actor system (a unit test) keeps Akka's defaults. The flow
        // dispatcher's configuration names the compact mailbox: Akka's default mailbox costs a waiting login about 1 KB
        // more (docs/benchmarks.md, "Standard forms"). The template carries it, so a login's props build no deployment.
        _flowTemplate = FlowActor.Template(O8Actors.Runtime.O8Dispatchers.FlowDispatcher(Context.System));
        _flowContext = new FlowContext(options, listener, providers, browser, Self, bindingVerifier, ServerMode: serverMode);
        _limits = new PendingLoginLimits(options, _log);

        Receive<StartFlow>(Start);
        Receive<LoginOutcome>(Relay);
        Receive<Terminated>(OnFlowStopped);
        Receive<CancelFlow>(msg => Context.Child(msg.LoginId).Tell(msg));
        Receive<CancelAllFlows>(_ =>
        {
            _draining = true;
            _drainRequesters.Add(Sender);
            foreach (var flowId in _waiters.Keys) Context.Child(flowId).Tell(new CancelFlow(flowId));
            // And every sign-out's browser step (the children with generated names): its account's actor waits for it, and a
            // dispose or host stop waits for the accounts (they may have a refresh at the token endpoint).
            foreach (var child in Context.GetChildren())
                if (child.Path.Name.StartsWith('$')) child.Tell(EndSessionShutDown.Instance);
            NotifyIfDrained();
        });
        Receive<ListenerStatus>(LearnRedirectUri);
        Receive<ListenerLost>(msg =>
        {
            // New logins wait for the listener's answer again, which is now a refusal.
            _flowContext = _flowContext with { RedirectUri = null };
            foreach (var flowId in _waiters.Keys) Context.Child(flowId).Tell(msg);
            // And every sign-out's browser step (the children with generated names): one waiting for the browser's
            // return would otherwise wait out its whole timeout, then blame the provider's post-logout redirect URIs.
            foreach (var child in Context.GetChildren())
                if (child.Path.Name.StartsWith('$')) child.Tell(msg);
        });
        Receive<GetFlowsInFlight>(_ => Sender.Tell(new FlowsInFlight(_waiters.Count)));
        Receive<EndProviderSession>(EndSession);
    }

    /// <summary>
    /// A sign-out's browser step runs as a child of its own. It always answers its requester itself (from
    /// <c>PostStop</c> at the latest), so it is watched only to be counted. Without a bound, a server's logout endpoint
    /// replayed in a loop held a state and two actors per call for the whole timeout: an account has one step at a time
    /// (a newer one takes over, so the browser sent last is the one awaited), and the steps of all accounts are bounded
    /// by <c>o8.login.max-pending</c> apart from the logins, so sign-outs never keep anyone from signing in.
    /// </summary>
    private void EndSession(EndProviderSession msg)
    {
        if (_draining)
        {
            Sender.Tell(new ProviderSessionEnded(msg.RequestId, ProviderSessionOutcome.Failed, "The application is shutting down."));
            return;
        }

        IActorRef? older = null;
        if (msg.Account is { } account && _stepOfAccount.Remove(account, out older))
        {
            _accountOfStep.Remove(older);
            older.Tell(EndSessionSuperseded.Instance);
        }

        // A step that takes over from its account's older one adds no step: only a new account's is bounded.
        if (older is null && _signOutSteps >= _flowContext.Options.MaxPending)
        {
            // Debug, not Warning: a flood of refusals must not become a flood of log lines (the caller's result says it).
            _log.Debug("Sign-out {0}: its browser step refused, o8.login.max-pending ({1}) is reached", msg.RequestId, _flowContext.Options.MaxPending);
            msg.UrlTo?.TrySetResult(null);
            Sender.Tell(new ProviderSessionEnded(msg.RequestId, ProviderSessionOutcome.Failed,
                $"Too many sign-outs wait for their browser: o8.login.max-pending ({_flowContext.Options.MaxPending}) is reached, " +
                "so the provider's session was not ended; sign out again once one has ended."));
            return;
        }

        // A generated name ("$…"): login ids may not start with '$', so it never takes a login's name.
        var step = Context.Watch(Context.ActorOf(EndSessionActor.Props(msg, _flowContext, Sender)));
        _signOutSteps++;
        if (msg.Account is { } signedOut)
        {
            _stepOfAccount[signedOut] = step;
            _accountOfStep[step] = signedOut;
        }
    }

    /// <summary>
    /// A login that throws is stopped (<see cref="FlowActor.ParentStrategy"/>), and so is a sign-out's step. The login's
    /// caller still gets an outcome: each login is watched, and one that stops without reporting is reported as failed.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => FlowActor.ParentStrategy;

    /// <inheritdoc />
    protected override void PreStart() =>
        // The listener answers once it is bound (it holds questions until then); until the answer, logins ask it themselves.
        _flowContext.Listener.Tell(GetListenerStatus.Instance);

    /// <summary>
    /// The listener's redirect URI never changes while the listener lives (it is stopped, never restarted, when it fails),
    /// so logins started from now on register their state without waiting for its answer: one message fewer each.
    /// </summary>
    private void LearnRedirectUri(ListenerStatus status)
    {
        if (status is { Bound: true, RedirectUri: { } redirectUri }) _flowContext = _flowContext with { RedirectUri = redirectUri };
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped (the actor system shuts down): a caller waiting on a completion must not wait forever.
        foreach (var (flowId, waiter) in _waiters)
            if (waiter is TaskCompletionSource<LoginOutcome> completion) completion.TrySetResult(new LoginCancelled(flowId) { ByShutdown = true });
        _waiters.Clear();
        _limits.Clear();
    }

    private void Start(StartFlow msg)
    {
        object waiter = msg.Completion is { } completion ? completion : Sender;
        if (_draining)
        {
            Deliver(waiter, new LoginCancelled(msg.LoginId) { ByShutdown = true });
            return;
        }

        if (FlowIdProblem(msg.LoginId) is { } problem)
        {
            var refused = new ArgumentException(problem, nameof(msg.LoginId));
            if (msg.Completion is { } c) c.TrySetException(refused);
            else Sender.Tell(new Status.Failure(refused));
            return;
        }

        // Server mode: a browser login nobody bound to a browser would accept its callback from any browser (a forwarded
        // authorize URL signs its receiver in), and its URL reaches no browser by itself (the launcher opens nothing).
        // Refused here, where every way of starting a login passes, so none can slip through.
        if (_flowContext.ServerMode && msg.Binding is null && UnboundLogins.MayUseBrowser(msg.Request, _flowContext.Options.Method))
        {
            var unbound = UnboundLogins.Refusal();
            if (msg.Completion is { } c) c.TrySetException(unbound);
            else Sender.Tell(new Status.Failure(unbound));
            return;
        }

        if (_limits.Refusal(msg.LoginId, msg.Request.Partition, _waiters.Count) is { } refusal)
        {
            Deliver(waiter, refusal);
            return;
        }

        var props = FlowActor.Props(new FlowStart(_flowContext, msg.LoginId, msg.Provider, msg.Request, msg.Parent, msg.Binding), _flowTemplate);
        var flow = Context.ActorOf(props, msg.LoginId);
        Context.Watch(flow);
        _waiters.Add(msg.LoginId, waiter);
        _limits.Started(msg.LoginId, msg.Request.Partition);
    }

    /// <summary>Removes a login from the table and its partition's count.</summary>
    private bool Forget(string flowId, out object waiter)
    {
        if (!_waiters.Remove(flowId, out waiter!)) return false;
        _limits.Ended(flowId);
        return true;
    }

    /// <summary>Why <paramref name="flowId"/> cannot name a login's actor, or null.</summary>
    private string? FlowIdProblem(string flowId)
    {
        // The name's check first: Context.Child reads "name#uid" and would throw on an id that is no actor name.
        if (!ActorPath.IsValidPathElement(flowId) || flowId.StartsWith('$'))
            return $"'{flowId}' cannot be a login id: use letters, digits and -_.*$+:@&=,!~';";
        if (_waiters.ContainsKey(flowId) || !Context.Child(flowId).IsNobody())
            return $"A login with id '{flowId}' is already running.";
        return null;
    }

    private void Relay(LoginOutcome outcome)
    {
        if (!Forget(outcome.LoginId, out var waiter)) return;
        if (outcome is LoginCancelled or LoginTimedOut { Waiting: TimedOutWaiting.DeviceApproval }) _endedStillRunning.Add(outcome.LoginId);
        // Cancelled by the drain (or by its caller just before it: that caller has left, and is told nothing new).
        if (_draining && outcome is LoginCancelled cancelled) outcome = cancelled with { ByShutdown = true };
        Deliver(waiter, outcome);
        NotifyIfDrained();
    }

    private void OnFlowStopped(Terminated msg)
    {
        // A login that ended normally was removed when its outcome arrived, which is always before this: Terminated
        // comes after every message the child sent. A live child of that name is a newer login that reused the id.
        var flowId = msg.ActorRef.Path.Name;
        if (flowId.StartsWith('$'))
        {
            // A sign-out's browser step (no login's name starts with '$'): it answered its requester itself.
            _signOutSteps--;
            if (_accountOfStep.Remove(msg.ActorRef, out var account)) _stepOfAccount.Remove(account);
            return;
        }

        var gone = Context.Child(flowId).IsNobody();
        if (gone) _endedStillRunning.Remove(flowId);
        if (gone && Forget(flowId, out var waiter))
        {
            _log.Error("Login {0} stopped without an outcome; reporting it as failed", flowId);
            Deliver(waiter, new LoginFailed(flowId, LoginFailure.Internal, "The login stopped unexpectedly (internal error)."));
        }
        NotifyIfDrained();
    }

    private static void Deliver(object waiter, LoginOutcome outcome)
    {
        if (waiter is TaskCompletionSource<LoginOutcome> completion) completion.TrySetResult(outcome);
        else ((IActorRef)waiter).Tell(outcome);
    }

    private void NotifyIfDrained()
    {
        if (_drainRequesters.Count == 0 || _waiters.Count > 0 || _endedStillRunning.Count > 0) return;
        foreach (var requester in _drainRequesters) requester.Tell(new FlowsInFlight(0));
        _drainRequesters.Clear();
    }
}
