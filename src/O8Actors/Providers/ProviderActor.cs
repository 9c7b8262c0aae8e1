using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Diagnostics;

namespace O8Actors.Providers;

/// <summary>
/// Wraps one <see cref="ProviderStrategy"/>: learns what the provider supports once (discovery; a strategy that reads
/// its metadata again, <see cref="IRefreshesMetadata"/>, tells it of each new read), builds authorize URLs, and runs
/// token requests with at most <c>maxConcurrentExchanges</c> in flight, queueing the rest.
/// </summary>
/// <remarks>
/// <para>Replaced by a re-registration, it drains (<see cref="DrainProvider"/>): queued and running requests are answered,
/// then it stops. A code sent to the token endpoint is spent, so its answer must reach its login.</para>
/// <para>Restarted by the registry after a throw, it keeps its work: the request it failed on is answered with a
/// failure, queued requests and logins waiting for discovery are handed to the next incarnation (sent to itself with
/// their original senders), and token requests still running answer their logins when they finish. The discovery
/// result is a cache and is fetched again.</para>
/// </remarks>
internal sealed class ProviderActor : ReceiveActor
{
    private readonly ProviderStrategy _strategy;
    private readonly Func<HttpClient> _httpClients;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private readonly TimeSpan _exchangeTimeout;
    private readonly string? _redirectPath;
    // The listener's redirect URI last seen and the provider's own URI built from it: the listener's URI does not change
    // while it lives, so every login reuses the one built (a UriBuilder and a parse per login before).
    private (Uri Listener, Uri Provider)? _redirectUris;
    // Watched: the login was watched when its exchange was queued, and is unwatched once the exchange leaves the queue.
    private readonly Queue<(object Request, IActorRef ReplyTo, bool Watched)> _waiting = new();
    // Logins waiting for discovery: a browser login's PrepareAuthorization, or a device login's RequestDeviceCode (which
    // needs the descriptor too: whether the provider binds tokens with DPoP decides the key its polls sign with).
    private readonly List<(object Request, IActorRef ReplyTo)> _pending = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // How long this endpoint takes to answer a token request: a queued code is sent only with that much time left.
    private readonly AnswerTimeEstimate _answerTimes = new();
    private int _inFlight;
    private ProviderDescriptor? _descriptor;
    private bool _draining;
    // What is being started on this thread, so PreRestart answers it if starting throws: a token request, or the
    // discovery the logins in _pending wait for. Handed on instead, they would make the next incarnation throw again.
    private (object Request, IActorRef ReplyTo)? _starting;
    private bool _startingDiscovery;
    // Hears of a discovery strategy's background reads of the metadata, to log them (the strategy has no log).
    private Action<MetadataRefreshed>? _hearRefreshes;

    /// <summary>Props for a provider actor.</summary>
    /// <param name="strategy">The provider's protocol.</param>
    /// <param name="httpClients">Creates the HTTP client for a request (from <c>IHttpClientFactory</c>).</param>
    /// <param name="maxConcurrentExchanges">Token requests in flight at once.</param>
    /// <param name="exchangeTimeout">How long one token request may take.</param>
    /// <param name="maxQueuedExchanges">Token requests held waiting for a slot; past it a request fails at once.</param>
    /// <param name="redirectPath">The provider's own redirect path, put on the listener's redirect URI; null keeps that URI as is.</param>
    public static Props Props(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = DefaultMaxQueuedExchanges, string? redirectPath = null) =>
        Akka.Actor.Props.Create(() => new ProviderActor(strategy, httpClients, maxConcurrentExchanges, exchangeTimeout, maxQueuedExchanges, redirectPath));

    /// <summary>The shipped <c>o8.providers.max-queued-exchanges</c>.</summary>
    internal const int DefaultMaxQueuedExchanges = 1024;

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ProviderActor(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = DefaultMaxQueuedExchanges, string? redirectPath = null)
    {
        _strategy = strategy;
        _redirectPath = redirectPath;
        _httpClients = httpClients;
        _maxConcurrent = Math.Max(1, maxConcurrentExchanges);
        _maxQueued = Math.Max(0, maxQueuedExchanges);
        _exchangeTimeout = ExchangeTimeouts.TokenRequest(exchangeTimeout);
        Unresolved();
    }

    private sealed record Resolved(ProviderDescriptor Descriptor);
    // A strategy's discovery may throw anything: its type only, should this reach dead letters (a stopped provider).
    private sealed record ResolveFailed(Exception Cause)
    {
        public override string ToString() => $"ResolveFailed {{ Cause = {Printed.TypeOf(Cause)} }}";
    }
    // Owner: the incarnation that started the request. One that finishes after a restart was never counted by the new
    // incarnation, so it must not free a slot there. The request's caller has had its answer already (AnswerWhenDone).
    // AnswerTime: how long the endpoint took to answer a code or a refresh; null when it did not answer (a timeout, a
    // network failure) or the request was of another kind.
    private sealed record TokenRequestDone(ProviderActor Owner, TimeSpan? AnswerTime);

    /// <inheritdoc />
    protected override void PreStart()
    {
        base.PreStart();
        if (_strategy is not IRefreshesMetadata refreshing) return;
        var self = Self;
        _hearRefreshes = report => self.Tell(report);
        refreshing.Refreshed += _hearRefreshes;
    }

