using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// <b>Interacting</b>: the refresh token is missing or refused, so one interactive login runs for every caller that
/// allows the browser, and its outcome is what they get.
/// </summary>
internal sealed partial class AccountActor
{
    /// <param name="reason">Why a sign-in is needed.</param>
    /// <param name="message">What a caller that may not open a browser is told.</param>
    /// <param name="tokenUsable">The account's token was not refused (see <see cref="_tokenUsableDuringLogin"/>).</param>
    private void NeedsInteraction(InteractionReason reason, string message, bool tokenUsable = false)
    {
        if (TakeQueuedLogin() && !DropLoginIfSignedOut(_current))
        {
            // A login of this account ended during this renewal: its tokens are what a new sign-in would bring. Store
            // them and serve the callers with them (the next round refreshes with them for those they do not cover),
            // rather than open a browser and then store the older login over the newer one. It was made for none of them:
            // the refused refresh's marks would hand its tokens to callers whose scopes they lack.
            foreach (var waiter in _waiters) waiter.AskedFor = false;
            SaveLogin(_toSave!.Value, _current);
            return;
        }

        // Callers of a login that outlived the account's earlier actor, whose tokens were dropped: no browser for them.
        FailAll(SignedOutMeanwhile(), w => SignedOutSince(w.Request.OrphanedOver, _current));
        FailAll(new InteractionRequiredException(_account, reason, message), w => !w.Request.Options.AllowInteraction);
        // Callers who cancelled while the renewal ran: no browser for them (nor a login asking for their scopes).
        DropCancelledCallers();
        // Nor for callers whose own wait has passed (they rode through an earlier login for other scopes).
        FailCallersPastTheirDeadline();
        // A sign-out came during the renewal and waits for it: the browser login would be cancelled by it as it opened. Not
        // a back-channel logout naming a session: it is checked after the login, and most often signs nobody out here.
        if (_signOutAhead)
            FailAll(new InteractionRequiredException(_account, InteractionReason.NoAccount,
                $"{_account} is being signed out; no interactive login is started for it. Sign in again once the sign-out has ended."));
        if (_waiters.Count == 0)
        {
            EndRenewal();
            return;
        }

        var first = _waiters[0].Request;
        // The caller's login request was copied when it asked (LoginClient.GetAccessTokenAsync, or the wire from another node).
        var request = (first.Options.Login ?? AuthorizationRequest.Default) with { AccountKey = _account.Key, Scopes = LoginScopes(first) };
        _loginNeedsSubject = KnownBySubject;
        _tokenUsableDuringLogin = tokenUsable;
        // Every caller still here waits for this login. It is made for the first (its scopes are the login's) and for those
        // whose own login would ask for the same scopes, and they get its tokens; the others get them only if they cover their scopes, else a round
        // of their own.
        foreach (var waiter in _waiters) waiter.AskedFor = WantsLogin(waiter.Request, request.Scopes);
        if (_settings.ServerMode && UnboundLogins.MayUseBrowser(request, _settings.Login.Method))
        {
            // Server mode: this actor has no browser to bind the login to, and an unbound one would accept its callback
            // from any browser (the flows supervisor refuses it). Only the app can sign the user in again, from the
            // user's own request: say so, as to a silent caller.
            FailAll(new InteractionRequiredException(_account, reason,
                $"{message} In server mode an account cannot sign in again by itself: the login must be bound to the user's browser, so " +
                "start it with IOAuthConnector.BeginAsync(HttpContext, provider) from the user's request."));
            EndRenewal();
            return;
        }

        // The login takes minutes: nobody else needs to wait for this process's lock meanwhile.
        ReleaseLock();
        Timers.Cancel(RenewalTimer);
        var generation = ++_generation;
        _loginRequest = request;
        // What the store holds now (kept tokens the store has not taken are not in it).
        _loginOver = StoreHolds?.Version ?? 0;
        var loginId = _loginId = FlowSecrets.RandomToken(9);
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _log.Info("Account {0}: {1}; starting an interactive login for {2} waiting caller(s)", _account, reason, _waiters.Count);
        // The login ends by itself (its deadline, the exchange deadline), so no timer is needed as a backstop here.
        _flows.Tell(new StartFlow(loginId, _account.Provider, _loginNeedsSubject ? AskingForIdToken(request) : request, completion));
        _login = completion.Task;
        foreach (var waiter in _waiters) WatchCaller(waiter, generation);
        // The login's deadline is the first caller's own (unless it has waited for a login already); the others have theirs.
        for (var i = 0; i < _waiters.Count; i++) RideLogin(_waiters[i], generation, startedFor: i == 0);
        completion.Task.PipeTo(Self, success: outcome => new InteractiveDone(generation, outcome),
            failure: e => new InteractiveDone(generation, new LoginFailed(loginId, LoginFailure.Internal, e.GetType().Name)));
        Become(_interacting);
        // The account moves (cluster), and the move waited for the renewal: it goes on now, as during a login (the login
        // and its callers follow the account), not after the login, which may wait for its user for many minutes.
        if (_handOffStashed) UnstashAll();
    }

