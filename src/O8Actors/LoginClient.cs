using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Diagnostics;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// The <see cref="IOAuthLogins"/> facade over the three top-level actors; shared by the standalone
/// <see cref="OAuthLogins"/> and the Akka.Hosting integration.
/// </summary>
internal sealed class LoginClient : IOAuthLogins
{
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(30);

    // The listener answers its status once its start has ended, and a start may wait a minute for another process making
    // the certificate (its lock file), then run mkcert and bind: a control timeout on top, for the start's own wait only.
    // Shorter, a slow start failed with a bare AskTimeoutException and the lock wait's own error, naming the lock file,
    // was never seen.
    private static readonly TimeSpan ListenerStartWait = O8Actors.Certificates.CertificateProvider.LockWait + ControlTimeout;
    private readonly O8Actors.Runtime.O8ActorRefs _actors;
    private readonly TimeSpan _exchangeTimeout;
    private readonly O8Settings.LoginSettings _login;
    private readonly ActorSystem _system;

    /// <summary>The actor system's end, for waits outside this client that must end with it too (the server-mode callback).</summary>
    internal O8Actors.Runtime.ActorSystemEnd SystemEnd { get; }
    private readonly AccountSettings _accounts;

    // A status is for health probes, which must not hang: both actors answer from memory at once unless overloaded.
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    public LoginClient(ActorSystem system, O8Actors.Runtime.O8ActorRefs actors, O8Settings settings)
    {
        _system = system;
        _actors = actors;
        SystemEnd = new O8Actors.Runtime.ActorSystemEnd(system);
        _exchangeTimeout = settings.Login.ExchangeTimeout;
        _login = settings.Login;
        _accounts = new AccountSettings(settings.RefreshMargin, settings.Login.ExchangeTimeout, settings.Login);
        Events = _eventStream = new LoginEventStream(system);
        _accountTokens = (account, options, ct) => GetAccessTokenAsync(account, null, options, ct);
    }

    // An account's token as a UserInfo call asks for it (the cached one, or a forced refresh).
    private readonly Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> _accountTokens;

    // Renewed tokens a UserInfo endpoint refused too, for every account of this client (bounded): no refresh per call.
    private readonly RefusedTokens _userInfoRefusals = new();

    /// <summary>For the hosted path, which holds validated options; only the exchange timeout is read, once.</summary>
    public LoginClient(ActorSystem system, O8Actors.Runtime.O8ActorRefs actors, O8Options options)
        : this(system, actors, O8Settings.From(options))
    {
    }

    public IObservable<LoginEvent> Events { get; }

    private readonly LoginEventStream _eventStream;

    /// <summary>Waits (bounded) until the subscribers of <see cref="Events"/> have seen every event published so far.</summary>
    public Task FlushEventsAsync(TimeSpan timeout) => _eventStream.FlushAsync(timeout);

    // One async layer per login: the tokens (or the typed exception) come out of the same wait as the outcome, rather
    // than from a second state machine awaiting the first.
    public Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        Run(FlowSecrets.RandomToken(9), provider, request, cancellationToken, binding: null, Tokens);

    private static readonly Func<LoginClient, LoginOutcome, string, CancellationToken, TokenSet> Tokens =
        static (client, outcome, provider, cancellationToken) => client.TokensOf(outcome, provider, cancellationToken);

    private static readonly Func<LoginClient, LoginOutcome, string, CancellationToken, LoginOutcome> Outcome =
        static (_, outcome, _, _) => outcome;

    /// <summary>The tokens of a login that succeeded; for any other outcome, the typed exception <see cref="AuthorizeAsync"/> throws.</summary>
    internal TokenSet TokensOf(LoginOutcome outcome, string provider, CancellationToken cancellationToken)
    {
        return outcome switch
        {
            LoginSucceeded s => s.Tokens,
            LoginDenied d => throw new AuthorizationDeniedException(d.Error, d.ErrorDescription) { LoginId = d.LoginId },
            LoginTimedOut t => throw AuthorizationTimeoutException.For(t),
            LoginCancelled c => throw new OperationCanceledException(
                cancellationToken.IsCancellationRequested ? "The login was cancelled." : "The login was cancelled because O8Actors is shutting down.",
                cancellationToken),
            LoginFailed f => throw FailureException(f, provider),
            _ => throw new InvalidOperationException($"Unexpected outcome {outcome.GetType().Name}."),
        };
    }

