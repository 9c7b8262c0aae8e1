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
/// Every path ends in exactly one <see cref="FlowOutcome"/>, sent once to <c>outcomeTo</c>; then the actor stops.
/// </summary>
public sealed class FlowActor : ReceiveActor, IWithTimers
{
    private const string DeadlineTimer = "deadline";
    private const string ExchangeTimer = "exchange-deadline";

    private readonly string _flowId;
    private readonly string _provider;
    private readonly AuthorizationRequest _request;
    private readonly FlowOptions _options;
    private readonly IActorRef _listener;
    private readonly IActorRef _providers;
    private readonly IBrowserLauncher _browser;
    private readonly IActorRef _outcomeTo;
    private readonly FlowSecrets _secrets = FlowSecrets.Create();
    private readonly CancellationTokenSource _browserCancellation = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly TimeSpan _timeout;
    private Activity? _activity;
    private Uri? _redirectUri;
    private ProviderDescriptor _descriptor = ProviderDescriptor.Static;
    private IActorRef? _callbackResponder;
    private long _callbackAt;
    private bool _ended;

    /// <summary>Props for one login.</summary>
    /// <param name="flowId">The login's public id.</param>
    /// <param name="provider">The provider's registered name.</param>
    /// <param name="request">Scopes, timeout and extra parameters.</param>
    /// <param name="options">Flow defaults (timeout, exchange timeout, PKCE).</param>
    /// <param name="listener">The <see cref="CallbackServerActor"/>.</param>
    /// <param name="providers">The <see cref="ProviderRegistryActor"/> (or one provider actor).</param>
    /// <param name="browser">Opens the authorize URL.</param>
    /// <param name="outcomeTo">Receives the one <see cref="FlowOutcome"/>.</param>
    public static Props Props(string flowId, string provider, AuthorizationRequest request, FlowOptions options,
        IActorRef listener, IActorRef providers, IBrowserLauncher browser, IActorRef outcomeTo) =>
        Akka.Actor.Props.Create(() => new FlowActor(flowId, provider, request, options, listener, providers, browser, outcomeTo));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public FlowActor(string flowId, string provider, AuthorizationRequest request, FlowOptions options,
        IActorRef listener, IActorRef providers, IBrowserLauncher browser, IActorRef outcomeTo)
    {
        _flowId = flowId;
        _provider = provider;
        _request = request;
        _options = options;
        _listener = listener;
        _providers = providers;
        _browser = browser;
        _outcomeTo = outcomeTo;
        _timeout = request.Timeout ?? options.Timeout;
        Registering();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Deadline
    {
        public static Deadline Instance { get; } = new();
    }

    private sealed record ExchangeDeadline
    {
        public static ExchangeDeadline Instance { get; } = new();
    }

    private sealed record BrowserLaunchCompleted(BrowserLaunchResult Result);

    /// <inheritdoc />
    protected override void PreStart()
    {
        _activity = O8Metrics.ActivitySource.StartActivity("o8.login", ActivityKind.Internal);
        _activity?.SetTag("o8.flow_id", _flowId);
        _activity?.SetTag("o8.provider", _provider);
        O8Metrics.LoginsStarted.Add(1);
        O8Metrics.LoginsInFlight.Add(1);
        Publish(new FlowStartedEvent(_flowId, _provider));

        // The deadline covers the whole wait for the user, from the first moment.
        Timers.StartSingleTimer(DeadlineTimer, Deadline.Instance, _timeout);
        _listener.Tell(new RegisterState(_secrets.State, _flowId));
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _browserCancellation.Cancel();
        _browserCancellation.Dispose();
        if (!_ended)
        {
            // Stopped from outside (parent stopping): the supervisor reports the outcome; still keep the counts true.
            O8Metrics.LoginsInFlight.Add(-1);
            _listener.Tell(new UnregisterState(_secrets.State, _flowId));
        }
        _activity?.Dispose();
    }

    private void Registering()
    {
        Receive<StateRegistered>(msg =>
        {
            _redirectUri = msg.RedirectUri;
            _providers.Tell(new PrepareAuthorization(_provider, _flowId, _secrets.State,
                _options.Pkce ? _secrets.CodeChallenge : null, msg.RedirectUri, _request.ScopeList, _request.Parameters));
            Become(Preparing);
        });
        Receive<StateRegistrationRefused>(msg =>
            End(new FlowFailed(_flowId, FlowFailure.ListenerUnavailable, msg.Reason)));
        Ending();
    }

    private void Preparing()
    {
        Receive<AuthorizationPrepared>(msg =>
        {
            _descriptor = msg.Descriptor;
            Publish(new AuthorizeUrlReadyEvent(_flowId, _provider, msg.AuthorizeUrl));
            _browser.LaunchAsync(msg.AuthorizeUrl, _browserCancellation.Token).PipeTo(Self,
                success: r => new BrowserLaunchCompleted(r),
                failure: e => new BrowserLaunchCompleted(BrowserLaunchResult.NotLaunched($"the launcher failed ({e.GetType().Name})")));
            Become(AwaitingCallback);
        });
        Receive<ProviderUnavailable>(msg => End(new FlowFailed(_flowId, FlowFailure.ProviderUnavailable, msg.Reason)));
        // The authorize URL has not been handed out yet, so no genuine redirect can carry this state; without the
        // provider's descriptor the iss check could not run either. Refuse it; the login goes on to its deadline.
        Receive<AuthorizationCallback>(_ => Sender.Tell(CallbackPages.NotYetWaiting));
        Ending();
    }

    private void AwaitingCallback()
    {
        Receive<AuthorizationCallback>(OnCallback);
        Receive<BrowserLaunchCompleted>(msg =>
        {
            if (!msg.Result.Launched) _log.Warning("Login {0}: no browser opened ({1}); the authorize URL was shown instead", _flowId, msg.Result.Detail);
            Publish(new BrowserLaunchedEvent(_flowId, _provider, msg.Result.Launched, msg.Result.Detail));
        });
        Ending();
    }

    private void OnCallback(AuthorizationCallback msg)
    {
        _callbackResponder = Sender;
        _callbackAt = Stopwatch.GetTimestamp();
        Publish(new CallbackReceivedEvent(_flowId, _provider, msg.Code is not null, msg.Error));

        if (msg.Error is not null)
        {
            End(new FlowDenied(_flowId, msg.Error, msg.ErrorDescription));
            return;
        }

        if (IssuerProblem(msg.Issuer) is { } issuerProblem)
        {
            End(new FlowFailed(_flowId, FlowFailure.IssuerMismatch, issuerProblem));
            return;
        }

        if (string.IsNullOrEmpty(msg.Code))
        {
            End(new FlowFailed(_flowId, FlowFailure.InvalidCallback, "The redirect carried neither a code nor an error."));
            return;
        }

        // The user is back: the login deadline no longer applies; the exchange has its own.
        Timers.Cancel(DeadlineTimer);
        Timers.StartSingleTimer(ExchangeTimer, ExchangeDeadline.Instance, _options.ExchangeTimeout + TimeSpan.FromSeconds(1));
        _providers.Tell(new ExchangeCode(_provider, _flowId, msg.Code, _options.Pkce ? _secrets.CodeVerifier : null, _redirectUri!));
        Become(Exchanging);
    }

    /// <summary>RFC 9207: an <c>iss</c> that is present must match; a missing one is refused where the provider promises it.</summary>
    private string? IssuerProblem(string? issuer)
    {
        var expected = _descriptor.Issuer;
        if (issuer is null)
            return _descriptor.RequiresIssuer ? "The redirect carried no 'iss' parameter, but the provider always sends one (RFC 9207)." : null;
        if (expected is not null && !string.Equals(issuer, expected, StringComparison.Ordinal))
            return $"The redirect came from issuer '{issuer}', not '{expected}' (RFC 9207 mix-up defence).";
        return null;
    }

    private void Exchanging()
    {
        Receive<CodeExchanged>(msg =>
        {
            Publish(new TokensExchangedEvent(_flowId, _provider));
            End(new FlowSucceeded(_flowId, msg.Tokens));
        });
        Receive<CodeExchangeFailed>(msg => End(new FlowFailed(_flowId, msg.Failure, msg.Reason, msg.ProviderError)));
        // The listener routes a state once; a second callback can only be a replay and never starts a second exchange.
        Receive<AuthorizationCallback>(_ => Sender.Tell(CallbackPages.AlreadyUsed));
        Receive<ExchangeDeadline>(_ => End(new FlowFailed(_flowId, FlowFailure.ExchangeTimeout,
            $"The token exchange did not finish within {_options.ExchangeTimeout.TotalSeconds:0.#} seconds.")));
        Ending();
    }

    /// <summary>What every live state answers: the deadline, cancellation and late browser results.</summary>
    private void Ending()
    {
        Receive<Deadline>(_ => End(new FlowTimedOut(_flowId, _timeout)));
        Receive<CancelFlow>(_ => End(new FlowCancelled(_flowId)));
        Receive<BrowserLaunchCompleted>(msg => Publish(new BrowserLaunchedEvent(_flowId, _provider, msg.Result.Launched, msg.Result.Detail)));
    }

    private void End(FlowOutcome outcome)
    {
        if (_ended) return;
        _ended = true;
        Become(Ended);
        Timers.CancelAll();

        _callbackResponder?.Tell(PageFor(outcome));
        _outcomeTo.Tell(outcome);
        _listener.Tell(new UnregisterState(_secrets.State, _flowId));

        var reason = ReasonOf(outcome);
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        var tag = O8Metrics.Outcome(outcome.Kind);
        O8Metrics.LoginsInFlight.Add(-1);
        O8Metrics.LoginsEnded.Add(1, tag);
        O8Metrics.LoginDuration.Record(elapsed.TotalSeconds, tag);
        if (_callbackAt != 0) O8Metrics.CallbackToOutcome.Record(Stopwatch.GetElapsedTime(_callbackAt).TotalSeconds, tag);
        _activity?.SetTag("o8.outcome", O8Metrics.OutcomeTag(outcome.Kind));
        if (outcome.Kind != FlowOutcomeKind.Succeeded) _activity?.SetStatus(ActivityStatusCode.Error, reason);
        Publish(new FlowEndedEvent(_flowId, _provider, outcome.Kind, reason, elapsed));
        // Guarded: the arguments are built (and boxed) before the adapter could drop the line, once per login.
        if (_log.IsInfoEnabled)
            _log.Info("Login {0} with {1} ended: {2}{3}", _flowId, _provider, outcome.Kind, reason is null ? "" : $" ({reason})");

        // A PoisonPill, not Context.Stop: it queues behind messages already in the mailbox, so a callback that raced
        // the deadline still gets its page (from Ended) instead of vanishing into dead letters.
        Self.Tell(PoisonPill.Instance);
    }

    private void Ended()
    {
        Receive<AuthorizationCallback>(_ => Sender.Tell(CallbackPages.AlreadyEnded));
        ReceiveAny(_ => { });
    }

    private static string? ReasonOf(FlowOutcome outcome) => outcome switch
    {
        FlowDenied d => d.ErrorDescription is null ? d.Error : $"{d.Error}: {d.ErrorDescription}",
        FlowFailed f => f.Reason,
        FlowTimedOut t => $"no callback within {t.Timeout.TotalSeconds:0.#} s",
        _ => null,
    };

    private static CallbackResponse PageFor(FlowOutcome outcome) => outcome switch
    {
        FlowSucceeded => new CallbackResponse(200, CallbackPageKind.Success, "You are signed in. You can close this tab and return to the application."),
        FlowDenied d => new CallbackResponse(403, CallbackPageKind.Denied,
            d.ErrorDescription is null ? $"The provider refused the authorization ({d.Error})." : $"The provider refused the authorization ({d.Error}): {d.ErrorDescription}"),
        FlowFailed { Failure: FlowFailure.IssuerMismatch or FlowFailure.InvalidCallback } f => new CallbackResponse(400, CallbackPageKind.Failed, f.Reason),
        FlowFailed { Failure: FlowFailure.ExchangeTimeout } f => new CallbackResponse(504, CallbackPageKind.Failed, f.Reason),
        FlowFailed f => new CallbackResponse(502, CallbackPageKind.Failed, f.Reason),
        FlowCancelled => new CallbackResponse(409, CallbackPageKind.Failed, "The application cancelled this login."),
        _ => CallbackPages.AlreadyEnded,
    };

    private void Publish(FlowEvent e) => Context.System.EventStream.Publish(e);
}
