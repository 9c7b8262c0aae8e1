using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Diagnostics;
using O8Actors.Providers;

namespace O8Actors.Flows;

/// <summary>
/// A device login's phases (RFC 8628), in the same actor as the browser login: asking for the device code → polling the
/// token endpoint → ended. One actor per login either way, so a device login has the same deadline, cancellation,
/// outcome, metrics and events as a browser login, and <see cref="LoginMethod.Auto"/> can switch to it when the
/// browser launcher fails, without handing the login from one actor to another.
/// </summary>
internal sealed partial class FlowActor
{
    private const string PollTimer = "device-poll";
    /// <summary>RFC 8628 section 3.5: each <c>slow_down</c> raises the interval by 5 seconds, for this and all later polls.</summary>
    internal static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);
    /// <summary>The longest wait between polls that a run of failed polls backs off to (unless the interval is longer).</summary>
    internal static readonly TimeSpan MaximumRetryInterval = TimeSpan.FromMinutes(1);
    /// <summary>
    /// The longest a device login runs without a timeout of its own, whatever <c>expires_in</c> says (RFC 8628's example
    /// and Google give 30 minutes, GitHub and Microsoft 15): bounded so an interactive token request's caller can wait
    /// for the whole login (<see cref="Accounts.AccountSettings.CallerWait"/>).
    /// </summary>
    internal static readonly TimeSpan MaximumDeviceLoginTime = TimeSpan.FromMinutes(30);

    // The device code is a secret: kept only here, sent only to the provider actor, never logged or published.
    private string? _deviceCode;
    private TimeSpan _pollInterval;
    // After polls that failed for a passing reason: the wait before the next one, doubled per failure; null once a poll is answered.
    private TimeSpan? _retryInterval;
    private int _polls;
    private TimeSpan? _deviceTimeout;
    // The login signs in with the device grant alone (no browser waits): a deadline before its code came is the provider's delay.
    private bool _deviceChosen;
    // A device code was asked for: a login that ends before it has one takes the request back from the provider's queue.
    private bool _deviceCodeAsked;

    /// <summary>Whether a device-code request of this login may still wait in the provider's queue.</summary>
    private bool DeviceCodeMayBeQueued => _deviceCodeAsked && _deviceCode is null;

    /// <summary>
    /// Whether <paramref name="message"/> answers this login's device-code request; if so, notes that the request waits
    /// in no queue any more.
    /// </summary>
    private bool NoteDeviceCodeAnswer(object message)
    {
        if (message is not (DeviceCodeIssued or DeviceCodeRefused)) return false;
        _deviceCodeAsked = false;
        return true;
    }
    // When the login gives up on its code (scheduler time), set once with it: a poll still queued at the provider then is
    // dropped unsent, so each poll carries this, not a deadline counted from its own start.
    private DateTimeOffset? _deviceDeadline;

    /// <summary>
    /// A poll sent and not yet answered. While a device login polls, either its next poll's timer is set or a poll is at
    /// the provider (each answer sets the timer or ends the login), so this needs no state of its own.
    /// </summary>
    private bool PollInFlight => _deviceCode is not null && !Timers.IsTimerActive(PollTimer);
    // Auto: why the browser was given up (its launcher failed) while the device code is being asked for; null otherwise.
    private string? _deviceFallbackReason;
    // Auto: the provider already said it has no device grant, so a failed browser launch does not ask again.
    private bool _deviceUnsupported;

    private sealed record PollNow
    {
        public static PollNow Instance { get; } = new();
    }

    private void RequestingDeviceCodePhase(object message) => Live(RequestingDeviceCode(message), message);
    private void PollingPhase(object message) => Live(Polling(message), message);

    /// <summary>Starts the device grant as this login's method, for <paramref name="reason"/>.</summary>
    private void StartDevice(string reason)
    {
        _deviceChosen = true;
        Choose(LoginMethod.Device, reason);
        RequestDeviceCode();
        Become(RequestingDeviceCodePhase);
    }

    /// <summary>
    /// Whether an Auto login may still turn to the device grant: not once the provider said it has none, and not for a
    /// step-up login (its own, or its provider's: known once the authorize URL is ready), which only a browser login carries.
    /// </summary>
    private bool DeviceGrantMayServe =>
        !_deviceUnsupported && !StepUp.Requested(_start.Request) && _authenticatedNotBefore is null && _acceptedAcrValues is null;

    /// <summary>Auto after the browser launcher failed: ask for a device code while the browser login still waits.</summary>
    private void TryDeviceInstead(string launcherDetail)
    {
        if (_deviceFallbackReason is not null || !DeviceGrantMayServe) return;
        _deviceFallbackReason = $"the browser launcher failed ({launcherDetail})";
        RequestDeviceCode();
    }

    /// <summary>
    /// Asks for the device code: told, as an exchange and a poll are, so the provider's queue watches this login and a
    /// login that ends takes it back. Its failure comes as a <see cref="DeviceCodeRefused"/>, so it is never taken for the
    /// answer to this login's code exchange, which an Auto login starts meanwhile when the user opens the shown URL.
    /// </summary>
    private void RequestDeviceCode()
    {
        _deviceCodeAsked = true;
        _start.Context.Providers.Tell(new RequestDeviceCode(_start.Provider, _start.LoginId, _start.Request.ScopeList, _start.Request.Parameters,
            _activity?.Context ?? default, Deadline: _deadline));
    }

    private void Choose(LoginMethod method, string reason)
    {
        Publish(new LoginMethodChosenEvent(_start.LoginId, _start.Provider, method, reason));
        if (AkkaLogLevel.InfoEnabled(Context.System))
            Log.Info("Login {0} with {1}: signing in with the {2} ({3})", _start.LoginId, _start.Provider,
                method == LoginMethod.Device ? "device grant" : "browser", reason);
    }

    private bool RequestingDeviceCode(object message)
    {
        if (message is AuthorizationCallback)
        {
            // Auto went on with the device grant before any authorize URL was handed out (the provider redeems no browser
            // login's code) and withdrew the state, but the listener had routed a redirect with it just before: a state
            // that leaked, as any redirect before the URL went out. Ended at once with its 400 page, as in every phase
            // before the URL (it got no page and its tab waited for a 504).
            EndOnEarlyCallback();
            return true;
        }

        if (!NoteDeviceCodeAnswer(message)) return false;
        switch (message)
        {
            case DeviceCodeIssued msg when Unpollable(msg.Authorization) is { } reason:
                End(new LoginFailed(_start.LoginId, LoginFailure.TokenExchange, reason));
                break;
            case DeviceCodeIssued msg:
                _dpopKey = msg.DpopKey;
                OnDeviceCode(msg.Authorization);
                break;
            case DeviceCodeRefused { Failure: { BrowserMayServe: true } msg } when Method == LoginMethod.Auto:
                // Auto, and the provider has no device endpoint: the browser it is (the launcher shows the URL if it cannot open one).
                // Chosen no more: a deadline then is the browser's, not a device code the provider did not issue.
                _deviceUnsupported = true;
                _deviceChosen = false;
                Choose(LoginMethod.Browser, $"the provider does not support the device grant ({msg.Reason})");
                RegisterWithListener();
                break;
            case DeviceCodeRefused { LoginDeadlinePassed: true }:
                // The provider's queue dropped the request at this login's deadline, and said so before the login's own
                // timer fired (it fires on the scheduler's next tick): no device code came in time.
                EndTimedOut();
                break;
            case DeviceCodeRefused { Failure: var msg }:
                End(new LoginFailed(_start.LoginId, msg.Failure, msg.Reason, msg.ProviderError) { Cause = msg.Cause });
                break;
        }
        return true;
    }

    /// <summary>Auto while the browser login waits: the answer to <see cref="TryDeviceInstead"/>.</summary>
    private bool DeviceFallback(object message)
    {
        if (_deviceFallbackReason is not { } reason || !NoteDeviceCodeAnswer(message)) return false;
        switch (message)
        {
            case DeviceCodeIssued msg when Unpollable(msg.Authorization) is { } unpollable:
                WaitForTheShownUrl(unpollable);
                break;
            case DeviceCodeIssued msg:
                Choose(LoginMethod.Device, reason);
                // No callback can matter any more: the authorize URL's state is withdrawn, so a late redirect gets a 4xx page.
                UnregisterFromListener();
                CancelBrowserLaunch();
                _dpopKey = msg.DpopKey;
                OnDeviceCode(msg.Authorization);
                break;
            case DeviceCodeRefused msg:
                WaitForTheShownUrl(msg.Failure.Reason);
                break;
        }
        return true;
    }

    private void WaitForTheShownUrl(string deviceProblem) =>
        Log.Warning("Login {0}: no browser opened and the device grant is not available ({1}); waiting for the shown URL to be used",
            _start.LoginId, deviceProblem);

    /// <summary>
    /// The code's lifetime is the login's deadline (a person needs longer to reach another device than to click in a
    /// browser), up to <see cref="MaximumDeviceLoginTime"/>; a timeout the caller set explicitly still bounds it.
    /// </summary>
    private TimeSpan DeviceTimeoutFor(DeviceAuthorization authorization)
    {
        var lifetime = authorization.ExpiresIn < MaximumDeviceLoginTime ? authorization.ExpiresIn : MaximumDeviceLoginTime;
        return _start.Request.Timeout is { } asked && asked < lifetime ? asked : lifetime;
    }

    private static TimeSpan PollIntervalOf(DeviceAuthorization authorization) =>
        authorization.Interval < MinimumInterval ? MinimumInterval : authorization.Interval;

    /// <summary>
    /// Why this login cannot use <paramref name="authorization"/>, or null: an interval no shorter than the time the login
    /// has for the code (the code's lifetime, the cap, the caller's timeout) lets no poll out before the deadline, and the
    /// login would show a code it never asks about, then end as if the user had not answered. Refused, not shortened: RFC
    /// 8628 section 3.5 forbids polling sooner. It also keeps every later interval (slow_down, back-off) far from
    /// <see cref="TimeSpan.MaxValue"/>, which a custom strategy may give: a scheduler fires a delay that large at once,
    /// and adding to it throws.
    /// </summary>
    private string? Unpollable(DeviceAuthorization authorization)
    {
        var interval = PollIntervalOf(authorization);
        var timeout = DeviceTimeoutFor(authorization);
        return interval < timeout
            ? null
            : $"The device authorization response of provider '{_start.Provider}' asks for {interval.TotalSeconds:0.#} s between polls, " +
              $"no shorter than the {timeout.TotalSeconds:0.#} s this login has for the code: no poll could be sent in time; the device login was not started.";
    }

    private void OnDeviceCode(DeviceAuthorization authorization)
    {
        _deviceCode = authorization.DeviceCode;
        _pollInterval = PollIntervalOf(authorization);
        _deviceTimeout = DeviceTimeoutFor(authorization);
        _deviceDeadline = Context.System.Scheduler.Now + _deviceTimeout.Value;
        Timers.StartSingleTimer(DeadlineTimer, Deadline.Instance, _deviceTimeout.Value);
        // The first poll's timer before the event: whoever acts on the event (a test moving virtual time) finds it set.
        Timers.StartSingleTimer(PollTimer, PollNow.Instance, _pollInterval);
        // The time the user has is the login's window, not the code's lifetime: a login that stops polling sooner (its
        // Timeout, the cap) would not take the code the provider still accepts, and the prompt must not promise it does.
        Publish(new DeviceCodeIssuedEvent(_start.LoginId, _start.Provider, authorization.UserCode, authorization.VerificationUri,
            authorization.VerificationUriComplete, _deviceTimeout.Value, _pollInterval));
        Become(PollingPhase);
    }

    private bool Polling(object message)
    {
        switch (message)
        {
            case PollNow:
                _polls++;
                Publish(new DevicePollEvent(_start.LoginId, _start.Provider, _polls, _pollInterval));
                // One poll in flight at a time: the next is scheduled when this one is answered. A poll still queued at the
                // provider when the login's deadline passes is dropped unsent.
                _start.Context.Providers.Tell(new PollDeviceToken(_start.Provider, _start.LoginId, _deviceCode!, _activity?.Context ?? default, _deviceDeadline, _dpopKey)
                {
                    Scopes = _start.Request.ScopeList,
                });
                return true;
            case DeviceTokenPolled msg:
                OnPolled(msg.Poll);
                return true;
            case AuthorizationCallback:
                // Auto switched to the device grant and withdrew the browser's state, but the listener had routed this
                // redirect just before: its browser still gets a page (not a hung tab), and its code is never used.
                Sender.Tell(CallbackPages.NoLongerWaiting);
                return true;
            case CodeExchangeFailed msg when IsTransient(msg):
                // RFC 8628 section 3.5: after a connection timeout (or a server error, a busy queue) the client backs off
                // and polls again; the device code is still good. The login's deadline still ends it: a poll due after
                // the deadline is never sent, the actor has stopped by then.
                _retryInterval = Min(2 * (_retryInterval ?? _pollInterval), Max(MaximumRetryInterval, _pollInterval));
                Log.Warning("Login {0} with {1}: a device poll failed ({2}); polling again in {3}", _start.LoginId, _start.Provider,
                    msg.Reason, _retryInterval.Value);
                Timers.StartSingleTimer(PollTimer, PollNow.Instance, _retryInterval.Value);
                return true;
            case CodeExchangeFailed msg:
                End(new LoginFailed(_start.LoginId, msg.Failure, msg.Reason, msg.ProviderError) { Cause = msg.Cause });
                return true;
            default:
                return false;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// Whether a failed poll is worth repeating: no answer in time, no connection, a server error (5xx, 429,
    /// <c>server_error</c>, <c>temporarily_unavailable</c>), a DPoP nonce refused again after its one retry
    /// (<c>use_dpop_nonce</c>: the nonce rotated once more, or another node of the server answered; the next poll carries the
    /// latest) or a full queue here. A protocol error (<c>invalid_client</c>,
    /// <c>invalid_grant</c>, an unbound token...) ends the login: asking again gets the same answer. A 5xx or 429 counts
    /// by its status whatever <c>error</c> it carries (a gateway's <c>service_unavailable</c>, a rate limit's
    /// <c>too_many_requests</c>), unless the error is one of those final ones.
    /// </summary>
    internal static bool IsTransient(CodeExchangeFailed failure) => failure.Failure switch
    {
        LoginFailure.ExchangeTimeout or LoginFailure.ExchangeQueueFull => true,
        LoginFailure.TokenExchange when failure.ProviderError is { } error =>
            error is "server_error" or "temporarily_unavailable" or "use_dpop_nonce"
            || (!FinalPollErrors.Contains(error) && CauseOf(failure) is HttpRequestException { StatusCode: { } status } && TransientStatus(status)),
        LoginFailure.TokenExchange => TransientCause(CauseOf(failure)),
        _ => false,
    };

    /// <summary>
    /// The <c>error</c> codes that say the device code or the client is refused whatever the status they came with (RFC 6749
    /// section 5.2, RFC 8628 section 3.5, RFC 8707, RFC 9449): polling again would only be refused again.
    /// </summary>
    private static readonly HashSet<string> FinalPollErrors = new(StringComparer.Ordinal)
    {
        "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope",
        "access_denied", "authorization_declined", "expired_token", "invalid_target", "invalid_dpop_proof",
    };

    /// <summary>What failed the poll: the reader's status or .NET's own error inside a <see cref="TokenExchangeException"/>, else the cause itself.</summary>
    private static Exception? CauseOf(CodeExchangeFailed failure) =>
        failure.Cause is TokenExchangeException { InnerException: { } inner } ? inner : failure.Cause;

    private static bool TransientStatus(System.Net.HttpStatusCode status) => (int)status >= 500 || (int)status == 429;

    private static bool TransientCause(Exception? cause) => cause switch
    {
        HttpRequestException { StatusCode: null } => true,
        HttpRequestException { StatusCode: { } status } => TransientStatus(status),
        IOException or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException => true,
        _ => false,
    };

    private void OnPolled(DeviceTokenPoll poll)
    {
        _retryInterval = null;
        switch (poll.Status)
        {
            case DevicePollStatus.Pending:
                Timers.StartSingleTimer(PollTimer, PollNow.Instance, _pollInterval);
                break;
            case DevicePollStatus.SlowDown:
                _pollInterval += SlowDownStep;
                Timers.StartSingleTimer(PollTimer, PollNow.Instance, _pollInterval);
                break;
            case DevicePollStatus.Denied:
                // The built-in reader cleaned them; a custom strategy's poll passes the provider's text as it came,
                // which may echo the device code or hold a line break that would forge a log line.
                End(new LoginDenied(_start.LoginId,
                    poll.Error is null ? "access_denied" : Providers.TokenResponseReader.Clean(poll.Error, [_deviceCode]),
                    poll.ErrorDescription is null ? null : Providers.TokenResponseReader.Clean(poll.ErrorDescription, [_deviceCode])));
                break;
            case DevicePollStatus.Expired:
                End(new LoginTimedOut(_start.LoginId, EffectiveTimeout) { Waiting = TimedOutWaiting.DeviceApproval });
                break;
            case DevicePollStatus.Issued when poll.Tokens is { AccessToken.Length: > 0 } tokens:
                Publish(new TokensExchangedEvent(_start.LoginId, _start.Provider));
                End(new LoginSucceeded(_start.LoginId, tokens));
                break;
            default:
                End(new LoginFailed(_start.LoginId, LoginFailure.TokenExchange,
                    $"The token endpoint of '{_start.Provider}' answered the device login without an access token."));
                break;
        }
    }
}