    /// <summary>The exception <see cref="AuthorizeAsync"/> throws for a failed login (see <see cref="LoginFailureExceptions"/>).</summary>
    internal OAuthFlowException FailureException(LoginFailed failed, string provider) =>
        LoginFailureExceptions.For(failed, provider, _login.MaxPending, _login.MaxPendingPerPartition);

    public Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        RunAsync(FlowSecrets.RandomToken(9), provider, request, cancellationToken);

    /// <summary>
    /// Runs one login under a caller-chosen <paramref name="flowId"/> (server mode waits for that id's URL event); with a
    /// <paramref name="binding"/>, only a callback presenting its browser's secret may complete it.
    /// </summary>
    internal Task<LoginOutcome> RunAsync(string flowId, string provider, AuthorizationRequest? request, CancellationToken cancellationToken,
        O8Actors.Binding.BrowserBindingHash? binding = null) =>
        Run(flowId, provider, request, cancellationToken, binding, Outcome);

    /// <summary>Starts one login and returns what <paramref name="result"/> makes of its outcome.</summary>
    /// <remarks>Generic over reference types only, so the outcome and the tokens share one compiled wait.</remarks>
    private Task<T> Run<T>(string flowId, string provider, AuthorizationRequest? request, CancellationToken cancellationToken,
        O8Actors.Binding.BrowserBindingHash? binding, Func<LoginClient, LoginOutcome, string, CancellationToken, T> result)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ThrowIfStopped();
        request = Snapshot(request ?? AuthorizationRequest.Default);
        AuthorizationRequest.ThrowIfInvalid(request, nameof(request));
        // Cancelled before it started: nothing is sent, and the caller hears it as it would mid-login, through the same
        // mapping of the outcome (RunAsync's LoginCancelled; AuthorizeAsync's OperationCanceledException, as a cancelled task).
        if (cancellationToken.IsCancellationRequested)
        {
            try
            {
                return Task.FromResult(result(this, new LoginCancelled(flowId), provider, cancellationToken));
            }
            catch (OperationCanceledException)
            {
                return Task.FromCanceled<T>(cancellationToken);
            }
        }

