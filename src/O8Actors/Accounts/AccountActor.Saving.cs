using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// Storing tokens: a login's or a refresh's, those kept in memory when the store fails (and their retry), the logins
/// queued behind a renewal and their callers, and releasing the store's refresh lock.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>
    /// A login's tokens to store, with the login's <see cref="RememberLogin.OrphanedOver"/>: one value, so the two never
    /// describe different logins.
    /// </summary>
    private readonly record struct LoginToSave(TokenSet Tokens, long? OrphanedOver, bool NoCallerWaits = false)
    {
        public static LoginToSave Of(RememberLogin login) => new(login.Tokens, login.OrphanedOver, login.NoCallerWaits);
    }

    /// <summary>
    /// Saves a login's tokens: those of an interactive renewal, and those of a login that outlived the account's earlier
    /// actor (nobody else has them: on a cluster its remember comes through the entity's ask, but no caller waits for it),
    /// are kept should the store fail.
    /// </summary>
    /// <param name="login">The login to save (<see cref="_toSave"/>).</param>
    /// <param name="over">The stored copy its tokens replace (null: nothing stored).</param>
    private void SaveLogin(LoginToSave login, StoredTokens? over)
    {
        // A refresh refused for some callers' scopes spoke of the grant this login replaces: with its tokens they get a
        // refresh of their own again, if they still need one.
        foreach (var waiter in _waiters) waiter.ScopesRefused = false;
        if (NobodyElseHolds(login)) SaveIssued(login.Tokens, over);
        else Save(login.Tokens, over?.Version ?? 0);
    }

    /// <summary>
    /// Whether only this actor holds <paramref name="login"/>'s tokens: an interactive renewal's (its callers wait for
    /// this actor), a login that outlived the account's earlier actor, or one that signed in this account for another
    /// (<see cref="RememberLogin.NoCallerWaits"/>). An app's own remembered login is its caller's too.
    /// </summary>
    private bool NobodyElseHolds(LoginToSave login) =>
        login.OrphanedOver is not null || login.NoCallerWaits || _rememberTo.All(caller => caller.IsNobody());

    /// <summary>What the store held when this actor last read it: under tokens kept since a failed save, what those replace.</summary>
    private StoredTokens? StoreHolds => _unsaved is not null ? _unsavedOver : _current;

    /// <summary>
    /// The store failed (or hung) before a login's save was sent, taking its lock or reading what it holds: tokens only
    /// this actor holds are kept as a failed save's are (see <see cref="KeepIssued"/>), over what the store held when this
    /// actor last read it (<see cref="StoreHolds"/>), instead of being dropped with a live refresh token nobody holds.
    /// </summary>
    private void KeepUnsentLogin()
    {
        if (_issuedSave is not null || _toSave is not { } login || !NobodyElseHolds(login)) return;
        if (login.OrphanedOver is not null && (!_loaded || SignedOutSince(login.OrphanedOver, StoreHolds)))
        {
            // A login that outlived the account's earlier actor is kept only when this actor has read the store and can
            // tell the account was not signed out since the login began: kept blind, it would be served and stored later,
            // signing the user in again after a sign-out. Revoked instead, as a signed-out login's tokens are.
            _log.Warning("Account {0}: the token store failed before an interactive login of its earlier actor could be checked against a sign-out since; its tokens are revoked, not kept (sign in again)",
                _account);
            RevokeUnheld(login.Tokens, StoreHolds?.Tokens, "revoke-unchecked");
            _toSave = null;
            return;
        }

        _issuedSave = (login.Tokens, StoreHolds);
    }

    /// <summary>Saves tokens the provider issued for this actor's callers; kept in memory should the store fail.</summary>
    /// <param name="tokens">The issued tokens.</param>
    /// <param name="over">The stored copy they replace (null: nothing stored).</param>
    private void SaveIssued(TokenSet tokens, StoredTokens? over)
    {
        _issuedSave = (tokens, over);
        Save(tokens, over?.Version ?? 0);
    }

    /// <summary>
    /// The store failed (or hung) while saving tokens the provider had just issued: they become current here and the
    /// callers get them; the next renewal stores them (see <see cref="_unsaved"/>). A retry of tokens already kept that
    /// fails again changes nothing.
    /// </summary>
    private void KeepIssued()
    {
        if (_issuedSave is not { } issued) return;
        _issuedSave = null;
        if (ReferenceEquals(issued.Tokens, _unsaved)) return;
        Keep(issued.Tokens, issued.Over);
        _toSave = null;
        _rememberTo.Clear();
        _log.Warning("Account {0}: the token store did not take the new tokens; they are served from memory and stored again later", _account);
        ServeNewTokens();
    }

    /// <summary>
    /// Kept tokens dropped because the store no longer holds what they replace: another process signed the account out
    /// (it could revoke only the spent copy it read) and maybe in again (the store counts from 1 again, so at most the
    /// version they replace). They are live at the provider and nothing holds them after this, so they are revoked
    /// (RFC 7009), nobody waiting for the answer. Not when the store has moved past that version: the kept tokens may
    /// have reached it after all (a save that hung, then landed) and another process refreshed with them, and revoking
    /// them would end its live grant (RFC 7009 section 2.1); nor when the stored copy shares a token with them.
    /// </summary>
    private void RevokeDropped(TokenSet dropped, StoredTokens? stored)
    {
        var revoke = RevokeTokens.Of(dropped);
        if (revoke.Count == 0) return;
        if (stored is { Tokens: var held } && (stored.Version > (_unsavedOver?.Version ?? 0)
            || revoke.Any(r => r.Token == held.RefreshToken || r.Token == held.AccessToken)))
            return;
        _providers.Tell(new RevokeTokens(_account.Provider, $"revoke-dropped-{FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
    }

    /// <summary>Makes issued tokens the store has not taken current here, to be stored over <paramref name="over"/> (see <see cref="_unsaved"/>).</summary>
    private void Keep(TokenSet tokens, StoredTokens? over)
    {
        _unsaved = tokens;
        _unsavedOver = over;
        // The version they will have once stored: a force-refresh caller that saw them asks for newer ones.
        Adopt(new StoredTokens(tokens, (over?.Version ?? 0) + 1), obtained: true);
    }

    private void ForgetUnsaved()
    {
        _unsaved = null;
        _unsavedOver = null;
        _saveRetries = 0;
        Timers.Cancel(SaveRetryTimer);
    }

    /// <summary>
    /// Whether the store still holds what the kept tokens replace: the same version and the same tokens (by value: a store
    /// hands back copies). A version alone is not enough: after another process's sign-out and new sign-in the store
    /// counts its versions again from 1.
    /// </summary>
    private bool StillReplaces(StoredTokens? stored) => SameCopy(stored, _unsavedOver);

    /// <summary>Two reads of the store that hold the same copy: the same version and the same tokens (by value: a store hands back copies).</summary>
    private static bool SameCopy(StoredTokens? a, StoredTokens? b) => (a, b) switch
    {
        (null, null) => true,
        ({ } x, { } y) => x.Version == y.Version
            && string.Equals(x.Tokens.AccessToken, y.Tokens.AccessToken, StringComparison.Ordinal)
            && string.Equals(x.Tokens.RefreshToken, y.Tokens.RefreshToken, StringComparison.Ordinal),
        _ => false,
    };

    private void ScheduleSaveRetry()
    {
        var delay = RetryDelay(_saveRetries);
        _saveRetries++;
        Timers.StartSingleTimer(SaveRetryTimer, new RetrySave(), delay);
    }

    private void Save(TokenSet tokens, long expectedVersion)
    {
        var generation = _generation;
        var store = _store;
        var account = _account;
        var saving = store.SaveAsync(account, tokens, expectedVersion);
        _saveInFlight = saving;
        saving.PipeTo(Self,
            success: version => new Saved(generation, tokens, version),
            failure: e => new StoreFailed(generation, e));
    }

    private void OnSaved(Saved msg)
    {
        _issuedSave = null;
        if (msg.Version is not { } version)
        {
            // Someone wrote without the lock (or a store without locking): the stored copy is newer than the one this
            // renewal read. Read it again; a login's tokens are then saved over it, a refresh's are dropped for it.
            _log.Info("Account {0}: the stored tokens changed during the renewal; reading them again", _account);
            Load(_generation);
            return;
        }

        // Whatever was saved replaced what kept tokens would have: they are stored, or a login's tokens superseded them.
        var wasKept = ReferenceEquals(msg.Tokens, _unsaved);
        if (_unsaved is not null) ForgetUnsaved();
        Adopt(new StoredTokens(msg.Tokens, version), obtained: true);
        if (_toSave is not null)
        {
            foreach (var caller in _rememberTo) caller.Tell(new LoginRemembered(_account, version));
            _toSave = null;
            _rememberTo.Clear();
        }

        if (wasKept)
        {
            _log.Info("Account {0}: the tokens kept since the store failed are stored", _account);
            ContinueRenewal();
            return;
        }

        // Callers that asked for other scopes meanwhile get a refresh of their own, under the same lock.
        ServeNewTokens();
        ContinueRenewal();
    }

    /// <summary>Makes the login queued during the renewal (its newest tokens, all its callers) the one to save; false when none is.</summary>
    private bool TakeQueuedLogin()
    {
        if (_queuedLogin is not { } newest) return false;
        _toSave = newest;
        _rememberTo.AddRange(_queuedRememberers);
        _queuedLogin = null;
        _queuedRememberers.Clear();
        return true;
    }

    private void ReleaseLock()
    {
        if (_lock is { } held)
        {
            // A save still in flight (its renewal timed out, or the actor stops at its hand-off deadline) keeps the lock
            // until it lands: the next holder, this account's successor on another node among them, would otherwise read
            // the copy it replaces and spend that refresh token again. Bounded by a store call's wait, so a hung store
            // does not keep the account locked for good.
            if (_saveInFlight is { IsCompleted: false } saving)
            {
                Task.WhenAny(saving, Task.Delay(_settings.StoreCallWait)).ContinueWith(_ => Release(held),
                    CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            else Release(held);
        }

        _lock = null;
    }

    private void Release(IAsyncDisposable handle)
    {
        var log = _log;
        var account = _account;
        // Releasing is quick (a semaphore, closing a lock file); a failure is logged, never awaited on the actor.
        handle.DisposeAsync().AsTask().ContinueWith(
            t => log.Warning("Account {0}: releasing the refresh lock failed ({1})", account, t.Exception?.InnerException?.GetType().Name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void FailRemember(Exception cause)
    {
        foreach (var caller in _rememberTo) caller.Tell(new Status.Failure(cause));
        _rememberTo.Clear();
        _toSave = null;
    }

    /// <summary>Fails the logins queued behind the current renewal (the actor stops before it could store them).</summary>
    private void FailQueuedRemembers(Exception cause)
    {
        foreach (var caller in _queuedRememberers) caller.Tell(new Status.Failure(cause));
        _queuedLogin = null;
        _queuedRememberers.Clear();
    }

    /// <summary>The store's retry backoff: doubling from <see cref="FirstSaveRetry"/> up to <see cref="LastSaveRetry"/>.</summary>
    private static TimeSpan RetryDelay(int retriesSoFar) =>
        TimeSpan.FromTicks(Math.Min(LastSaveRetry.Ticks, FirstSaveRetry.Ticks << Math.Min(retriesSoFar, 16)));
}
