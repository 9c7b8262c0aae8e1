using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Diagnostics;
using O8Actors.Flows;
using O8Actors.Hosting;

namespace O8Actors.Cluster;

/// <summary>
/// One login as a sharded entity. It hosts the core's unchanged <see cref="FlowActor"/> as its child and plays the
/// listener's part for that one login: it gives the child the server-mode redirect URI up front (and keeps the state
/// the child registers), hands a routed callback (once) to the child, whose page goes back to the node that holds the
/// browser's request, and sends the URL and the outcome to the node that began the login. It stops when the child ends.
/// </summary>
/// <remarks>
/// A successful login is remembered as its account here, before its outcome is reported or handled: the beginning node
/// may be gone by then, and its user's sign-in must not be lost with it.
/// Moved to another node (sharding's hand-off, <see cref="LoginHandOff"/>: its node leaves, or a rebalance) once its
/// callback has come, the login first finishes: the code is spent at the provider by then, so the login could only end
/// in failure anywhere else; its exchange is bounded by the login's exchange deadline, and sharding's hand-off timeout
/// (and, on a node that leaves, its shutdown phase) bounds the rest. A login still waiting for its callback moves at once
/// (it lives in memory: its caller hears <see cref="LoginFailure.NodeLost"/>). Stopped before it ended all the same, it
/// gives a browser waiting for its page the 503 of an interrupted sign-in (<see cref="ClusterPages.Interrupted"/>).
/// Sharding creates an entity for whatever id a message names. Only <see cref="BeginLogin"/> starts a login: any other
/// message reaching a fresh entity (a late or forged callback, a cancellation after the end) is answered as expired and
/// the entity stops, so a login is never resurrected.
/// </remarks>
internal sealed class LoginEntity : UntypedActor, IWithStash
{
    private const string ChildName = "login";
    private readonly string _entityId;
    private readonly Task<ClusterLoginNode> _node;
    // This node's O8Actors, once started: piped to the entity as NodeReady, never blocked on.
    private ClusterLoginNode? _ready;
    private ILoggingAdapter? _log;
    private IActorRef? _flow;
    private IActorRef? _replyTo;
    private string _loginId = "";
    private string _provider = "";
    private string? _partition;
    private AuthorizationRequest _request = AuthorizationRequest.Default;
    // The login's full state while it waits for its callback; cleared when one is handed on (single use) or the login ends.
    private byte[]? _state;
    private bool _ended;
    // The outcome the login reached, while its account is being remembered (reported once that is done).
    private LoginOutcome? _unreported;
    // The login's actor stopped while its outcome waited to be reported: the entity stops once it is.
    private bool _flowStopped;
    // The browser request waiting for the login's page, once its callback was handed on: told if the login is stopped
    // before it ends (the login's actor leaves that to this entity, which knows why it stops).
    private IActorRef? _callbackFrom;
    // Sharding is moving this entity: it stops once its login has ended and reported, instead of passivating.
    private bool _handingOff;
    // Stopped by a hand-off while it waited for its callback: its outcome says it was moved (see NodeLost).
    private bool _movedWhileWaiting;

    /// <summary>Creates the entity; use <see cref="Props"/>.</summary>
    public LoginEntity(string entityId, Task<ClusterLoginNode> node)
    {
        _entityId = entityId;
        _node = node;
    }

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    /// <summary>Props for the entity <paramref name="entityId"/>; <paramref name="node"/> completes once this node's O8Actors has started.</summary>
    public static Props Props(string entityId, Task<ClusterLoginNode> node) => Akka.Actor.Props.Create(() => new LoginEntity(entityId, node));

    private sealed record NodeReady(ClusterLoginNode Node);

    private sealed record NodeFailed(string Reason);

    /// <summary>The login's outcome once its account is remembered (with it), or once remembering failed (without it: <paramref name="Failure"/> names why).</summary>
    private sealed record AccountRemembered(LoginOutcome Outcome, string? Failure = null);

