using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// <b>Renewing</b>: one renewal at a time under the store's refresh lock (lock, load, refresh, save), the refresh's
/// answers, the renewal's deadline and overtime, and the answer of a refresh given up that comes late.
/// </summary>
internal sealed partial class AccountActor
{
    private void BeginRenewal()
    {
        Context.SetReceiveTimeout(null);
        var generation = ++_generation;
        _refreshId = null;
        _overtime = false;
        Become(_renewing);
        _renewalEnds = Now + _settings.RenewalTimeout;
        Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(generation), _settings.RenewalTimeout);
        var store = _store;
        var account = _account;
        var lockWait = _settings.LockWait;
        _log.Debug("Account {0}: renewing; taking the refresh lock", _account);
        _locks.LockAsync(store, account, lockWait).PipeTo(Self,
            success: handle => new Locked(generation, handle),
            // Cancelled by the lock's own wait: say so (a cancellation's type name told the caller nothing).
            failure: e => new StoreFailed(generation, e is OperationCanceledException
                ? new StoreDeadlinePassed($"the refresh lock was not granted within {lockWait.TotalSeconds:0} seconds (another process holds it, refreshing the same account)")
                : e));
    }

    private bool Renewing(object message)
    {
        switch (message)
        {
            // Asked after a sign-out that waits for this renewal to end: the account is signing out (as once it has begun).
            case GetAccessToken when _signOutAhead:
                Sender.Tell(new Status.Failure(SigningOutNow(_account)));
                return true;
            case GetAccessToken msg:
                _waiters.Add(NewWaiter(msg));
                return true;
            case RememberLogin msg:
                OnRememberWhileRenewing(msg);
                return true;
            case SignOut msg:
                // After the renewal: a login it would start for its callers is not started (NeedsInteraction).
                StashSignOut(msg);
                return true;
            // Moving only once the renewal is over (back in Idle): its answer may carry a rotated refresh token.
            case AccountHandOff:
                _handOffStashed = true;
                StashMessage();
                return true;
            case Locked msg:
                OnLocked(msg);
                return true;
            case Loaded msg when msg.Generation == _generation:
                OnLoaded(msg.Stored);
                return true;
            case CodeExchanged msg when msg.LoginId == _refreshId:
                LeaveOvertime();
                OnRefreshed(msg);
                return true;
            case CodeExchangeFailed msg when msg.LoginId == _refreshId:
                LeaveOvertime();
                OnRefreshFailed(msg);
                return true;
            case Saved msg when msg.Generation == _generation:
                LeaveOvertime();
                OnSaved(msg);
                return true;
            case StoreFailed msg when msg.Generation == _generation:
                LeaveOvertime();
                OnStoreFailed(msg);
                return true;
            case RenewalTimedOut msg when msg.Generation == _generation:
                if (_overtime) OnOvertimeEnded();
                else OnRenewalTimedOut();
                return true;
            // A refresh given up by an earlier renewal answers now: kept once this renewal is over (back in Idle).
            case CodeExchanged msg when IsLateRefresh(msg.LoginId):
                StashLateRefresh();
                return true;
            default:
                return StaleReply(message);
        }
    }

    private void OnRememberWhileRenewing(RememberLogin msg)
    {
        if (!NothingStashedAheadOfALogin)
        {
            StashMessage();
            return;
        }

        // The newest login's tokens are stored, but an outlived login's never in place of an ordinary one (the app's own, say,
        // after a sign-out): the outlived login's are dropped should the account have been signed out since it began, and
        // must not take an ordinary login down with them.
        if (_queuedLogin is null || msg.OrphanedOver is null) _queuedLogin = LoginToSave.Of(msg);

        _queuedRememberers.Add(Sender);
        _log.Debug("Account {0}: a login ended during a renewal; its tokens are stored after it", _account);
    }

    private void OnLocked(Locked msg)
    {
        if (msg.Generation != _generation)
        {
            Release(msg.Handle);
            return;
        }

        _lock = msg.Handle;
        Load(msg.Generation);
    }

    private void OnRefreshed(CodeExchanged msg)
    {
        _refreshId = null;
        SaveIssued(Refreshed(msg.Tokens, _current!.Tokens, _refreshScopes), _current);
    }

    /// <summary>A refresh's answer completed from the tokens it replaces (<paramref name="previous"/>) and the scopes it asked for.</summary>
    private static TokenSet Refreshed(TokenSet answer, TokenSet previous, IReadOnlyList<string>? askedScopes)
    {
        // A refresh response may leave out what did not change: the refresh token (kept by the provider actor for every
        // refresh, RefreshAnswer), the ID token and its claims (they identify the account, which has not changed).
        var tokens = answer.IdToken is null
            ? answer with { IdToken = previous.IdToken, IdTokenClaims = previous.IdTokenClaims }
            : answer;
        // A refresh that named no scope asks for the grant's own (RFC 6749 section 6): the previous tokens'.
        return GrantedScope.Completed(tokens, askedScopes, previous.Scope);
    }

    private void OnRefreshFailed(CodeExchangeFailed msg)
    {
        _refreshId = null;
        if (msg.Cause is NotSupportedException)
        {
            // Nothing refused the token it holds: who it answers gets it while it is valid.
            ServeStillValid();
            NeedsInteraction(InteractionReason.NoRefreshToken, $"The provider '{_account.Provider}' does not refresh tokens; {_account} must sign in again.",
                tokenUsable: true);
            return;
        }

        if (msg.Cause is TokenExchangeException { NoDpopKey: true })
        {
            NeedsInteraction(InteractionReason.NoDpopKey,
                $"No DPoP key is stored for {_account}, but the provider '{_account.Provider}' binds its tokens with DPoP (stored before DPoP " +
                "was turned on, or by a token store that drops TokenSet.DpopKey): the refresh token was not sent unbound; sign in again.");
            return;
        }

        if (RefreshRefusal.Why(msg.ProviderError) is { } why)
        {
            if (_refreshScopes is { Count: > 0 })
            {
                OnScopedRefreshRefused();
                return;
            }

            NeedsInteraction(InteractionReason.RefreshRefused,
                $"The provider '{_account.Provider}' refused the refresh token of {_account} ({msg.ProviderError}: {why}); sign in again.");
            return;
        }

        // A failure that may pass (the endpoint down or slow, a full queue, a scope refused): the account's token still
        // answers who it answered before the renewal, until it expires.
        ServeStillValid();
        if (_refreshScopes is { Count: > 0 } && _waiters.Any(w => !w.AskedFor))
        {
            // It was asked for some callers' scopes: only they fail; the others get a round of their own.
            FailAll(RefreshException(msg), w => w.AskedFor);
            ContinueRenewal();
            return;
        }

        FailAll(RefreshException(msg));
        EndRenewal();
    }

    /// <summary>
    /// A refresh asked for some callers' scopes was answered <c>invalid_grant</c>: a provider says so of a scope it will
    /// not grant without the user (Entra ID: not consented), not only of a dead refresh token, so the account's refresh
    /// token is not taken as refused. Those callers go to a sign-in (or fail, if they may not open one) once the others,
    /// who asked for other scopes or none, have had their rounds; should the refresh token itself be dead, the others'
    /// refresh says so, and everyone goes to the sign-in.
    /// </summary>
    private void OnScopedRefreshRefused()
    {
        FailAll(new InteractionRequiredException(_account, InteractionReason.RefreshRefused, ScopesRefusedMessage),
            w => w.AskedFor && !w.Request.Options.AllowInteraction);
        foreach (var waiter in _waiters)
        {
            if (!waiter.AskedFor) continue;
            waiter.ScopesRefused = true;
            waiter.AskedFor = false;
        }

        ContinueRenewal();
    }

    private string ScopesRefusedMessage =>
        $"The provider '{_account.Provider}' refused to refresh the tokens of {_account} for the scopes asked for (not granted without the " +
        "user, or the refresh token is no longer valid); sign in again.";

    /// <summary>
    /// A renewal failed for a reason that may pass: the callers the current token answers get it while it is valid (it is
    /// only inside its refresh margin), rather than an error. Not a forced refresh, which asked for newer tokens; the next
    /// call tries to renew again, as the token is still past its fresh time.
    /// </summary>
    private void ServeStillValid()
    {
        if (!_loaded || _current is null || Now >= ValidUntil(_current.Tokens)) return;
        ServeWhere(StillValidFor);
    }

    /// <summary>Whether the current token, fresh or not but valid, answers <paramref name="waiter"/> (not a forced refresh).</summary>
    private bool StillValidFor(Waiter waiter) =>
        _loaded && _current is { } current && Now < ValidUntil(current.Tokens) && !waiter.Request.Options.ForceRefresh && Answers(current, waiter);

    private void OnStoreFailed(StoreFailed msg)
    {
        var what = StoreFailure(msg.Cause);
        _log.Warning("Account {0}: the token store failed ({1})", _account, what);
        var cause = new AuthorizationFailedException(LoginFailure.Internal, $"The token store failed for {_account}: {what}.");
        KeepUnsentLogin();
        KeepIssued();
        // Callers that came during the renewal and whom the current tokens serve (kept ones among them) get them.
        ServeWhatCan();
        ServeStillValid();
        FailAll(cause);
        FailRemember(cause);
        EndRenewal();
    }

    private void OnRenewalTimedOut()
    {
        _log.Warning("Account {0}: the renewal did not finish within {1}", _account, _settings.RenewalTimeout);
        var inFlight = _refreshId is not null || _issuedSave is not null;
        // A save that hangs is a store that failed: tokens the provider issued are kept all the same, and so are a login's
        // whose save never went out (the lock or the read hung).
        KeepUnsentLogin();
        KeepIssued();
        FailTimedOut();
        if (inFlight)
        {
            // The callers have their answer; the refresh (or the save of what it issued) goes on. Its answer is taken as
            // this renewal's, under the lock still held: the provider may answer after the deadline it was sent with (a
            // slow endpoint, a starved thread pool), and dropping that answer would lose the rotated refresh token.
            _overtime = true;
            _log.Warning("Account {0}: its refresh or save is still under way; the refresh lock is held for it up to {1} more", _account, _settings.OvertimeWait);
            Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(_generation), _settings.OvertimeWait);
            return;
        }

        _generation++;
        EndRenewal();
    }

    /// <summary>Fails the callers and logins waiting for a renewal that passed its deadline.</summary>
    private void FailTimedOut()
    {
        var cause = new AuthorizationFailedException(LoginFailure.ExchangeTimeout,
            $"Renewing the tokens of {_account} did not finish within {_settings.RenewalTimeout.TotalSeconds:0} seconds.");
        ServeStillValid();
        FailAll(cause);
        FailRemember(cause);
    }

    /// <summary>
    /// The refresh or save a renewal went on for after its deadline answered: what follows (storing a refresh's tokens,
    /// a round for callers who came meanwhile) is a renewal with a deadline of its own.
    /// </summary>
    private void LeaveOvertime()
    {
        if (!_overtime) return;
        _overtime = false;
        _renewalEnds = Now + _settings.RenewalTimeout;
        Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(_generation), _settings.RenewalTimeout);
    }

    /// <summary>
    /// The overtime passed without an answer: the lock is released (a store or provider that never answers must not keep
    /// it). A refresh still unanswered is remembered, so that its tokens are kept should it answer after all.
    /// </summary>
    private void OnOvertimeEnded()
    {
        _overtime = false;
        _log.Warning("Account {0}: its refresh or save did not answer within {1} past the renewal's deadline; the refresh lock is released",
            _account, _settings.OvertimeWait);
        if (_refreshId is { } id && _current is { } over) _lateRefresh = new LateRefresh(id, over, _refreshScopes, Now);
        KeepIssued();
        FailTimedOut();
        _generation++;
        EndRenewal();
    }

    private bool IsLateRefresh(string requestId) => _lateRefresh is { } late && late.Id == requestId;

    /// <summary>
    /// Why <paramref name="refreshToken"/> is not sent again yet, or null: a refresh given up unanswered spent it, or may
    /// still, and a provider that detects reuse revokes the whole grant for a second use (RFC 9700 section 4.14.2). For a
    /// renewal's length after it was given up, its answer is awaited rather than raced; a refresh whose answer never came
    /// by then is taken as lost (a provider's request ends by its own time limit long before).
    /// </summary>
    private AuthorizationFailedException? StillOutForALateRefresh(string refreshToken)
    {
        if (_lateRefresh is not { } late || !string.Equals(late.Over.Tokens.RefreshToken, refreshToken, StringComparison.Ordinal)
            || Now >= late.GivenUpAt + _settings.RenewalTimeout)
            return null;
        return new AuthorizationFailedException(LoginFailure.ExchangeTimeout,
            $"A refresh of {_account} given up earlier has not been answered yet, and its refresh token is not sent twice; try again shortly.");
    }

    /// <summary>
    /// The answer of a refresh given up (its renewal's lock released) came: its tokens are kept as tokens the store failed
    /// to take are (current here, stored over the copy the refresh replaced if the store still holds it), and a renewal
    /// stores them now. Not when this actor has moved on from that copy (a login stored, another process's tokens read).
    /// </summary>
    private void OnLateRefreshWhenIdle(CodeExchanged msg, LateRefresh late)
    {
        _lateRefresh = null;
        if (_unsaved is not null || !SameCopy(_current, late.Over))
        {
            _log.Warning("Account {0}: a refresh given up answered after this account moved on to other tokens; its tokens are dropped", _account);
            UnstashAll(); // a hand-off that waited for it goes on
            return;
        }

        _log.Warning("Account {0}: a refresh given up answered late; its tokens are kept and stored now", _account);
        Keep(Refreshed(msg.Tokens, late.Over.Tokens, late.Scopes), late.Over);
        BeginRenewal();
    }

    private void Load(int generation)
    {
        var store = _store;
        var account = _account;
        store.LoadAsync(account).PipeTo(Self,
            success: stored => new Loaded(generation, stored),
            failure: e => new StoreFailed(generation, e));
    }

    private void OnLoaded(StoredTokens? stored)
    {
        DropLoginIfSignedOut(stored);
        if (_unsaved is { } unsaved)
        {
            if (StillReplaces(stored))
            {
                // The store still holds what they replace (so _current, which is they, stays): store them now, or a
                // login's tokens in their place.
                if (_toSave is { } newer) SaveLogin(newer, _unsavedOver);
                else SaveIssued(unsaved, _unsavedOver);
                return;
            }

            if (_toSave is null)
                _log.Warning("Account {0}: the tokens kept since the store failed are dropped, the store no longer holds the tokens they replace", _account);
            RevokeDropped(unsaved, stored);
            ForgetUnsaved();
            // Their version here is the one they would have had in the store: take the store's copy afresh.
            _loaded = false;
        }

        Adopt(stored);
        if (_toSave is { } login)
        {
            SaveLogin(login, stored);
            return;
        }

        ContinueRenewal();
    }

    /// <summary>With the current tokens known: serve who they serve, then refresh for the others (or sign in again).</summary>
    private void ContinueRenewal()
    {
        // Another process (or an earlier renewal) may have stored a newer token while this one waited for the lock.
        ServeWhatCan();
        if (_waiters.Count == 0)
        {
            EndRenewal();
            return;
        }

        if (_current is null)
        {
            NeedsInteraction(InteractionReason.NoAccount, $"No tokens are stored for {_account}; sign in first.");
            return;
        }

        if (!_current.Tokens.CanRefresh)
        {
            // Inside its refresh margin, not expired (OpenID providers issue no refresh token without offline_access): who
            // the token answers gets it until it expires, rather than a sign-in minutes early.
            ServeStillValid();
            NeedsInteraction(InteractionReason.NoRefreshToken,
                $"The access token of {_account} cannot be renewed: the provider issued no refresh token; sign in again.", tokenUsable: true);
            return;
        }

        if (StillOutForALateRefresh(_current.Tokens.RefreshToken!) is { } unanswered)
        {
            // Not refreshed ahead of expiry this time: who the access token still serves gets it, as a failed renewal's callers do.
            ServeStillValid();
            FailAll(unanswered);
            EndRenewal();
            return;
        }

        // Only callers whose scopes the provider refused to refresh are left: they sign in (see OnScopedRefreshRefused).
        if (_waiters.TrueForAll(w => w.ScopesRefused))
        {
            // Refused for the scopes asked for, not as a token: the account's token still serves its own scopes.
            NeedsInteraction(InteractionReason.RefreshRefused, ScopesRefusedMessage, tokenUsable: true);
            return;
        }

        _refreshId = $"refresh-{_generation}-{FlowSecrets.RandomToken(6)}";
        var scopes = _refreshScopes = RefreshScopes();
        // Dropped unsent by the provider actor when it would be answered after this renewal gave up (its queue can be long).
        _providers.Tell(new RefreshTokens(_account.Provider, _refreshId, _current.Tokens.RefreshToken!, scopes, _current.Tokens.DpopKey,
            ExchangeTimeouts.RefreshDeadline(_renewalEnds, _settings.ExchangeTimeout)) { PreviousIdToken = _current.Tokens.IdTokenClaims });
    }

    private void EndRenewal()
    {
        _refreshId = null;
        _overtime = false;
        Timers.Cancel(RenewalTimer);
        ReleaseLock();
        BackToIdle();
    }

    private OAuthFlowException RefreshException(CodeExchangeFailed failed) => failed.Failure switch
    {
        LoginFailure.UnknownProvider => new UnknownProviderException(_account.Provider),
        LoginFailure.ExchangeQueueFull => new ProviderBusyException(failed.Reason),
        LoginFailure.ProviderUnavailable or LoginFailure.Internal => new AuthorizationFailedException(failed.Failure, failed.Reason),
        // Without the strategy's own exception (the reason names its type): should the caller's Ask have timed out,
        // this failure goes to dead letters, which Akka logs with the exception's full text, and an app's exception may
        // quote a token response. A login's failure (LoginFailureExceptions) and a caller on another node
        // (WireAccountFailure) do not carry it either. O8Actors' own verdicts keep their type as the inner exception,
        // made afresh from the reason (O8Actors' own words), so a caller can still tell a refused ID token apart.
        _ => new TokenExchangeException(failed.Reason, failed.ProviderError, OwnVerdict(failed)),
    };

    /// <summary>The inner exception a refresh's caller gets: O8Actors' own verdict, rebuilt from its reason; never an app's exception.</summary>
    private static Exception? OwnVerdict(CodeExchangeFailed failed) => failed.Failure switch
    {
        LoginFailure.IdTokenInvalid => new IdTokenValidationException(failed.Reason),
        LoginFailure.ExchangeTimeout => new TimeoutException(failed.Reason),
        _ => null,
    };
}