        // The supervisor completes this exactly once: with the outcome, as Cancelled when it stops first, and (through
        // the dead-letter watcher) as Cancelled when the message finds it already stopped. The login always ends by
        // itself (deadline, exchange deadline), so no per-login timeout is needed as a backstop.
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actors.Flows.Tell(new StartFlow(flowId, provider, request, completion) { Binding = binding });
        return AwaitOutcomeAsync(completion.Task, flowId, provider, request, cancellationToken, result);
    }

    /// <summary>
    /// Waits for the login's outcome, cancelling the login if <paramref name="cancellationToken"/> fires first, and
    /// stores a successful login's tokens as its account's before the caller sees them, so that a
    /// <see cref="GetAccessTokenAsync"/> right after the login finds them. A store failure does not fail the login (its
    /// tokens are valid): the outcome then carries no account.
    /// </summary>
    private async Task<T> AwaitOutcomeAsync<T>(Task<LoginOutcome> outcome, string flowId, string provider,
        AuthorizationRequest request, CancellationToken cancellationToken, Func<LoginClient, LoginOutcome, string, CancellationToken, T> result)
        where T : class
    {
        LoginOutcome ended;
        // Cancelling asks the supervisor to end the login; its outcome (Cancelled) still arrives through the completion.
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static state => { var (flows, id) = ((IActorRef, string))state!; flows.Tell(new CancelFlow(id)); },
                (_actors.Flows, flowId))
            : default;
        try
        {
            // The actor system ending under the login (an app's own system terminated, the process shutting down) may
            // leave the start or the supervisor's answer in dead letters with nobody to read them: the caller would
            // wait forever, its own token included. Its end ends the wait, as the supervisor's stop does.
            ended = await outcome.WaitAsync(SystemEnd.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (SystemEnd.HasEnded)
        {
            ended = outcome.IsCompleted ? await outcome.ConfigureAwait(false) : new LoginCancelled(flowId);
        }
        finally
        {
            // Synchronous: a callback already running only tells the supervisor, so the wait is that Tell at most, and
            // the cancel still lands before the caller sees the outcome (and perhaps reuses the login id).
            registration.Dispose();
        }

        if (ended is LoginSucceeded succeeded && AccountKeys.For(provider, succeeded.Tokens, request) is { } account)
        {
            // Sent at once, whatever the token (it is not cancelled yet: the login's wait checked it); the token ends only the wait.
            var remembered = RememberAsync(succeeded, account, request);
            try
            {
                ended = await remembered.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller left while the tokens were being stored (a store lock another process holds, a slow store):
                // cancelled as promised, not kept waiting up to the renewal timeout. The remember goes on, and a later token
                // request finds the tokens. (Not revoked should the store fail: a store's failure may still have stored
                // them, and revoking a stored sign-in is worse than a grant left to expire.)
                ended = new LoginCancelled(flowId);
                _ = remembered.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }

        return result(this, ended, provider, cancellationToken);
    }

    /// <summary>
    /// <paramref name="ended"/> with its account, once a successful login's tokens are stored as the account's (as every
    /// login awaited here is): for a login that runs outside this node's flows supervisor, a cluster login's entity, which
    /// remembers it before it reports the outcome.
    /// </summary>
    internal Task<LoginOutcome> WithAccountAsync(LoginOutcome ended, string provider, AuthorizationRequest request) =>
        ended is LoginSucceeded succeeded && AccountKeys.For(provider, succeeded.Tokens, request) is { } account
            ? RememberAsync(succeeded, account, request)
            : Task.FromResult(ended);

    /// <summary>Stores the login's tokens as <paramref name="account"/>'s; a store failure leaves the outcome without an account (its tokens are valid).</summary>
    private async Task<LoginOutcome> RememberAsync(LoginSucceeded succeeded, OAuthAccount account, AuthorizationRequest request)
    {
        try
        {
            await UntilSystemEndsAsync(_actors.Accounts.Ask<LoginRemembered>(RememberLogin.Of(account, succeeded.Tokens, request),
                _accounts.RenewalTimeout)).ConfigureAwait(false);
            return succeeded with { Account = account };
        }
        // The actor system ended before the account's actor answered (ObjectDisposedException): the tokens are still the
        // caller's, without an account.
        catch (Exception e) when (e is OAuthFlowException or AskTimeoutException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return succeeded;
        }
    }

    public Task<AccessToken> GetAccessTokenAsync(OAuthAccount account, IReadOnlyList<string>? scopes = null, AccessTokenOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        OAuthAccount.ThrowIfIncomplete(account);
        ThrowIfStopped();
        // Before any message: an Ask sends its message whatever the state of its token, and the account's actor would
        // renew (refresh, or start an interactive login and open a browser) for a caller that has already gone.
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<AccessToken>(cancellationToken);
        if (options?.Login is { } login)
        {
            // The login a renewal may run is kept as it is now (the account's actor may start it seconds later, after
            // the lock and the store: a caller that reuses its lists meanwhile must not change it) and checked as any
            // login is, before it is needed.
            options = options with { Login = Snapshot(login) };
            AuthorizationRequest.ThrowIfInvalid(options.Login, nameof(options));
        }
        // The common case, a fresh cached token, is answered from what the account's actor published: no message.
        if (scopes is null && options is not { ForceRefresh: true } && _actors.AccountCache.TryGet(account, _system.Scheduler.Now, out var cached))
            return cached;
        return AskAccountAsync(account, scopes, options ?? AccessTokenOptions.Silent, cancellationToken);
    }

    private async Task<AccessToken> AskAccountAsync(OAuthAccount account, IReadOnlyList<string>? scopes, AccessTokenOptions options,
        CancellationToken cancellationToken)
    {
        // The caller's token goes with the request: cancelled while it waits, the account's actor opens no browser for it.
        var request = new GetAccessToken(account, scopes is null ? null : Array.AsReadOnly(scopes.ToArray()), options) { CallerCancellation = cancellationToken };
        var wait = _accounts.CallerWait(options.AllowInteraction, options.Login?.Timeout);
        try
        {
            return await AskAsync<AccessToken>(_actors.Accounts, request, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // A backstop that fires only when something is broken (the wait covers the longest login): the library's
            // own exception, as for any timeout, not Akka's.
            throw CallerGaveUp(account, options.AllowInteraction, wait);
        }
    }

    /// <summary>What a token request's caller throws when the account's actor did not answer within <paramref name="wait"/>.</summary>
    internal static OAuthFlowException CallerGaveUp(OAuthAccount account, bool interactive, TimeSpan wait) => interactive
        ? new AuthorizationTimeoutException(wait,
            $"Authorization timed out: the interactive login of {account} did not end within {wait.TotalSeconds:0} seconds (this call's " +
            "timeout and the token exchange's; a call that joined a login already running for the account waits no longer, and the login goes on).")
        : new AuthorizationFailedException(LoginFailure.ExchangeTimeout,
            $"Renewing the tokens of {account} did not finish within {wait.TotalSeconds:0} seconds.");

    public Task<UserInfo> GetUserInfoAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        OAuthAccount.ThrowIfIncomplete(account);
        ThrowIfStopped();
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<UserInfo>(cancellationToken);
        return UntilSystemEndsAsync(UserInfoCall.RunAsync(_accountTokens, _actors.Providers, ExchangeTimeouts.UnqueuedRequestWait(_exchangeTimeout), account,
            _userInfoRefusals, cancellationToken));
    }

    public Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken, CancellationToken cancellationToken = default) =>
        HandleBackChannelLogoutAsync(provider, logoutToken, onSignedOut: null, cancellationToken);

    // What back-channel logouts whose app callback failed signed out, for the provider's retry (this process's only).
    private readonly Logout.LogoutCarryOver _logoutCarryOver = new();

    // The back-channel logouts under way (checked, accepted or being carried out), which a graceful stop waits for (WaitForLogoutsAsync).
    private readonly Logout.LogoutsUnderWay _logoutsUnderWay = new();

    // The outcome of a back-channel logout carried out after its caller stopped waiting (the provider's request went away).
    private Akka.Event.ILoggingAdapter BackChannelLog => _backChannelLog ??= Akka.Event.Logging.GetLogger(_system, "O8Actors.BackChannelLogout");
    private Akka.Event.ILoggingAdapter? _backChannelLog;

    /// <summary>
    /// A back-channel logout whose <paramref name="onSignedOut"/> (the app's part) runs before its token counts as spent:
    /// should it throw, the provider may post the token again, and the retry reports the accounts already signed out.
    /// </summary>
    internal Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(provider);
        ArgumentException.ThrowIfNullOrEmpty(logoutToken);
        ThrowIfStopped();
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<BackChannelLogoutResult>(cancellationToken);
        // Counted from its arrival, not only once accepted: a post still being checked when a stop begins is accepted later,
        // and the stop's wait must see it. Not refused while stopping: on a node leaving a cluster its accounts live on.
        var running = UntilSystemEndsAsync(Logout.BackChannelLogoutCall.RunAsync(_actors.Providers, _actors.Accounts,
            ExchangeTimeouts.UnqueuedRequestWait(_exchangeTimeout), _accounts.SignOutWait(SignOutOptions.Local), ControlTimeout, provider,
            logoutToken, cancellationToken, onSignedOut, _logoutCarryOver, systemEnding: SystemEnd.Token, log: BackChannelLog,
            underWay: _logoutsUnderWay));
        _logoutsUnderWay.Track(running);
        return running;
    }

    public async Task<IReadOnlyList<OAuthAccount>> GetAccountsAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        var list = await AskAsync<AccountList>(_actors.Accounts, new ListAccounts(provider), ControlTimeout, cancellationToken).ConfigureAwait(false);
        return list.Accounts;
    }

    public Task<SignOutResult> SignOutAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        SignOutAsync(account, null, cancellationToken);

    public Task<SignOutResult> SignOutAsync(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken = default)
    {
        OAuthAccount.ThrowIfIncomplete(account);
        ThrowIfBadTimeout(options);
        return SignOutAsync(new SignOut(account, options ?? SignOutOptions.Local), cancellationToken);
    }

    /// <summary>
    /// Server mode: signs <paramref name="account"/> out and ends the provider's session through the app's redirect.
    /// <c>Url</c> completes with the end-session URL to send the user to (null when there is none), <c>Result</c> once
    /// the user's browser came back or the step ended.
    /// </summary>
    internal (Task<Uri?> Url, Task<SignOutResult> Result) BeginSignOut(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken)
    {
        ThrowIfBadTimeout(options);
        // Nothing sent, so nothing would ever complete the URL.
        if (cancellationToken.IsCancellationRequested) return (Task.FromCanceled<Uri?>(cancellationToken), Task.FromCanceled<SignOutResult>(cancellationToken));
        var url = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var message = new SignOut(account, (options ?? SignOutOptions.Local) with { EndProviderSession = true }) { EndSessionUrlTo = url };
        return (url.Task, SignOutAsync(message, cancellationToken));
    }

    /// <summary>
    /// Server mode on a cluster: revokes and forgets through the account's entity (wherever it runs), then runs the
    /// provider-session step on this node, whose listener keeps the sign-out's state (a return that lands on another
    /// node is found from there). <c>Url</c> and <c>Result</c> as for <see cref="BeginSignOut"/>.
    /// </summary>
    internal async Task<(Task<Uri?> Url, Task<SignOutResult> Result)> BeginSignOutHereAsync(OAuthAccount account, SignOutOptions? options,
        CancellationToken cancellationToken)
    {
        // Before anything is revoked: a timeout refused after the revocation would fail a sign-out that half happened.
        ThrowIfBadTimeout(options);
        options ??= SignOutOptions.Local;
        var revoked = await SignOutAsync(new SignOut(account, options with { EndProviderSession = false }, CountedByCaller: true), cancellationToken)
            .ConfigureAwait(false);
        var url = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var timeout = _accounts.EndSessionTimeout(options);
        var step = new EndProviderSession(account.Provider, $"end-session-{FlowSecrets.RandomToken(6)}", null, timeout) { UrlTo = url, Account = account };
        var ended = AskAsync<ProviderSessionEnded>(_actors.Flows, step, timeout + _accounts.RenewalTimeout);
        return (url.Task, WithProviderSessionAsync(revoked, ended, url));
    }

    private static async Task<SignOutResult> WithProviderSessionAsync(SignOutResult revoked, Task<ProviderSessionEnded> ended, TaskCompletionSource<Uri?> url)
    {
        SignOutResult result;
        try
        {
            var step = await ended.ConfigureAwait(false);
            result = revoked with { ProviderSession = step.Outcome, ProviderSessionReason = step.Reason };
        }
        catch (Exception e) when (e is AskTimeoutException or ObjectDisposedException)
        {
            result = revoked with { ProviderSession = ProviderSessionOutcome.Failed, ProviderSessionReason = ProviderSessionEnded.NoAnswer };
        }
        finally
        {
            url.TrySetResult(null);
        }

        // Counted here, once, with both halves' outcomes (the account's entity did not count its half).
        O8Metrics.SignedOut(result);
        return result;
    }

    /// <summary>
    /// Refuses a sign-out timeout that is not positive, or longer than a login's may be (one day): the waits built on it
    /// would overflow, or outlast what a scheduler can hold.
    /// </summary>
    private static void ThrowIfBadTimeout(SignOutOptions? options)
    {
        if (options?.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > AuthorizationRequest.MaximumTimeout))
            throw new ArgumentOutOfRangeException(nameof(options), timeout,
                $"A sign-out's timeout must be positive and at most one day ({AuthorizationRequest.MaximumTimeout}), not {timeout}.");
    }

    private async Task<SignOutResult> SignOutAsync(SignOut message, CancellationToken cancellationToken)
    {
        ThrowIfStopped();
        var wait = _accounts.SignOutWait(message.Options);
        try
        {
            return await AskAsync<SignOutResult>(_actors.Accounts, message, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // A backstop (the wait covers the account's longest steps: a renewal ahead of the sign-out, then its own): the
            // library's own exception, as a token request's caller gets, not Akka's.
            throw new AuthorizationFailedException(LoginFailure.ExchangeTimeout,
                $"Signing out {message.Account} did not finish within {wait.TotalSeconds:0} seconds; it goes on in the background.");
        }
    }

    /// <summary>
    /// A copy of the caller's collections: the login reads its scopes and parameters later, on another thread, and a
    /// caller reusing or changing its list in the meantime must not change a login already running.
    /// </summary>
    /// <remarks>
    /// A request without collections is immutable as it is, and is kept (the common case, <see cref="AuthorizationRequest.Default"/>):
    /// a copy would be one more object for every waiting login to hold.
    /// </remarks>
    internal static AuthorizationRequest Snapshot(AuthorizationRequest request) =>
        request is { Scopes: null, AcrValues: null, ExtraParameters: null } ? request : request with
    {
        Scopes = request.Scopes is null ? null : Array.AsReadOnly(request.Scopes.ToArray()),
        AcrValues = request.AcrValues is null ? null : Array.AsReadOnly(request.AcrValues.ToArray()),
        ExtraParameters = request.ExtraParameters is null
            ? null
            // The caller's comparer is kept: it decides which keys count as one.
            : new Dictionary<string, string>(request.ExtraParameters,
                (request.ExtraParameters as Dictionary<string, string>)?.Comparer ?? StringComparer.Ordinal).AsReadOnly(),
    };

    public async Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        ThrowIfStopped();
        // An Ask sends its message whatever the state of its token: cancelled already, the refresh token would be spent
        // for tokens nobody takes.
        cancellationToken.ThrowIfCancellationRequested();
        var wait = ExchangeTimeouts.RefreshWait(_exchangeTimeout);
        // Dropped unsent if it would be answered after this Ask gave up: the rotated refresh token would be lost.
        var deadline = ExchangeTimeouts.RefreshDeadline(_system.Scheduler.Now + wait, _exchangeTimeout);
        object reply;
        try
        {
            // The caller's token goes with the request, for the same reason: cancelled while queued, it is not sent.
            reply = await AskAsync<object>(_actors.Providers,
                new RefreshTokens(provider, FlowSecrets.RandomToken(9), refreshToken, scopes is null ? null : Array.AsReadOnly(scopes.ToArray()),
                    Deadline: deadline) { CallerCancellation = cancellationToken },
                wait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            // A refresh still queued behind slow token requests when the caller stops waiting (it is dropped unsent once
            // its deadline has passed): the library's own exception, as the provider's own timeout would give, not Akka's.
            throw new TokenExchangeException($"The token refresh with provider '{provider}' did not finish within {wait.TotalSeconds:0.#} seconds.",
                innerException: e);
        }
        return reply switch
        {
            CodeExchanged ok => ok.Tokens,
            // The same exception for the same condition as AuthorizeAsync.
            CodeExchangeFailed { Failure: LoginFailure.UnknownProvider } => throw new UnknownProviderException(provider),
            CodeExchangeFailed { Failure: LoginFailure.ExchangeQueueFull } f => throw new ProviderBusyException(f.Reason),
            CodeExchangeFailed { Failure: LoginFailure.ProviderUnavailable or LoginFailure.Internal } f => throw new AuthorizationFailedException(f.Failure, f.Reason),
            CodeExchangeFailed f => throw new TokenExchangeException(f.Reason, f.ProviderError, f.Cause),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."),
        };
    }

    public async Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ThrowIfStopped();
        await AskAsync<ProviderRegistered>(_actors.Providers, new RegisterProvider(strategy), ControlTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes <paramref name="strategy"/>'s provider while it is still the one registered under its name, or puts
    /// <paramref name="successor"/> in its place in the same step.
    /// </summary>
    public async Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ThrowIfStopped();
        var reply = await AskAsync<ProviderUnregistered>(_actors.Providers, new UnregisterProvider(strategy, successor), ControlTimeout, cancellationToken)
            .ConfigureAwait(false);
        return reply.Removed;
    }

    /// <summary>
    /// The listener's redirect URI. A listener that binds on first use is bound by this call (its caller wants the real
    /// URI, port included, to register it), so it waits as long as a start may take.
    /// </summary>
    public Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default) =>
        ListenerUriAsync(BindListener.Instance, cancellationToken);

    /// <summary>
    /// The start's wait for the listener: its redirect URI once bound, or the reason it did not start, waiting as long as
    /// a start may take (<see cref="ListenerStartWait"/>).
    /// </summary>
    /// <exception cref="ListenerStartException">The listener failed to start, or its start did not end in that time.</exception>
    internal Task<Uri> WaitForListenerAsync(CancellationToken cancellationToken = default) =>
        ListenerUriAsync(GetListenerStatus.Instance, cancellationToken);

    private async Task<Uri> ListenerUriAsync(object question, CancellationToken cancellationToken)
    {
        ThrowIfStopped();
        cancellationToken.ThrowIfCancellationRequested();
        ListenerStatus status;
        try
        {
            status = await AskAsync<ListenerStatus>(_actors.Listener, question, ListenerStartWait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new ListenerStartException(
                $"The redirect listener did not start within {ListenerStartWait.TotalSeconds:0} seconds: its bind or, over https, " +
                "its certificate (mkcert, or another process holding the certificate folder's lock file) did not end.", e);
        }

        return RedirectUriOf(status);
    }

    private static Uri RedirectUriOf(ListenerStatus status)
    {
        if (status.Failure is { } bind) throw LoginFailureExceptions.ListenerFailure(bind, id: null);
        return status.RedirectUri ?? throw new ListenerStartException("The redirect listener is not bound.");
    }

    public async Task<Uri> GetRedirectUriAsync(string provider, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        // The provider first: an unknown one fails without binding a listener that binds on first use.
        var path = await AskAsync<RedirectPathIs>(_actors.Providers, new GetRedirectPath(provider), ControlTimeout, cancellationToken).ConfigureAwait(false);
        var listener = await GetRedirectUriAsync(cancellationToken).ConfigureAwait(false);
        return RedirectPaths.WithPath(listener, path.Path);
    }

    public async Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        var listener = AskAsync<ListenerStatus>(_actors.Listener, GetListenerStatus.Instance, StatusTimeout, cancellationToken);
        var logins = AskAsync<FlowsInFlight>(_actors.Flows, GetFlowsInFlight.Instance, StatusTimeout, cancellationToken);
        await Task.WhenAll(listener, logins).ConfigureAwait(false);
        var status = await listener.ConfigureAwait(false);
        return new O8Status(status.Bound, status.RedirectUri, (await logins.ConfigureAwait(false)).Count, status.RegisteredStates, status.Failure);
    }

    /// <summary>
    /// Once the actor system has terminated (standalone dispose, host stop) nothing would ever answer: a login's message
    /// would land in dead letters with nobody to report it, an Ask would wait out its timeout. Fail at once instead.
    /// </summary>
    private void ThrowIfStopped()
    {
        if (_system.WhenTerminated.IsCompleted) throw Stopped();
    }

    private static ObjectDisposedException Stopped() =>
        new(nameof(IOAuthLogins), "O8Actors has stopped (its actor system terminated); start a new instance.");

    /// <summary>
    /// Asks <paramref name="actor"/>, and ends the wait as <see cref="ThrowIfStopped"/> would when the actor system
    /// terminates first: the termination does not end an Ask, which would wait out its whole timeout (80 s for a login's
    /// account write) for an answer that can no longer come.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The actor system terminated before the answer came.</exception>
    private Task<T> AskAsync<T>(IActorRef actor, object message, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        // An Ask sends its message whatever the state of its token: a caller that has already cancelled sends nothing (a
        // sign-out would still sign out and revoke, an interactive token request would still open a browser).
        cancellationToken.IsCancellationRequested
            ? Task.FromCanceled<T>(cancellationToken)
            : cancellationToken.CanBeCanceled
                ? WithCallersTokenAsync(UntilSystemEndsAsync(actor.Ask<T>(message, timeout, cancellationToken)), cancellationToken)
                : UntilSystemEndsAsync(actor.Ask<T>(message, timeout));

    /// <summary>
    /// <paramref name="asked"/>'s answer; cancelled by <paramref name="cancellationToken"/>, an exception that carries it.
    /// Akka cancels an Ask's task without the token, so a caller's <c>catch (OperationCanceledException e) when
    /// (e.CancellationToken == token)</c> did not match its own cancellation (one already cancelled on entry did).
    /// </summary>
    private static async Task<T> WithCallersTokenAsync<T>(Task<T> asked, CancellationToken cancellationToken)
    {
        try
        {
            return await asked.ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested && e.CancellationToken != cancellationToken)
        {
            throw new OperationCanceledException(e.Message, e, cancellationToken);
        }
    }

    /// <summary>
    /// <paramref name="work"/>'s result, or, when the actor system terminates first, <see cref="ObjectDisposedException"/>
    /// as after the end: for a call that asks actors on its own (UserInfo, a back-channel logout), whose Asks the
    /// termination does not end either.
    /// </summary>
    private Task<T> UntilSystemEndsAsync<T>(Task<T> work) => SystemEnd.UntilEndedAsync(work, Stopped);

    /// <summary>Stops the redirect listener and waits (bounded) until its port is free.</summary>
    public async Task StopListenerAsync(TimeSpan timeout)
    {
        try
        {
            await AskAsync<ListenerStopped>(_actors.Listener, StopListener.Instance, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or ObjectDisposedException)
        {
            // The listener disposes Kestrel in PostStop as well; terminating the actor system gets there.
        }
    }

    /// <summary>
    /// Lets every account's actor finish what it has under way with the provider or the store (a refresh whose rotated
    /// refresh token is on its way, the save of what it brought) and stop, as when a cluster entity moves; waits (bounded)
    /// until they have. Stopped under such a refresh, the system would drop its answer (the actor gone) and the store keep
    /// the refresh token it spent: a rotating provider then refuses it, and the user signs in again on the next run.
    /// </summary>
    public async Task SettleAccountsAsync(TimeSpan timeout)
    {
        try
        {
            await _actors.Accounts.GracefulStop(timeout, AccountHandOff.Instance).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException)
        {
            // Best effort on shutdown, as for the logins: whatever did not end in time stops with the actor system.
        }
    }

    /// <summary>
    /// Waits (bounded) for the back-channel logouts under way, accepted or still being checked, those that arrive
    /// meanwhile and those whose provider's request went away included: before the accounts stop, which they sign out.
    /// </summary>
    public Task WaitForLogoutsAsync(TimeSpan timeout) => _logoutsUnderWay.WaitAsync(timeout);

    /// <summary>Ends every login in flight as Cancelled and waits (bounded) until they have.</summary>
    public async Task CancelAllAsync(TimeSpan timeout)
    {
        try
        {
            await AskAsync<FlowsInFlight>(_actors.Flows, CancelAllFlows.Instance, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or ObjectDisposedException)
        {
            // Best effort on shutdown: whatever did not end in time is stopped with the actor system.
        }
    }
}