    /// <inheritdoc />
    protected override void PreStart()
    {
        // Usually complete already (one message's hop); right after the node joined, O8Actors may still be starting.
        // Either way the entity stashes until it has its node's parts.
        _node.PipeTo(Self, success: n => new NodeReady(n), failure: e => new NodeFailed(e.GetType().Name));
        Become(WaitingForNode);
    }

    /// <summary>The login's actor is stopped when it throws (<see cref="FlowActor.ParentStrategy"/>); its watch (below) reports it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => FlowActor.ParentStrategy;

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped before its login ended (hand-off when its node leaves, the node shutting down): the beginning node must
        // still get an outcome. The child's own PostStop answers a browser that is waiting.
        if (_replyTo is not null && !_ended)
        {
            _replyTo.Tell(new LoginEnded(_loginId, WireOutcome.From(NodeLost(_loginId, _movedWhileWaiting))));
            _callbackFrom?.Tell(ClusterPages.Interrupted with { LoginId = _loginId });
        }
        // Stopped while its account was being remembered: the tokens are valid, so they are reported, without an account
        // (as a login whose tokens could not be stored ends on a single node).
        else if (_unreported is { } unreported)
            Report(unreported);
    }

    private void WaitingForNode(object message)
    {
        switch (message)
        {
            case NodeReady ready:
                _ready = ready.Node;
                Become(OnReceive);
                Stash.UnstashAll();
                break;
            case NodeFailed failed:
                Log.Error("Login entity {0}: O8Actors did not start on this node ({1})", _entityId, failed.Reason);
                Become(OnReceive);
                Stash.UnstashAll();
                break;
            case LoginHandOff:
                // Nothing has started here yet (O8Actors is still starting on a node that just joined), and what this
                // entity stashed would die with it: its callers are answered instead of waiting out their timeouts.
                AnswerStashedAtHandOff();
                Context.Stop(Self);
                break;
            default:
                Stash.Stash();
                break;
        }
    }

    /// <summary>
    /// Moved before its node's O8Actors started: a stashed begin's caller hears <see cref="LoginFailure.NodeLost"/> (as a
    /// login waiting for its callback does when it moves), not the gateway's "no node took this login" after its begin
    /// timeout; a stashed callback, which no login here has checked, gets the 503 of an interrupted sign-in.
    /// </summary>
    private void AnswerStashedAtHandOff()
    {
        foreach (var stashed in Stash.ClearStash())
        {
            switch (stashed.Message)
            {
                case BeginLogin begin:
                    begin.ReplyTo.Tell(new LoginEnded(begin.LoginId, WireOutcome.From(NodeLost(begin.LoginId, moved: true))));
                    break;
                case RoutedCallback:
                    stashed.Sender.Tell(ClusterPages.Interrupted);
                    break;
            }
        }
    }

    /// <summary>Fresh: only <see cref="BeginLogin"/> starts a login.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case BeginLogin begin when _ready is { } node:
                Start(begin, node);
                break;
            case BeginLogin begin:
                // O8Actors failed to start on this node: the login cannot run here.
                begin.ReplyTo.Tell(new LoginEnded(begin.LoginId, WireOutcome.From(new LoginFailed(begin.LoginId, LoginFailure.ListenerUnavailable,
                    "O8Actors is not running on the node that received this login."))));
                Stop();
                break;
            case RoutedCallback:
                // No login here: it ended, expired or never existed. Sharding made this entity for the callback alone.
                RefuseUnknown();
                Stop();
                break;
            case LoginHandOff:
                Context.Stop(Self);
                break;
            default:
                Stop();
                break;
        }
    }

    private void Start(BeginLogin begin, ClusterLoginNode node)
    {
        _replyTo = begin.ReplyTo;
        _loginId = begin.LoginId;
        _provider = begin.Provider;
        _partition = begin.Request.Partition;
        _request = begin.Request;
        // The node's redirect URI is known here, so the login registers its state with this entity without waiting for an answer.
        var context = new FlowContext(node.Login, Self, node.Providers, ServerModeBrowserLauncher.Instance, Self, node.BindingVerifier, node.RedirectUri,
            ServerMode: true);
        var start = new FlowStart(context, begin.LoginId, begin.Provider, begin.Request, default, begin.Binding)
        {
            StatePrefix = _entityId,
            AuthorizeUrlTo = Self,
            ParentAnswersWhenStopped = true,
        };
        _flow = Context.ActorOf(FlowActor.Props(start, node.FlowTemplate), ChildName);
        Context.Watch(_flow);
        // At once, not with the URL: the provider's discovery or pushed request may take longer than the begin's timeout.
        _replyTo.Tell(new LoginTaken(_loginId));
        Become(Running);
    }

    private void Running(object message)
    {
        switch (message)
        {
            case RegisterState register when Sender.Equals(_flow):
                _state = Encoding.UTF8.GetBytes(register.State);
                // The child was given the URI, so it does not ask; one that asks is answered, as the listener would.
                if (register.Acknowledge) Sender.Tell(new StateRegistered(register.LoginId, _ready!.RedirectUri));
                break;
            case UnregisterState:
                _state = null;
                break;
            case AuthorizeUrlReadyEvent ready:
                _replyTo!.Tell(new LoginUrlReady(_loginId, ready.AuthorizeUrl));
                break;
            case RoutedCallback callback:
                OnCallback(callback);
                break;
            case LoginOutcome outcome:
                _ended = true;
                _state = null;
                RememberThenReport(outcome);
                break;
            case AccountRemembered remembered when _unreported is not null:
                _unreported = null;
                // Type only: an exception's message may quote what it was given.
                if (remembered.Failure is { } failure)
                    Log.Warning("Login {0}: its tokens could not be remembered as its account ({1}); reported without one", _loginId, failure);
                Report(remembered.Outcome);
                if (_flowStopped) StopEntity();
                break;
            case CancelLogin:
                _flow!.Tell(new CancelFlow(_loginId));
                break;
            case LoginHandOff:
                HandOff();
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_flow):
                if (!_ended)
                {
                    // The FlowActor always reports before it stops; one that did not has crashed.
                    _ended = true;
                    Log.Error("Login {0} stopped without an outcome; reporting it as failed", _loginId);
                    _replyTo!.Tell(new LoginEnded(_loginId, WireOutcome.From(new LoginFailed(_loginId, LoginFailure.Internal,
                        "The login stopped unexpectedly (internal error)."))));
                    _callbackFrom?.Tell(CallbackPages.LoginGone with { LoginId = _loginId });
                }

                // The login's actor stops right after its outcome: a passivation now would lose the remembered answer.
                if (_unreported is not null) _flowStopped = true;
                else StopEntity();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Waiting for sharding to stop it: a callback still gets a page.</summary>
    private void Stopping(object message)
    {
        if (message is RoutedCallback) RefuseUnknown();
        else if (message is LoginHandOff) Context.Stop(Self);
    }

    /// <summary>
    /// Sharding moves this entity. A login whose callback has come (its code is at the provider, or its outcome is being
    /// reported) finishes first; one still waiting for its callback cannot move (it lives in memory) and stops now.
    /// </summary>
    private void HandOff()
    {
        if (_callbackFrom is null && !_ended)
        {
            _movedWhileWaiting = true;
            Context.Stop(Self);
            return;
        }

        _handingOff = true;
        Log.Info("Login {0}: its entity is being moved to another node; it finishes its callback first", _loginId);
    }

    private void OnCallback(RoutedCallback callback)
    {
        // The entity id is public (it is in the state's prefix); the state's secret part is what proves the callback
        // belongs to this login. Compared in constant time, and single use: the state is gone before the code is used.
        if (_state is null || !CryptographicOperations.FixedTimeEquals(_state, Encoding.UTF8.GetBytes(callback.State)))
        {
            // One page whether the login's state is spent, ended or not yet registered, and the same one the entity
            // gives once it is stopping: a replay's page must not depend on how far the entity's stop has come.
            RefuseUnknown();
            return;
        }

        _state = null;
        _callbackFrom = Sender;
        // Forwarded: the login's page goes straight back to the node that holds the browser's request.
        _flow!.Forward(new AuthorizationCallback(_loginId, callback.Code, callback.Error, callback.ErrorDescription, callback.Issuer, callback.Path)
        {
            BrowserSecrets = callback.BrowserSecrets,
        });
    }

    /// <summary>
    /// Answers a callback no login here takes (a replay, a late or forged one) with the expired page, and counts it as the
    /// single node's listener counts a state it does not hold: once, here on the entity's node, where it is decided.
    /// </summary>
    private void RefuseUnknown()
    {
        O8Metrics.CallbackRejected(O8Metrics.UnknownStateReason);
        Sender.Tell(ClusterPages.ExpiredOrUnknown);
    }

    /// <summary>
    /// Reports <paramref name="outcome"/> at once, or, for a success, once its tokens are remembered as its account (off
    /// this actor: the account's entity may run on another node, and stores them).
    /// </summary>
    private void RememberThenReport(LoginOutcome outcome)
    {
        if (outcome is not LoginSucceeded || _ready!.RememberAccount is not { } remember)
        {
            Report(outcome);
            return;
        }

        _unreported = outcome;
        // The remembering itself asks with the accounts' renewal timeout and answers a store failure with the outcome
        // without its account; what else fails (a bug) still ends with the outcome, never with silence.
        remember(outcome, _provider, _request).PipeTo(Self,
            success: remembered => new AccountRemembered(remembered),
            failure: e => new AccountRemembered(outcome, e.GetType().Name));
    }

    /// <summary>Sends the outcome to the node that began the login, and runs the app's outcome handler here.</summary>
    private void Report(LoginOutcome outcome)
    {
        // Too large for the remoting frame, it would be dropped and the caller told NodeLost: a failure says why
        // instead. The outcome handler here still gets the outcome itself.
        var replyTo = _replyTo!;
        replyTo.Tell(OutcomeFrame.Fit(Context.System, _ready!.RemoteFrameBytes, replyTo, new LoginEnded(_loginId, WireOutcome.From(outcome)), Log));
        RunOutcomeHandler(outcome);
    }

    private void StopEntity()
    {
        // Being moved, the shard waits for this entity to stop (and holds its messages meanwhile): no passivation to ask.
        if (_handingOff)
        {
            Context.Stop(Self);
            return;
        }

        Stop();
        Become(Stopping);
    }

    /// <summary>The app's outcome handler, here on the node where the login ended, off this actor (it does I/O).</summary>
    private void RunOutcomeHandler(LoginOutcome outcome)
    {
        var node = _ready!;
        if (node.OutcomeHandler is not { } handler) return;
        _ = OutcomeHandlerRun.Start(handler, new ClusterLoginEnded(_loginId, _provider, _partition, outcome), node.Terminating, Log);
    }

    /// <summary>The outcome of a login whose node stopped or left before it ended.</summary>
    /// <param name="loginId">The login's id.</param>
    /// <param name="moved">
    /// Sharding moved the login's entity (a rebalance after a node joined, or its node leaving): not said to be a node that
    /// stopped, which would send an operator scaling out after a crash that never happened.
    /// </param>
    internal static LoginFailed NodeLost(string loginId, bool moved = false) => new(loginId, LoginFailure.NodeLost, moved
        ? "The login was moved to another node (the cluster rebalanced as a node joined or left) while it waited for its browser; " +
          "a login waiting for its callback lives in memory and cannot move. Start the sign-in again."
        : "The node running this login stopped or left the cluster before the login ended. Start the sign-in again.");

    /// <summary>Asks the shard to stop this entity (messages already on their way are buffered and find a fresh one).</summary>
    private void Stop() => Context.Parent.Tell(new Passivate(PoisonPill.Instance));
}