    private bool Interacting(object message)
    {
        if (RefusedAsSignedOut(message, _current)) return true;
        switch (message)
        {
            // Asked after a sign-out that waits for this login to end: the account is signing out (as once it has begun).
            case GetAccessToken when _signOutAhead:
                Sender.Tell(new Status.Failure(SigningOutNow(_account)));
                return true;
            // The login is for scopes the account's token lacks (a consent), or its refresh token is refused: a caller whose
            // scopes the token, still fresh, carries is served as in Idle, not refused or kept waiting for a browser.
            case GetAccessToken msg when Servable(new Waiter(msg, Sender, SeenNow)):
                Sender.Tell(Served());
                return true;
            case GetAccessToken when _loginAbandoned:
                // The login is being cancelled (its callers all went): this caller gets a login of its own once it has ended.
                StashMessage();
                return true;
            // A silent caller the token, not fresh but valid and not refused, still answers: served until it expires.
            case GetAccessToken msg when _tokenUsableDuringLogin && !msg.Options.AllowInteraction && StillValidFor(new Waiter(msg, Sender, SeenNow)):
                Sender.Tell(Served());
                return true;
            case GetAccessToken msg:
                if (msg.Options.AllowInteraction)
                {
                    var waiter = NewWaiter(msg);
                    waiter.AskedFor = WantsLogin(msg, _loginRequest?.Scopes);
                    _waiters.Add(waiter);
                    WatchCaller(waiter, _generation);
                    RideLogin(waiter, _generation, startedFor: false);
                }
                else Sender.Tell(new Status.Failure(new InteractionRequiredException(_account, InteractionReason.RefreshRefused,
                    $"{_account} is signing in again in the browser; a silent request cannot be served until it has.")));
                return true;
            case RememberLogin { OrphanedOver: not null } msg:
                OnLoginEndedWhileInteracting(msg);
                return true;
            // The app's own sign-in of this account (its AuthorizeAsync in another tab, say) ended: taken at once, unless a
            // sign-out waits in the stash ahead of it (it must not be undone by the sign-in that came after it).
            case RememberLogin msg when NothingStashedAheadOfALogin:
                OnLoginEndedWhileInteracting(msg);
                return true;
            // Behind what waits in the stash: in its order.
            case RememberLogin:
                StashMessage();
                return true;
            // A refresh given up by an earlier renewal: kept, if it still can be, back in Idle.
            case CodeExchanged late when IsLateRefresh(late.LoginId):
                StashLateRefresh();
                return true;
            case AccountHandOff:
                // Moving (cluster): not after the login, which may wait for its user for half an hour while sharding holds
                // every message of this account's shard. The login goes on, and its tokens and callers follow the account
                // to its next node; what waits here (a login to store, a sign-out) is done first, as by a hand-off in Idle.
                HandOverLogin("is moving");
                StashMessage();
                BackToIdle();
                return true;
            case SignOut msg:
                // Signing out ends the login that would sign the account in again (unless already cancelled for its callers).
                if (_loginId is not null && !_loginAbandoned) _flows.Tell(new CancelFlow(_loginId));
                // After the login (its outcome may already be on its way), as after a renewal.
                StashSignOut(msg);
                return true;
            case InteractiveDone msg when msg.Generation == _generation:
                OnInteractiveDone(msg.Outcome);
                return true;
            case CallerCancelled msg when msg.Generation == _generation:
                OnCallerCancelled();
                return true;
            case JoinedCallerTimedOut msg when msg.Generation == _generation:
                OnJoinedCallerTimedOut(msg);
                return true;
            default:
                return StaleReply(message);
        }
    }

