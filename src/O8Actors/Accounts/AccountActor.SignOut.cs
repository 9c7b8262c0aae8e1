using Akka.Actor;
using Akka.Event;
using O8Actors.Diagnostics;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// <b>Signing out</b>: under the store's lock, read the stored tokens (a back-channel logout first checks their
/// session), revoke them, remove them, and end the provider's browser session when asked.
/// </summary>
internal sealed partial class AccountActor
{
    private void BeginSignOut(SignOut request, IActorRef replyTo)
    {
        var options = request.Options;
        var urlTo = request.EndSessionUrlTo;
        Context.SetReceiveTimeout(null);
        // From now on callers come here (and are told the account is signing out) instead of taking the cached token. Not
        // yet for a back-channel logout naming a session: it is sent to every account of the provider, and until the
        // stored tokens are read this one is as signed in as before (see WhileChecking).
        if (request.Session is null) Withdraw();
        var attempt = new Attempt();
        _signOutCaller = (request, replyTo);
        Become(SigningOut(options, urlTo, replyTo, request.Session, counted: !request.CountedByCaller, attempt));
        // Under the account's refresh lock, from reading the tokens to removing them: another process sharing the store
        // (a FileTokenStore's second app) may be rotating the refresh token, and the sign-out must revoke the tokens that
        // rotation stores, not the spent ones it replaced, and remove them only once nobody can store newer ones.
        _log.Debug("Account {0}: signing out; taking the refresh lock", _account);
        // Each store step has a deadline of its own on this actor's clock, set before the step starts: a store that never
        // answers (or ignores the lock's cancellation) fails the sign-out instead of leaving the account signing out for good.
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutLoadFailed(attempt, StoreTimedOut("take the refresh lock"), Locking: true),
            _settings.LockWait + _settings.StoreCallWait);
        _locks.LockAsync(_store, _account, _settings.LockWait).PipeTo(Self, success: handle => new SignOutLocked(attempt, handle),
            // Cancelled by the lock's own wait: say so, as the deadline does.
            failure: e => new SignOutLoadFailed(attempt, e is OperationCanceledException ? StoreTimedOut("take the refresh lock") : e, Locking: true));
    }

    private void LoadForSignOut(Attempt attempt, IAsyncDisposable handle)
    {
        _lock = handle;
        // A store that cannot be read is not a store without tokens: the sign-out fails (the tokens stay usable, and a
        // back-channel logout's token stays unspent so the provider can post it again) rather than skip or revoke nothing.
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutLoadFailed(attempt, StoreTimedOut("read the tokens")), _settings.StoreCallWait);
        _store.LoadAsync(_account).PipeTo(Self, success: stored => new SignOutLoaded(attempt, stored),
            failure: e => new SignOutLoadFailed(attempt, e));
    }

    /// <summary>A store failure as a message may name it: its type (an app's store may quote anything), or this actor's own deadline.</summary>
    /// <remarks>
    /// A key ring this process cannot read says which folder and key (no secret): the log line is where an operator finds
    /// it. (The key ring's protectors let it through as itself, unwrapped from Data Protection's <c>CryptographicException</c>.)
    /// </remarks>
    private static string StoreFailure(Exception cause) =>
        cause is StoreDeadlinePassed or KeyRingKeyUnreadableException ? cause.Message : cause.GetType().Name;

    /// <summary>A sign-out's store step that passed its deadline; its message is this actor's own.</summary>
    private sealed class StoreDeadlinePassed(string message) : TimeoutException(message);

    private StoreDeadlinePassed StoreTimedOut(string what) =>
        new($"The token store did not {what} within {_settings.StoreCallWait.TotalSeconds:0} seconds.");

    /// <summary>The sign-out's state: its revocation's id and the ID token it read live with it.</summary>
    private Receive SigningOut(SignOutOptions options, TaskCompletionSource<Uri?>? urlTo, IActorRef replyTo, EndedSession? session, bool counted,
        Attempt attempt)
    {
        var revokeId = $"revoke-{FlowSecrets.RandomToken(6)}";
        // The ID token names the session to end (id_token_hint, when the caller allows it); read before the stored copy is removed.
        string? idTokenHint = null;
        // A back-channel logout naming a session, until the stored tokens tell whether they are of it.
        var checking = session is not null;
        return message =>
        {
            switch (message)
            {
                case SignOutLocked msg when msg.Attempt == attempt:
                    LoadForSignOut(attempt, msg.Handle);
                    return true;
                case SignOutLoaded msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    checking = false;
                    idTokenHint = OnSignOutLoaded(msg, options, replyTo, session, revokeId);
                    return true;
                case SignOutLoadFailed { Locking: false, Cause: StoredTokensUnreadableException } msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    // A record that will never read (a newer format, damage) is not a store failing for now: failing would
                    // leave the account stuck, since only a sign-out clears it. Nothing in it can be revoked; the tokens
                    // this process holds are, and the record is removed.
                    _log.Warning("Account {0}: its stored tokens do not read ({1}); signing out removes them unrevoked", _account, msg.Cause.GetType().Name);
                    checking = false;
                    idTokenHint = OnSignOutLoaded(new SignOutLoaded(attempt, null), options, replyTo, session, revokeId);
                    return true;
                case SignOutLoadFailed msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    ReleaseLock();
                    // The detail says why: the store's exception type, or this actor's deadline with its length.
                    var what = msg.Locking ? "its refresh lock could not be taken" : "its stored tokens could not be read";
                    _log.Warning("Account {0}: the sign-out failed, {1} ({2})", _account, what, StoreFailure(msg.Cause));
                    urlTo?.TrySetResult(null);
                    AnswerSignOut(replyTo, new Status.Failure(new AuthorizationFailedException(LoginFailure.Internal,
                        $"{_account} was not signed out: {what} ({StoreFailure(msg.Cause)}).")));
                    if (_removalFailed)
                    {
                        // Asked again after a failed removal: the store still holds the signed-out tokens.
                        ResumeRemovalPending();
                        return true;
                    }

                    // Still signed in: back on the fast path it was withdrawn from.
                    _served = null;
                    if (_current is not null) _ = Served();
                    BackToIdle();
                    return true;
                case RevocationDone msg when msg.RequestId == revokeId:
                    if (msg.Outcome == RevocationOutcome.Failed)
                        _log.Warning("Account {0}: revocation failed ({1}); the local copy is removed all the same", _account, msg.Reason);
                    Remove(attempt, new SignOutResult(_account, msg.Outcome, msg.Reason));
                    return true;
                case SignOutRemoveFailed msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    EndRemovalCalls(); // given up: the lock is released next, so the removal must not go on
                    OnRemoveFailed(msg, urlTo, replyTo);
                    return true;
                case SignOutRemoved msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    EndRemovalCalls();
                    ReleaseLock();
                    _signedOut = true;
                    _removalFailed = false;
                    _signedOutCopy = null;
                    if (_unsaved is not null) ForgetUnsaved();
                    Withdraw();
                    _current = null;
                    _served = null;
                    if (options.EndProviderSession) EndProviderSession(options, idTokenHint, urlTo, msg.Answer, replyTo);
                    else
                    {
                        urlTo?.TrySetResult(null);
                        if (counted) O8Metrics.SignedOut(msg.Answer);
                        AnswerSignOut(replyTo, msg.Answer);
                        Retire();
                    }

                    return true;
                default:
                    return (checking ? WhileChecking(message) : WhileSigningOut(message)) || StaleReply(message);
            }
        };
    }

    /// <summary>With the stored tokens read: revoke them (or skip a back-channel logout of another session); returns the ID token hint.</summary>
    private string? OnSignOutLoaded(SignOutLoaded msg, SignOutOptions options, IActorRef replyTo, EndedSession? session, string revokeId)
    {
        // Tokens the store has not taken yet are the live ones (the stored copy's refresh token is spent).
        var tokens = _unsaved is not null && StillReplaces(msg.Stored) ? _unsaved : msg.Stored?.Tokens ?? _current?.Tokens;
        if (session is not null && !InSession(tokens, session))
        {
            // A back-channel logout of another session (or of an account with no tokens): nothing changes. Its token was
            // never withdrawn (see BeginSignOut), so the fast path still holds it.
            ReleaseLock();
            AnswerSignOut(replyTo, new SignOutSkipped(_account));
            if (_removalFailed) ResumeRemovalPending();
            // Back to Idle as after any state: a save retry that came meanwhile was dropped, and is scheduled again.
            else BackToIdle();

            return null;
        }

        // Of the ended session (or an unconditional sign-out): from now on callers are told the account is signing out.
        Withdraw();
        // Tokens kept since the store failed whose stored copy another process has replaced (it signed the account out and
        // in again): their grant may still be live at the provider, and after this sign-out nothing holds them to revoke.
        var kept = _unsaved is { } unsaved && !ReferenceEquals(unsaved, tokens) ? unsaved : null;
        var revoke = RevokeTokens.Of(tokens, kept);
        _signedOutCopy = msg.Stored;
        if (revoke.Count == 0) Remove(msg.Attempt, new SignOutResult(_account, RevocationOutcome.NothingToRevoke));
        else _providers.Tell(new RevokeTokens(_account.Provider, revokeId, revoke));
        return options.SendIdTokenHint ? tokens?.IdToken : null;
    }

    /// <summary>
    /// The sign-out's browser step, after the tokens are revoked and forgotten (so a browser that never comes back leaves
    /// nothing usable behind): the flows supervisor opens the provider's end-session endpoint and answers once the browser
    /// is back, or the step's deadline passed. A backstop timer answers the caller should that answer be lost.
    /// </summary>
    /// <remarks>
    /// The account is signed out already, and the step may take minutes (a user sent to the provider who never comes back,
    /// and signs in again): the parent stops routing the account here (<see cref="Detached"/>), so a new sign-in is stored
    /// and silent token requests are answered by a fresh actor meanwhile, instead of waiting for this step. An interactive
    /// one is still told the account is signing out, by the parent, until this actor has stopped or a sign-in came: a
    /// fresh actor would open a browser, and the provider's session, not ended yet, would sign the user straight back in.
    /// This actor only finishes the step for the sign-out's caller, then retires.
    /// </remarks>
    private void EndProviderSession(SignOutOptions options, string? idTokenHint, TaskCompletionSource<Uri?>? urlTo, SignOutResult result,
        IActorRef replyTo)
    {
        var requestId = $"end-session-{FlowSecrets.RandomToken(6)}";
        var timeout = _settings.EndSessionTimeout(options);
        _flows.Tell(new EndProviderSession(_account.Provider, requestId, idTokenHint, timeout) { UrlTo = urlTo, Account = _account });
        Timers.StartSingleTimer(EndSessionTimer, new ProviderSessionEnded(requestId, ProviderSessionOutcome.Failed,
            ProviderSessionEnded.NoAnswer), timeout + _settings.RenewalTimeout);
        Context.Parent.Tell(new Detached(_account));
        // What was stashed meanwhile (a sign-in, another sign-out) goes back to the parent now, hence to the fresh actor.
        UnstashAll();
        Become(message =>
        {
            if (message is not ProviderSessionEnded msg || msg.RequestId != requestId) return WhileDetached(message);
            Timers.Cancel(EndSessionTimer);
            urlTo?.TrySetResult(null); // the backstop answered: no URL will come
            if (msg.Outcome is not ProviderSessionOutcome.Ended)
                _log.Warning("Account {0}: the provider's session was not ended ({1}: {2})", _account, msg.Outcome, msg.Reason);
            var ended = result with { ProviderSession = msg.Outcome, ProviderSessionReason = msg.Reason };
            O8Metrics.SignedOut(ended);
            AnswerSignOut(replyTo, ended);
            Retire();
            return true;
        });
    }

    /// <summary>Whether <paramref name="tokens"/> belong to the provider session a back-channel logout ended (their validated ID token's <c>sid</c>).</summary>
    private static bool InSession(TokenSet? tokens, EndedSession session)
    {
        if (tokens is null) return false;
        var sid = tokens.IdTokenClaims?.All.FirstOrDefault(c => c.Type == "sid")?.Value;
        return sid is null ? session.AlsoWithoutSessionId : string.Equals(sid, session.SessionId, StringComparison.Ordinal);
    }

    /// <summary>
    /// While a back-channel logout naming a session reads the stored tokens to learn whether they are of it (under the
    /// store's lock, up to its wait when another process holds it): the account is still signed in, so a token it would
    /// serve from memory is served (the fast path keeps it too). What needs the store (a renewal, a login) or would change
    /// the account waits for the answer: served by Idle after a skip, told the account is gone after a sign-out.
    /// </summary>
    private bool WhileChecking(object message)
    {
        switch (message)
        {
            case GetAccessToken msg when Servable(new Waiter(msg, Sender, SeenNow)):
                Sender.Tell(Served());
                return true;
            case GetAccessToken or RememberLogin or SignOut or AccountHandOff:
                StashMessage();
                return true;
            // A refresh given up by an earlier renewal: the account is still signed in, so it is kept, back in Idle, as a
            // renewal keeps it (taken for a sign-out's late answer, it was revoked, and the stored refresh token it spent
            // failed the next renewal).
            case CodeExchanged late when IsLateRefresh(late.LoginId):
                StashLateRefresh();
                return true;
            default:
                return false;
        }
    }

    /// <summary>Until the sign-out is answered: callers are told the account is signing out; logins and sign-outs wait for the fresh actor.</summary>
    private bool WhileSigningOut(object message)
    {
        switch (message)
        {
            case GetAccessToken:
                Sender.Tell(new Status.Failure(SigningOutNow(_account)));
                return true;
            case RememberLogin or SignOut or AccountHandOff:
                StashMessage();
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// What a token request for <paramref name="account"/> gets while it signs out: by this actor until the sign-out is
    /// answered, and by its parent for an interactive one while the sign-out's end-session step runs (detached).
    /// </summary>
    internal static InteractionRequiredException SigningOutNow(OAuthAccount account) =>
        new(account, InteractionReason.NoAccount, $"{account} is signing out.");

    /// <summary>
    /// Signed out and no longer routed to (<see cref="Detached"/>) while the end-session step runs: what still reaches this
    /// actor goes back to the parent, as once retired. A hand-off (its deadline runs) waits for the step, as it waited before.
    /// </summary>
    private bool WhileDetached(object message) => message is AccountHandOff || Forwarding(message);

    /// <summary>Answers the sign-out under way; from then on a stop of this actor owes it nothing.</summary>
    private void AnswerSignOut(IActorRef replyTo, object answer)
    {
        replyTo.Tell(answer);
        _signOutCaller = null;
    }

    private void Remove(Attempt attempt, SignOutResult result)
    {
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutRemoveFailed(attempt, result, StoreTimedOut("remove the tokens")), _settings.StoreCallWait);
        // Ended with the sign-out's wait (EndRemovalCalls): the lock is released then, and a removal that went on could
        // delete what another process stores after it.
        _store.RemoveAsync(_account, NewRemovalCalls()).PipeTo(Self, success: () => new SignOutRemoved(attempt, result),
            failure: e => new SignOutRemoveFailed(attempt, result, e));
    }
}