    /// <inheritdoc />
    protected override void PreRestart(Exception reason, object message)
    {
        if (_starting is { } failed) failed.ReplyTo.Tell(InternalFailure(failed.Request));
        foreach (var queued in _waiting) Self.Tell(queued.Request, queued.ReplyTo);
        foreach (var waiting in _pending)
        {
            if (_startingDiscovery) waiting.ReplyTo.Tell(InternalFailure(waiting.Request));
            else Self.Tell(waiting.Request, waiting.ReplyTo);
        }
        if (_draining) Self.Tell(DrainProvider.Instance);
        // Answered and handed on: the base's PostStop (called from here) must not answer them again.
        _starting = null;
        _waiting.Clear();
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    /// <summary>
    /// Stopped with requests still held (the registry gave up on it after repeated failures, or the system is stopping):
    /// the request it failed on last, each queued request and each login waiting for discovery is answered, rather than
    /// left to its own deadline with an answer that would blame the user or the network. A token request already sent
    /// answers its caller when it returns (<see cref="AnswerWhenDone{T}"/>). Requests still in the mailbox go to dead
    /// letters, where the <see cref="Flows.UndeliveredLoginWatcher"/> answers them.
    /// </summary>
    protected override void PostStop()
    {
        if (_strategy is IRefreshesMetadata refreshing && _hearRefreshes is not null) refreshing.Refreshed -= _hearRefreshes;
        // Set only while a request starts: still set here, starting it threw and the registry stopped this actor instead
        // of restarting it (on a restart, PreRestart answered it and cleared it before calling this).
        // As the registry and the dead letters' watcher answer the requests this actor never took: one kind of failure,
        // ProviderUnavailable, for every caller of a provider that is gone.
        if (_starting is { } failed)
            failed.ReplyTo.Tell(Unavailable(failed.Request, "after failing repeatedly (this request failed as it started)"));
        foreach (var (request, replyTo, _) in _waiting) replyTo.Tell(Unavailable(request, "before it could answer"));
        foreach (var (request, replyTo) in _pending) replyTo.Tell(Unavailable(request, "before it could answer"));
        _waiting.Clear();
        _pending.Clear();
        base.PostStop();
    }

    /// <summary>The answer to <paramref name="request"/> of a provider whose actor stopped <paramref name="how"/>, never sending it.</summary>
    private object Unavailable(object request, string how) => ProviderRequestFailures.ProviderOf(request) is null
        ? InternalFailure(request, $"stopped {how}")
        : ProviderRequestFailures.For(request, LoginFailure.ProviderUnavailable, ProviderRequestFailures.Stopped(_strategy.Name, how));

    private object InternalFailure(object request, string what = "failed (internal error)") => request switch
    {
        PrepareAuthorization p => new ProviderUnavailable(p.LoginId, $"The provider '{_strategy.Name}' {what}."),
        PrepareEndSession s => new ProviderUnavailable(s.RequestId, $"The provider '{_strategy.Name}' {what}."),
        FetchUserInfo u => new UserInfoFetchFailed(u.RequestId, new UserInfoException(UserInfoFailure.Failed, $"The provider '{_strategy.Name}' {what}.")),
        ValidateLogoutToken l => new LogoutTokenRefused(l.RequestId, new BackChannelLogoutException(BackChannelLogoutFailure.Failed, $"The provider '{_strategy.Name}' {what}.")),
        ExchangeCode e => new CodeExchangeFailed(e.LoginId, LoginFailure.TokenExchange, $"The token exchange with '{_strategy.Name}' {what}.", null),
        RefreshTokens r => new CodeExchangeFailed(r.RequestId, LoginFailure.TokenExchange, $"The token refresh with '{_strategy.Name}' {what}.", null),
        RevokeTokens v => new RevocationDone(v.RequestId, RevocationOutcome.Failed, $"The revocation with '{_strategy.Name}' {what}."),
        RequestDeviceCode d => new CodeExchangeFailed(d.LoginId, LoginFailure.TokenExchange, $"The device authorization with '{_strategy.Name}' {what}.", null),
        PollDeviceToken p => new CodeExchangeFailed(p.LoginId, LoginFailure.TokenExchange, $"The device token request with '{_strategy.Name}' {what}.", null),
        _ => new Status.Failure(new InvalidOperationException($"The provider {what}.")),
    };

    private void Unresolved()
    {
        Receive<PrepareAuthorization>(msg =>
        {
            _pending.Add((msg, Sender));
            StartResolving();
        });
        Receive<RequestDeviceCode>(msg =>
        {
            if (RefusedForStepUp(msg, Sender)) return;
            _pending.Add((msg, Sender));
            StartResolving();
        });
        TokenRequests();
    }

    /// <summary>
    /// Refuses a device login on a provider whose own parameters ask every login for <c>max_age</c> or
    /// <c>acr_values</c>: the device grant cannot carry them nor is its ID token held to them, so it would pass over the
    /// requirement. Answered as a provider without the device grant is (<see cref="LoginFailure.ProviderUnavailable"/>), so
    /// an Auto login goes on in the browser. True when refused (answered).
    /// </summary>
    private bool RefusedForStepUp(RequestDeviceCode msg, IActorRef replyTo)
    {
        if (_strategy.RequiredStepUp is null) return false;
        replyTo.Tell(new CodeExchangeFailed(msg.LoginId, LoginFailure.ProviderUnavailable,
            $"The provider '{_strategy.Name}' asks every login for max_age or acr_values (its AuthorizeParameters), which a device login " +
            "cannot carry nor show: sign in with the browser.", null) { BrowserMayServe = true });
        return true;
    }

    private void StartResolving()
    {
        Become(Resolving);
        var strategy = _strategy;
        _startingDiscovery = true;
        var http = _httpClients();
        _startingDiscovery = false;
        RunWithTimeout(ct => strategy.ResolveAsync(http, ct), _exchangeTimeout)
            .PipeTo(Self, success: d => new Resolved(d), failure: e => new ResolveFailed(e));
    }

    private void Resolving()
    {
        Receive<PrepareAuthorization>(msg => _pending.Add((msg, Sender)));
        Receive<RequestDeviceCode>(msg =>
        {
            if (!RefusedForStepUp(msg, Sender)) _pending.Add((msg, Sender));
        });
        Receive<Resolved>(msg =>
        {
            _descriptor = msg.Descriptor;
            _log.Info("Provider {0} resolved (issuer {1}, iss parameter {2}, PKCE {3})",
                _strategy.Name, msg.Descriptor.Issuer ?? "unknown", msg.Descriptor.IssuerParameterSupported, msg.Descriptor.SupportsPkce);
            // Once per provider: public clients cannot get here without PKCE (their options and metadata are refused).
            if (!msg.Descriptor.SupportsPkce) WarnWithoutPkce();
            Become(Ready);
            foreach (var (request, replyTo) in _pending)
            {
                if (request is PrepareAuthorization prepare) Prepare(prepare, replyTo);
                else Enqueue(request, replyTo);
            }
            _pending.Clear();
            StopIfDrained();
        });
        Receive<ResolveFailed>(msg =>
        {
            // Answer everyone who waited, then try again on the next login: discovery may recover.
            var reason = $"The provider '{_strategy.Name}' could not be resolved: {SafeReason(msg.Cause)}";
            _log.Warning(reason);
            foreach (var (request, replyTo) in _pending)
                replyTo.Tell(request is RequestDeviceCode device
                    ? new CodeExchangeFailed(device.LoginId, LoginFailure.ProviderUnavailable, reason, null) { BrowserMayServe = true }
                    : new ProviderUnavailable(((PrepareAuthorization)request).LoginId, reason));
            _pending.Clear();
            Become(Unresolved);
            StopIfDrained();
        });
        TokenRequests();
    }

    private void Ready()
    {
        Receive<PrepareAuthorization>(msg => Prepare(msg, Sender));
        TokenRequests();
    }

    /// <summary>
    /// What a new login is prepared with: the latest metadata's when the strategy reads it again (a login already
    /// prepared keeps the descriptor it has), else the first resolution's.
    /// </summary>
    private ProviderDescriptor CurrentDescriptor =>
        (_strategy as IRefreshesMetadata)?.LatestDescriptor ?? _descriptor ?? ProviderDescriptor.Static;

    /// <summary>
    /// A background read of the metadata ended. A failed one is a warning (the metadata held stays in use, so logins go
    /// on); new metadata that changes what logins are prepared with is noted, as the first resolution is.
    /// </summary>
    private void MetadataRefreshed(MetadataRefreshed msg)
    {
        if (msg.Descriptor is not { } fresh)
        {
            _log.Warning("Provider {0}: its metadata could not be read again, the metadata read before stays in use and is read again in {1}: {2}",
                _strategy.Name, msg.RetryIn, msg.Problem ?? "unknown");
            return;
        }
        var before = _descriptor;
        _descriptor = fresh;
        if (before == fresh)
        {
            _log.Debug("Provider {0}: its metadata was read again", _strategy.Name);
            return;
        }
        _log.Info("Provider {0}: its metadata was read again and changed (issuer {1}, iss parameter {2}, PKCE {3})",
            _strategy.Name, fresh.Issuer ?? "unknown", fresh.IssuerParameterSupported, fresh.SupportsPkce);
        if (!fresh.SupportsPkce && before?.SupportsPkce != false) WarnWithoutPkce();
    }

    private void WarnWithoutPkce() =>
        _log.Warning("Provider {0} signs in without PKCE (a confidential client's opt-out, or metadata without S256): a stolen code is protected only by the client secret", _strategy.Name);

    private void Prepare(PrepareAuthorization msg, IActorRef replyTo)
    {
        // The provider's own max_age or acr_values are a requirement on every login (checked on its ID token, as a
        // login's own are); the shorter of two max_age goes on the request.
        var required = _strategy.RequiredStepUp;
        var extraParameters = StepUp.WithStricterMaxAge(msg.ExtraParameters, required);
        if (!_strategy.EnforcesStepUp && (required is not null || StepUp.Asked(extraParameters)))
        {
            // Refused before the browser opens: nothing would check the ID token for the step-up the login asked for.
            replyTo.Tell(new ProviderUnavailable(msg.LoginId, StepUp.Unenforced(_strategy), LoginFailure.IdTokenInvalid));
            return;
        }
        var descriptor = CurrentDescriptor;
        try
        {
            var redirectUri = RedirectUriFor(msg.RedirectUri);
            // The challenge goes out when the provider takes it; the app's PKCE switch drops it for a confidential client only.
            // The login learns whether it went out (and so sends the verifier or not).
            var challenge = descriptor.SupportsPkce && !(msg.PkceOffForConfidentialClient && _strategy.IsConfidentialClient) ? msg.CodeChallenge : null;
            var context = new AuthorizeUrlContext(
                msg.State,
                challenge,
                redirectUri,
                msg.Scopes,
                extraParameters,
                descriptor,
                msg.Nonce);
            // A key per login: the account it becomes keeps it with its tokens (RFC 9449).
            var dpopKey = descriptor.UsesDpop ? Dpop.DpopKey.Create() : null;
            if (dpopKey is not null) context = context with { DpopKeyThumbprint = dpopKey.Thumbprint };
            var strategy = _strategy;
            var http = _httpClients();
            // A plain URL is ready at once; a pushed request (RFC 9126) is a POST, answered when it returns (within the
            // token-request timeout). Either way the answer is piped to the login, so this actor never waits.
            var building = RunWithTimeout(ct => strategy.BuildAuthorizeUrlAsync(context, http, ct), _exchangeTimeout);
            var name = strategy.Name;
            var loginId = msg.LoginId;
            building.PipeTo(replyTo,
                success: url => new AuthorizationPrepared(loginId, url, descriptor, redirectUri, dpopKey, PkceUsed: challenge is not null)
                {
                    RequiredStepUp = required,
                },
                failure: e => new ProviderUnavailable(loginId, $"The provider '{name}' could not build an authorize URL: {SafeReason(e)}"));
        }
        catch (Exception e)
        {
            replyTo.Tell(new ProviderUnavailable(msg.LoginId, $"The provider '{_strategy.Name}' could not build an authorize URL: {SafeReason(e)}"));
        }
    }

    /// <summary>
    /// The provider's redirect URI for a login that came with the listener's <paramref name="listenerUri"/>; compared by
    /// its exact string (Uri equality ignores user info and the host's case, and a redirect URI is compared byte for byte).
    /// </summary>
    private Uri RedirectUriFor(Uri listenerUri)
    {
        if (_redirectPath is null) return listenerUri;
        if (_redirectUris is { } known && (ReferenceEquals(known.Listener, listenerUri) ||
            string.Equals(known.Listener.OriginalString, listenerUri.OriginalString, StringComparison.Ordinal)))
            return known.Provider;
        var provider = RedirectPaths.WithPath(listenerUri, _redirectPath);
        _redirectUris = (listenerUri, provider);
        return provider;
    }

    /// <summary>
    /// A sign-out's end-session URL: built by the strategy (which reads its metadata first when it has not yet) and piped
    /// to the sign-out; no token request, so it does not queue behind them.
    /// </summary>
    private void PrepareEndSession(PrepareEndSession msg, IActorRef replyTo)
    {
        try
        {
            var postLogoutRedirectUri = RedirectUriFor(msg.ListenerRedirectUri);
            var context = new EndSessionContext(msg.State, postLogoutRedirectUri, msg.IdTokenHint);
            var strategy = _strategy;
            var http = _httpClients();
            var requestId = msg.RequestId;
            RunWithTimeout(ct => strategy.BuildEndSessionUrlAsync(context, http, ct), _exchangeTimeout).PipeTo(replyTo,
                success: url => new EndSessionPrepared(requestId, url, postLogoutRedirectUri),
                failure: e => new ProviderUnavailable(requestId, $"The provider '{strategy.Name}' could not build an end-session URL: {SafeReason(e)}"));
        }
        catch (Exception e)
        {
            replyTo.Tell(new ProviderUnavailable(msg.RequestId, $"The provider '{_strategy.Name}' could not build an end-session URL: {SafeReason(e)}"));
        }
    }

    /// <summary>
    /// A UserInfo request: run by the strategy (which reads its metadata first when it has not yet) and piped to the
    /// caller; not token-endpoint traffic, so it does not queue behind token requests.
    /// </summary>
    private void FetchUserInfo(FetchUserInfo msg, IActorRef replyTo)
    {
        var strategy = _strategy;
        var requestId = msg.RequestId;
        var context = msg.Context;
        var httpClients = _httpClients;
        // The client is made inside the work, so a factory that throws fails this request and not the actor.
        RunWithTimeout(ct => strategy.FetchUserInfoAsync(context, httpClients(), ct), _exchangeTimeout).PipeTo(replyTo,
            success: document => new UserInfoFetched(requestId, document),
            failure: e => new UserInfoFetchFailed(requestId, UserInfoError(strategy.Name, e)));
    }

    /// <summary>A piped task's failure as the work threw it (a faulted task's single exception, not its aggregate).</summary>
    private static Exception Unwrapped(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;

    /// <summary>What the caller throws for a failed UserInfo request: the strategy's own <see cref="UserInfoException"/>, or one that says why without quoting a strategy's text.</summary>
    private static UserInfoException UserInfoError(string provider, Exception e)
    {
        var cause = Unwrapped(e);
        return cause as UserInfoException ?? new UserInfoException(UserInfoFailure.Failed,
            $"The UserInfo request to provider '{provider}' failed: {SafeReason(cause)}", innerException: cause);
    }

    /// <summary>
    /// A back-channel logout token: validated by the strategy (which reads its metadata first when it has not yet) and
    /// answered to the caller, who then has its <c>jti</c> accepted once (<see cref="Logout.LogoutTokenReplayGuard"/>).
    /// </summary>
    private void ValidateLogoutToken(ValidateLogoutToken msg, IActorRef replyTo)
    {
        var strategy = _strategy;
        var name = strategy.Name;
        var requestId = msg.RequestId;
        var token = msg.Token;
        var httpClients = _httpClients;
        RunWithTimeout(ct => strategy.ValidateLogoutTokenAsync(token, httpClients(), ct), _exchangeTimeout).PipeTo(replyTo,
            success: valid => valid is null
                ? new LogoutTokenRefused(requestId, new BackChannelLogoutException(BackChannelLogoutFailure.NotSupported,
                    $"The provider '{name}' validates no ID tokens here (no key set: set JwksUri, or use a provider whose metadata lists jwks_uri), so its logout tokens cannot be checked. No account was signed out."))
                : new LogoutTokenAccepted(requestId, valid),
            failure: e =>
            {
                var cause = Unwrapped(e);
                return new LogoutTokenRefused(requestId, cause as BackChannelLogoutException
                    ?? new BackChannelLogoutException(BackChannelLogoutFailure.Failed, $"The logout token from '{name}' could not be checked: {SafeReason(cause)}", cause));
            });
    }

    private void TokenRequests()
    {
        Receive<MetadataRefreshed>(MetadataRefreshed);
        Receive<PrepareEndSession>(msg => PrepareEndSession(msg, Sender));
        Receive<FetchUserInfo>(msg => FetchUserInfo(msg, Sender));
        Receive<ValidateLogoutToken>(msg => ValidateLogoutToken(msg, Sender));
        Receive<ExchangeCode>(msg => Enqueue(msg));
        Receive<RefreshTokens>(msg => Enqueue(msg));
        Receive<RevokeTokens>(msg => Enqueue(msg));
        // Tokens nobody will take (refused here, or late for a login that is gone): queued like any token request, and
        // nobody waits for the answer.
        Receive<RevokeUnclaimedTokens>(msg =>
        {
            if (RevokeTokens.Of(msg.Tokens) is { Count: > 0 } revoke)
                Enqueue(new RevokeTokens(_strategy.Name, $"revoke-unclaimed-{Flows.FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
        });
        // Device logins: the device code request and each poll are token-endpoint traffic, queued and bounded like an exchange.
        Receive<RequestDeviceCode>(msg =>
        {
            if (!RefusedForStepUp(msg, Sender)) Enqueue(msg);
        });
        Receive<PollDeviceToken>(msg => Enqueue(msg));
        Receive<TokenRequestDone>(msg =>
        {
            if (ReferenceEquals(msg.Owner, this))
            {
                _inFlight--;
                if (msg.AnswerTime is { } answerTime) _answerTimes.Record(answerTime);
            }
            StartWaiting();
            StopIfDrained();
        });
        Receive<DrainProvider>(_ =>
        {
            _draining = true;
            StopIfDrained();
        });
        // A login that ended (cancelled, timed out, stopped) while its exchange was queued: the code is never sent.
        Receive<Terminated>(msg => DropQueuedOf(msg.ActorRef));
        Receive<WithdrawExchange>(msg => Withdraw(msg, Sender));
    }

    private void Withdraw(WithdrawExchange msg, IActorRef login)
    {
        // Not found: already sent (or never queued here), so its answer comes as it would.
        // A code exchange or a device poll: either may be what an ended login still waits for.
        var withdrawn = TakeFromQueue(w => w.ReplyTo.Equals(login) &&
            (w.Request is ExchangeCode e && e.LoginId == msg.LoginId || w.Request is PollDeviceToken p && p.LoginId == msg.LoginId));
        foreach (var (_, replyTo, watched) in withdrawn)
        {
            if (watched) Context.Unwatch(replyTo);
            replyTo.Tell(new CodeExchangeFailed(msg.LoginId, LoginFailure.TokenExchange,
                $"The token request was withdrawn by its login while it waited in the queue of '{_strategy.Name}', and was not sent.", null));
        }
        if (withdrawn.Count > 0) StopIfDrained();
    }

    private void DropQueuedOf(IActorRef ended)
    {
        if (TakeFromQueue(w => w.ReplyTo.Equals(ended)).Count == 0) return;
        _log.Info("Provider {0}: a queued token request dropped unsent, its login has ended", _strategy.Name);
        StopIfDrained();
    }

    /// <summary>Takes the queued requests <paramref name="which"/> picks out of the queue (the rest keep their order) and returns them.</summary>
    private IReadOnlyList<(object Request, IActorRef ReplyTo, bool Watched)> TakeFromQueue(Func<(object Request, IActorRef ReplyTo, bool Watched), bool> which)
    {
        List<(object Request, IActorRef ReplyTo, bool Watched)>? taken = null;
        var count = _waiting.Count;
        for (var i = 0; i < count; i++)
        {
            var item = _waiting.Dequeue();
            if (which(item)) (taken ??= []).Add(item);
            else _waiting.Enqueue(item);
        }

        return taken ?? [];
    }

    private void StopIfDrained()
    {
        if (_draining && _inFlight == 0 && _waiting.Count == 0 && _pending.Count == 0) Context.Stop(Self);
    }

    private void Enqueue(object request) => Enqueue(request, Sender);

    private void Enqueue(object request, IActorRef replyTo)
    {
        // A request that would wait behind a full queue fails at once: waiting longer than its login does helps nobody.
        if (_inFlight >= _maxConcurrent && _waiting.Count >= _maxQueued)
        {
            DropExpired();
            if (_waiting.Count >= _maxQueued)
            {
                _log.Warning("Provider {0}: token request of {1} refused, o8.providers.max-queued-exchanges ({2}) is reached",
                    _strategy.Name, RequestId(request), _maxQueued);
                replyTo.Tell(QueueFull(request));
                return;
            }
        }

        // Watched so a login that ends while its exchange waits takes the exchange out of the queue. Only a login's
        // exchange: a refresh (from an account's actor, or an Ask) is bounded by its deadline instead.
        var watch = request is ExchangeCode or PollDeviceToken && _inFlight >= _maxConcurrent && !replyTo.IsNobody();
        if (watch) Context.Watch(replyTo);
        _waiting.Enqueue((request, replyTo, watch));
        StartWaiting();
    }

    private object QueueFull(object request) => request is RevokeTokens revoke
        ? new RevocationDone(revoke.RequestId, RevocationOutcome.Failed,
            $"The token requests waiting for '{_strategy.Name}' reached o8.providers.max-queued-exchanges ({_maxQueued}); the revocation was not sent.")
        : new CodeExchangeFailed(RequestId(request), LoginFailure.ExchangeQueueFull,
            $"The token requests waiting for '{_strategy.Name}' reached o8.providers.max-queued-exchanges ({_maxQueued}); the code was not sent.", null);

    private static string RequestId(object request) => request switch
    {
        ExchangeCode e => e.LoginId,
        RefreshTokens r => r.RequestId,
        RevokeTokens v => v.RequestId,
        RequestDeviceCode d => d.LoginId,
        PollDeviceToken p => p.LoginId,
        _ => "?",
    };

    /// <summary>Whether <paramref name="request"/> is an exchange whose login has already given up on it.</summary>
    private bool Expired(object request) => request switch
    {
        ExchangeCode { Deadline: { } deadline } => ExchangeTimeouts.TooLateToSend(deadline, Context.System.Scheduler.Now, _exchangeTimeout, _answerTimes.Likely),
        PollDeviceToken { Deadline: { } deadline } => Context.System.Scheduler.Now >= deadline,
        RefreshTokens { Deadline: { } deadline } => Context.System.Scheduler.Now >= deadline,
        _ => false,
    };

    /// <summary>Whether <paramref name="request"/> is a refresh whose caller has cancelled its wait (see <see cref="RefreshTokens.CallerCancellation"/>).</summary>
    private static bool CallerCancelled(object request) => request is RefreshTokens { CallerCancellation.IsCancellationRequested: true };

    /// <summary>Removes the queued requests whose caller has given up (its deadline passed, or it cancelled); none is ever sent.</summary>
    private void DropExpired()
    {
        foreach (var dropped in TakeFromQueue(w => CallerCancelled(w.Request) || Expired(w.Request)))
        {
            // Out of the queue like a sent exchange, so its login is no longer watched either.
            if (dropped.Watched) Context.Unwatch(dropped.ReplyTo);
            if (CallerCancelled(dropped.Request)) DropCancelled(dropped.Request);
            else AnswerExpired(dropped.Request, dropped.ReplyTo);
        }
    }

    private void DropCancelled(object request) =>
        // Unanswered: its caller's Ask has ended, an answer would only land in dead letters.
        _log.Info("Provider {0}: token refresh {1} dropped unsent, its caller cancelled while it waited in the queue", _strategy.Name, RequestId(request));

    private void AnswerExpired(object request, IActorRef replyTo)
    {
        _log.Info("Provider {0}: token request of {1} dropped unsent, it waited in the queue until it could no longer be answered before its caller's deadline",
            _strategy.Name, RequestId(request));
        // The caller may have given up already (then the answer is only so no one waits); a login still waiting ends with it.
        replyTo.Tell(new CodeExchangeFailed(RequestId(request), LoginFailure.ExchangeTimeout,
            $"The token request waited in the queue of '{_strategy.Name}' until it could no longer be answered before its caller's deadline, and was not sent.", null));
    }

    private void StartWaiting()
    {
        while (_inFlight < _maxConcurrent && _waiting.TryDequeue(out var next))
        {
            // Out of the queue, the login's end no longer concerns this actor: without the unwatch every login that
            // ever waited would send a Terminated here and cost a scan of the queue.
            if (next.Watched) Context.Unwatch(next.ReplyTo);
            if (CallerCancelled(next.Request))
            {
                DropCancelled(next.Request);
                continue;
            }

            if (Expired(next.Request))
            {
                AnswerExpired(next.Request, next.ReplyTo);
                continue;
            }

            _starting = (next.Request, next.ReplyTo);
            Run(next.Request, next.ReplyTo);
            _inFlight++;
            _starting = null;
        }
    }

    private void Run(object request, IActorRef replyTo)
    {
        var strategy = _strategy;
        var http = _httpClients();
        if (request is RevokeTokens revoke)
        {
            RunRevocation(revoke, replyTo, http);
            return;
        }

        if (request is RequestDeviceCode or PollDeviceToken)
        {
            RunDevice(request, replyTo, http);
            return;
        }

        // A login's code gets what is left of its login's deadline (all of one token request unless it queued), so its
        // answer always reaches the login; a refresh was sent in time for its caller by its own deadline.
        var timeout = request is ExchangeCode { Deadline: { } loginGivesUp }
            ? ExchangeTimeouts.ExchangeBudget(loginGivesUp, Context.System.Scheduler.Now, _exchangeTimeout)
            : _exchangeTimeout;
        // Waiting for the key set ends a tenth of the request's time limit before it (a discovery on the way included),
        // leaving time to hand back the tokens (a refresh) or revoke them (a login whose ID token cannot be checked).
        var keysDeadline = KeysDeadline(timeout);
        var (flowId, parent, work) = request switch
        {
            ExchangeCode e => (e.LoginId, e.Parent, (Func<CancellationToken, Task<TokenSet>>)(ct =>
                ExchangeAsync(strategy, new CodeExchangeContext(e.Code, e.CodeVerifier, e.RedirectUri, e.Nonce)
                {
                    DpopKey = e.DpopKey,
                    AuthenticatedNotBefore = e.AuthenticatedNotBefore,
                    AcceptedAcrValues = e.AcceptedAcrValues,
                    Scopes = e.Scopes,
                    KeysDeadline = keysDeadline,
                }, http, ct))),
            RefreshTokens r => (r.RequestId, default(ActivityContext), ct => IdTokens.RefusedRefresh.SparingTheSentRefreshToken(
                IdTokens.RefreshedIdToken.SameUser(strategy.RefreshAsync(
                    new RefreshContext(r.RefreshToken, r.Scopes) { DpopKey = r.DpopKey, KeysDeadline = keysDeadline }, http, ct),
                    r.PreviousIdToken, strategy.Name), r.RefreshToken)),
            _ => throw new InvalidOperationException($"Unexpected token request {request.GetType().Name}"),
        };
        var name = strategy.Name;
        AnswerWhenDone(() => RunWithTimeout(ct => Traced("o8.token_request", work, parent, name, ct), timeout), replyTo,
            success: tokens => new CodeExchanged(flowId, tokens) { ForLogin = request is ExchangeCode },
            failure: e => ToFailure(flowId, name, timeout, e),
            timesAnswers: true);
    }

    /// <summary>
    /// Answers a running token request's caller straight from its task, then frees its slot here. Not through this
    /// actor: stopped meanwhile (the registry gave up on it after repeated failures), it would lose the answer, and
    /// with a code or a rotated refresh token spent at the provider, the tokens with it. The answer's sender is this
    /// actor, as a reply from it would be. With <paramref name="timesAnswers"/>, an answer's time (tokens or an error
    /// response, in scheduler time like the deadlines it is weighed against) goes back with the freed slot. The request
    /// is started here, after its start time is read: read after, it would leave out whatever time passed while the
    /// request began (the strategy's synchronous part), and an endpoint would look faster than it is.
    /// </summary>
    private void AnswerWhenDone<T>(Func<Task<T>> start, IActorRef replyTo, Func<T, object> success, Func<Exception, object> failure,
        bool timesAnswers = false)
    {
        var self = Self;
        var owner = this;
        var scheduler = Context.System.Scheduler;
        var started = scheduler.Now;
        var running = start();
        _ = AnswerAsync();

        async Task AnswerAsync()
        {
            object reply;
            var answered = true;
            try
            {
                reply = success(await running.ConfigureAwait(false));
            }
            catch (Exception e)
            {
                reply = failure(e);
                var cause = Unwrapped(e);
                answered = cause is TokenExchangeException or IdTokenValidationException;
                // Tokens issued and then refused (with an ID token that failed its checks, or unbound on a DPoP login)
                // are live at the provider and nobody will use them: revoked (RFC 7009).
                var refused = cause switch
                {
                    IdTokenValidationException v => v.Issued,
                    TokenExchangeException t => t.Issued,
                    _ => null,
                };
                if (refused is not null) self.Tell(new RevokeUnclaimedTokens(refused), ActorRefs.Nobody);
            }

            replyTo.Tell(reply, self);
            self.Tell(new TokenRequestDone(owner, timesAnswers && answered ? scheduler.Now - started : null));
        }
    }

    /// <summary>
    /// A code exchange; a step-up one only on a strategy that enforces it (its authorize URL was prepared by one, but the
    /// provider may have been replaced since), else refused before the code is sent.
    /// </summary>
    private static Task<TokenSet> ExchangeAsync(ProviderStrategy strategy, CodeExchangeContext context, HttpClient http, CancellationToken ct) =>
        context.RequiresIdToken && !strategy.EnforcesStepUp
            ? Task.FromException<TokenSet>(new IdTokenValidationException(StepUp.Unenforced(strategy)))
            : strategy.ExchangeCodeAsync(context, http, ct);

    /// <summary>
    /// Revokes the tokens in order (RFC 7009), each one asked even when one before it was refused (a server may refuse
    /// to revoke one type of token, section 2.2.1, and still revoke the other); fails with the first refusal. A strategy
    /// without a revocation endpoint answers <see cref="RevocationOutcome.NotSupported"/> for the first token and
    /// nothing is sent. The deadline covers them all.
    /// </summary>
    private void RunRevocation(RevokeTokens revoke, IActorRef replyTo, HttpClient http)
    {
        var strategy = _strategy;
        var timeout = _exchangeTimeout;
        AnswerWhenDone(() => RunWithTimeout(async ct =>
        {
            Exception? refused = null;
            foreach (var token in revoke.Tokens)
            {
                try
                {
                    if (!await strategy.RevokeAsync(token, http, ct).ConfigureAwait(false)) return RevocationOutcome.NotSupported;
                }
                catch (TokenExchangeException e)
                {
                    refused ??= e;
                }
            }

            if (refused is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
            return RevocationOutcome.Revoked;
        }, timeout), replyTo,
            success: outcome => new RevocationDone(revoke.RequestId, outcome),
            failure: e => new RevocationDone(revoke.RequestId, RevocationOutcome.Failed,
                $"The revocation with '{strategy.Name}' failed: {SafeReason(e)}"));
    }

    /// <summary>
    /// A device login's request: the device code, or one poll. A provider without the device grant answers
    /// <see cref="LoginFailure.ProviderUnavailable"/>, so an automatic choice can fall back to the browser.
    /// </summary>
    private void RunDevice(object request, IActorRef replyTo, HttpClient http)
    {
        var strategy = _strategy;
        // A device code is asked for only once the provider is resolved (like a browser login's authorize URL), so the
        // descriptor says whether the provider binds tokens; polls carry the login's key and need no descriptor.
        var usesDpop = CurrentDescriptor.UsesDpop;
        var name = strategy.Name;
        var timeout = _exchangeTimeout;
        var (loginId, parent, work) = request switch
        {
            RequestDeviceCode d => (d.LoginId, d.Parent, (Func<CancellationToken, Task<object>>)(async ct =>
                new DeviceCodeIssued(d.LoginId, ShowableDeviceCode.Checked(await strategy.RequestDeviceAuthorizationAsync(
                    new DeviceAuthorizationContext(d.Scopes, d.ExtraParameters), http, ct).ConfigureAwait(false), name),
                    // A key per login, as for the browser login (RFC 9449): the polls sign with it.
                    usesDpop ? Dpop.DpopKey.Create() : null))),
            PollDeviceToken p => (p.LoginId, p.Parent, async ct =>
                new DeviceTokenPolled(p.LoginId, await strategy.PollDeviceTokenAsync(
                    new DeviceTokenContext(p.DeviceCode) { DpopKey = p.DpopKey, KeysDeadline = KeysDeadline(timeout) }, http, ct).ConfigureAwait(false))),
            _ => throw new InvalidOperationException($"Unexpected device request {request.GetType().Name}"),
        };
        AnswerWhenDone(() => RunWithTimeout(ct => Traced("o8.device_request", work, parent, name, ct), timeout), replyTo,
            success: reply => reply,
            failure: e => ToDeviceFailure(loginId, name, timeout, e));
    }

    /// <summary>When a token request's wait for the key set ends: a tenth of its time limit before the limit.</summary>
    private static long KeysDeadline(TimeSpan timeout) => IdTokens.JwksCache.DeadlineIn(timeout - timeout / 10);

    private static CodeExchangeFailed ToDeviceFailure(string loginId, string provider, TimeSpan timeout, Exception error)
    {
        var cause = Unwrapped(error);
        return cause is NotSupportedException n
            ? new CodeExchangeFailed(loginId, LoginFailure.ProviderUnavailable, n.Message, null, n) { BrowserMayServe = true }
            : ToFailure(loginId, provider, timeout, error);
    }

    /// <summary>
    /// Runs one token request under its own span, a child of the login's (so the HTTP client's span nests under it).
    /// Async, so the span is current only inside the request and never leaks onto the actor's thread. Without a
    /// listener there is no span, and the request runs as it is.
    /// </summary>
    private static Task<T> Traced<T>(string span, Func<CancellationToken, Task<T>> work, ActivityContext parent, string provider, CancellationToken ct) =>
        O8Metrics.ActivitySource.HasListeners() ? TracedAsync(span, work, parent, provider, ct) : work(ct);

    private static async Task<T> TracedAsync<T>(string span, Func<CancellationToken, Task<T>> work, ActivityContext parent, string provider, CancellationToken ct)
    {
        using var activity = O8Metrics.ActivitySource.StartActivity(span, ActivityKind.Internal, parent);
        activity?.SetTag("o8.provider", provider);
        return await work(ct).ConfigureAwait(false);
    }

    private static CodeExchangeFailed ToFailure(string flowId, string provider, TimeSpan timeout, Exception error)
    {
        var cause = Unwrapped(error);
        return cause switch
        {
            TimeoutException or OperationCanceledException => new CodeExchangeFailed(flowId, LoginFailure.ExchangeTimeout,
                $"The token endpoint of '{provider}' did not answer within {timeout.TotalSeconds:0.#} seconds.", null, cause),
            IdTokenValidationException v => new CodeExchangeFailed(flowId, LoginFailure.IdTokenInvalid, v.Message, null, v.WithoutIssued()),
            TokenExchangeException t => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, t.Message, t.ProviderError, t.WithoutIssued()),
            NotSupportedException n => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, n.Message, null, n),
            // A strategy's own exception may carry anything (a user's subclass may quote the response), so its
            // message is not copied into the reason that reaches logs. A RefreshAsync caller still gets it as the inner
            // exception (built on the caller's side); an account's caller does not (AccountActor.RefreshException).
            _ => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange,
                $"The token exchange with '{provider}' failed ({cause.GetType().Name}).", null, cause),
        };
    }

    private static string SafeReason(Exception e)
    {
        var cause = Unwrapped(e);
        return cause is OAuthFlowException or HttpRequestException or TimeoutException or OperationCanceledException or InvalidOperationException or ArgumentException
            ? cause.Message
            : cause.GetType().Name;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a token cancelled after <paramref name="timeout"/>, which then fails as a
    /// <see cref="TimeoutException"/>. Work that finishes at once (a plain authorize URL) never starts the timer; a
    /// synchronous throw becomes a faulted task, like an asynchronous one.
    /// </summary>
    private static Task<T> RunWithTimeout<T>(Func<CancellationToken, Task<T>> work, TimeSpan timeout)
    {
        var cts = new CancellationTokenSource();
        Task<T> task;
        try
        {
            // An app's override that returns no task at all fails its request like one that throws (on the actor's
            // thread a null would throw below, outside this guard, and restart the provider's actor).
            task = work(cts.Token) ?? throw new InvalidOperationException("The provider strategy returned no task (null) for this request.");
        }
        catch (Exception e)
        {
            cts.Dispose();
            return Task.FromException<T>(e);
        }

        if (task.IsCompleted)
        {
            cts.Dispose();
            return task;
        }

        cts.CancelAfter(timeout);
        return WithTimeoutAsync(task, cts, timeout);
    }

    private static async Task<T> WithTimeoutAsync<T>(Task<T> task, CancellationTokenSource cts, TimeSpan timeout)
    {
        using (cts)
        {
            try
            {
                return await task.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} seconds.");
            }
        }
    }
}