    /// <summary>
    /// Another login of this account ended while this actor runs one of its own: the app's own sign-in (its remember), or
    /// one an earlier actor of the account began and handed over (<see cref="HandOverLogin"/>), which this actor knew
    /// nothing of, so its callers opened a second one (a second browser tab). The user signed in through the other, so this
    /// actor's login is not needed: it is cancelled, and its callers are answered from the other's tokens once they are
    /// stored, instead of waiting for a login the user may never finish (and failing with its timeout though the user
    /// signed in), after which its tokens, older than the other's, would have been stored over them. Its answer, should it
    /// still come (the user finished it as it was cancelled), is stale (a new generation): not stored, and its tokens, which
    /// nothing will hold, dropped (not revoked: see the method). An outlived login is
    /// not taken when the account was signed out since it began: <see cref="RefusedAsSignedOut"/> has dropped its tokens
    /// then, and this login, asked for after that sign-out, goes on.
    /// </summary>
    private void OnLoginEndedWhileInteracting(RememberLogin msg)
    {
        _log.Info(msg.OrphanedOver is null
            ? "Account {0}: signed in by another login while its own interactive login ran; that login is cancelled"
            : "Account {0}: an interactive login begun by its earlier actor ended; the one this actor started is cancelled", _account);
        // Its answer is stale from now on. Should it still succeed (the user finished it as it was cancelled, its code at
        // the token endpoint), its tokens are dropped, not revoked, here and by the login itself: they are of the same user
        // and client as the sign-in just taken, and a provider whose revocation ends the whole grant (Google's does) would
        // end that sign-in with them. Told so even when it was cancelled already for its callers, who all went: it may
        // still wait for its spent code.
        if (_loginId is not null) _flows.Tell(new CancelFlow(_loginId) { DropLateTokens = true });
        _loginId = null;
        _login = null;
        StopWatchingCallers();
        // Made for none of them (as a login queued during a renewal): served if its tokens cover their scopes, else refreshed for.
        foreach (var waiter in _waiters) waiter.AskedFor = false;
        _toSave = LoginToSave.Of(msg);
        _rememberTo.Add(Sender);
        // Under the store's lock, which also checks the stored copy once more; the cancelled login's answer is stale then.
        BeginRenewal();
    }

    private void OnInteractiveDone(LoginOutcome outcome)
    {
        _loginId = null;
        _login = null;
        StopWatchingCallers();
        if (outcome is LoginSucceeded succeeded)
        {
            var signedIn = AccountKeys.For(_account.Provider, succeeded.Tokens, _loginRequest, _loginNeedsSubject);
            if (signedIn == _account)
            {
                _toSave = new LoginToSave(GrantedScope.OfLogin(succeeded.Tokens, _loginRequest), OrphanedOver: null);
                BeginRenewal();
                return;
            }

            // Someone else signed in: their tokens are theirs (remembered under their account), not this one's.
            if (signedIn is not null)
                Context.Parent.Tell(RememberLogin.Of(signedIn, succeeded.Tokens, _loginRequest) with { NoCallerWaits = true }, ActorRefs.NoSender);
            FailAll(NotThisAccount(_account, signedIn));
        }
        else
        {
            FailAll(LoginException(outcome, _account, _settings));
        }

        BackToIdle();
    }

    /// <summary>
    /// Whether the account is known by the subject of the validated ID token it holds (its key is that <c>sub</c>): a
    /// login that signs it in again must then show an ID token of that subject, not only carry the account's key.
    /// </summary>
    private bool KnownBySubject => (_unsaved ?? _current?.Tokens)?.IdTokenClaims?.Subject == _account.Key;

    /// <summary>
    /// The login's request with <c>openid</c> among its scopes when it names scopes (a caller's scopes replace the
    /// provider's defaults, and a resource's scopes alone bring no ID token to tell who signed in); the provider's
    /// defaults (no scopes named) are left as they are. Only the request sent: the callers' scopes are compared without it.
    /// </summary>
    private static AuthorizationRequest AskingForIdToken(AuthorizationRequest request) =>
        request.Scopes is { Count: > 0 } scopes && !scopes.Contains(OpenIdScope, StringComparer.Ordinal)
            ? request with { Scopes = [OpenIdScope, .. scopes] }
            : request;

    private const string OpenIdScope = "openid";

    /// <summary>What the callers of <paramref name="account"/>'s interactive login get when it signed in someone else.</summary>
    internal static InteractionRequiredException NotThisAccount(OAuthAccount account, OAuthAccount? signedIn) =>
        new(account, InteractionReason.AccountMismatch, signedIn is null
            ? $"The interactive login brought no ID token, so who signed in is unknown; {account} is known by its ID token's subject, so the login's tokens are not taken as its."
            : $"The interactive login signed in {signedIn}, not {account}.");

    /// <summary>What the callers of <paramref name="account"/>'s interactive login get when it did not succeed.</summary>
    internal static Exception LoginException(LoginOutcome outcome, OAuthAccount account, AccountSettings settings) => outcome switch
    {
        LoginDenied d => new AuthorizationDeniedException(d.Error, d.ErrorDescription) { LoginId = d.LoginId },
        LoginTimedOut t => AuthorizationTimeoutException.For(t),
        LoginCancelled { ByShutdown: true } => new LoginStoppedByShutdownException(account),
        LoginCancelled => new OperationCanceledException("The interactive login was cancelled."),
        // Without the strategy's own exception, as a refresh's failure (RefreshException): this one travels to the callers
        // in a message, which Akka logs with the exception's full text should it reach dead letters.
        LoginFailed f => LoginFailureExceptions.For(f with { Cause = null }, account.Provider, settings.Login.MaxPending, settings.Login.MaxPendingPerPartition),
        _ => new InvalidOperationException($"Unexpected outcome {outcome.GetType().Name}."),
    };
}
