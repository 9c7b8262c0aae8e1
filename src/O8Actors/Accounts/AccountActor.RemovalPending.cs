using Akka.Actor;
using Akka.Event;

namespace O8Actors.Accounts;

/// <summary>
/// A sign-out whose removal the store failed: the tokens are served to nobody, and the removal is retried (under the
/// store's lock, only while the store still holds the signed-out copy) before a new login is stored.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>
    /// The store kept the tokens it was asked to remove. Answering success would be false: this actor retires, and the
    /// next one reads them from the store and serves them (still valid where the provider has no revocation, or it
    /// failed). So the sign-out fails, as when the store cannot be read (a back-channel logout's token is then
    /// forgotten, so the provider may post it again), and the tokens are not served: this actor stays, answers as for an
    /// account without tokens, and retries the removal until the store takes it or the account signs out or in again.
    /// </summary>
    private void OnRemoveFailed(SignOutRemoveFailed msg, TaskCompletionSource<Uri?>? urlTo, IActorRef replyTo)
    {
        ReleaseLock();
        _log.Warning("Account {0}: the sign-out failed, the stored tokens could not be removed ({1}); they are not served, and their removal is retried",
            _account, StoreFailure(msg.Cause));
        urlTo?.TrySetResult(null);
        AnswerSignOut(replyTo, new Status.Failure(new AuthorizationFailedException(LoginFailure.Internal,
            $"{_account} was not signed out: its stored tokens could not be removed ({StoreFailure(msg.Cause)}; revocation: {msg.Revoked.Revocation}). " +
            "They are no longer served here and their removal is retried; sign out again to finish now.")));
        if (_unsaved is not null) ForgetUnsaved();
        Withdraw();
        _current = null;
        _served = null;
        _removalFailed = true;
        // Revoked, and never served again: signed out, though the store still has to let the tokens go.
        _signedOut = true;
        _removeRetries = 0;
        ResumeRemovalPending();
    }

    private void ResumeRemovalPending()
    {
        Context.SetReceiveTimeout(null);
        ScheduleRemoveRetry();
        Become(_removalPending);
        UnstashAll();
    }

    private void StartRemoveRetry()
    {
        Timers.Cancel(RemoveRetryTimer);
        var attempt = _removing = new Attempt();
        Timers.StartSingleTimer(RemoveDeadlineTimer, new RemoveRetried(attempt, StoreTimedOut("remove the tokens")), _settings.LockWait + _settings.StoreCallWait);
        RemoveIfStillStoredAsync(_store, _account, _signedOutCopy, NewRemovalCalls()).PipeTo(Self,
            success: removed => new RemoveRetried(attempt, null, Replaced: !removed), failure: e => new RemoveRetried(attempt, e));
    }

    /// <summary>A token for a removal's store calls, ended by <see cref="EndRemovalCalls"/> (an earlier removal's, ended now).</summary>
    private CancellationToken NewRemovalCalls()
    {
        EndRemovalCalls();
        return (_removingCalls = new CancellationTokenSource()).Token;
    }

    /// <summary>
    /// Ends the store calls of a removal given up (its deadline), answered, or of this actor's end: they hold the store's
    /// lock (a retry) or ran under the sign-out's, which is released then. Cancelled, never disposed: the store may still
    /// hold the token (a source with no timer owns nothing to free).
    /// </summary>
    private void EndRemovalCalls()
    {
        if (_removingCalls is not { } calls) return;
        _removingCalls = null;
        calls.Cancel();
    }

    /// <summary>
    /// One retry of a failed sign-out's removal, under the store's lock as the sign-out itself was: the signed-out copy is
    /// removed only while the store still holds it. Between the retries the lock is free, so another process may have
    /// signed the account in again, and its tokens are not this sign-out's to remove. Returns false when the store held
    /// other tokens (left as they are), true when the signed-out copy is gone.
    /// </summary>
    private static async Task<bool> RemoveIfStillStoredAsync(ITokenStore store, OAuthAccount account, StoredTokens? signedOut,
        CancellationToken givenUp)
    {
        var handle = await store.LockAsync(account, givenUp).ConfigureAwait(false);
        try
        {
            StoredTokens? stored;
            try
            {
                stored = await store.LoadAsync(account, givenUp).ConfigureAwait(false);
                if (stored is null) return true;
            }
            catch (StoredTokensUnreadableException) when (signedOut is null)
            {
                // The sign-out found the record unreadable too: still that record (nobody can save over it), removed as
                // the sign-out would have.
                stored = null;
            }

            if (stored is not null && !SameCopy(stored, signedOut)) return false;
            await store.RemoveAsync(account, givenUp).ConfigureAwait(false);
            return true;
        }
        finally
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Answers the logins waiting for the removal with <paramref name="failure"/>: they are not stored (as when a save fails).</summary>
    private void FailLoginsAfterRemoval(Exception failure)
    {
        foreach (var (_, replyTo) in _loginsAfterRemoval) replyTo.Tell(new Status.Failure(failure));
        _loginsAfterRemoval.Clear();
    }

    private void ScheduleRemoveRetry()
    {
        var delay = RetryDelay(_removeRetries);
        _removeRetries++;
        Timers.StartSingleTimer(RemoveRetryTimer, new RetryRemove(), delay);
    }

    /// <summary>
    /// After a sign-out whose removal failed: no token is served (nor read from the store, which still holds them), and
    /// no idle retirement (the next actor would read them). A login of the account removes them first, then goes to a
    /// fresh actor; a removal in flight finishes before a sign-out runs.
    /// </summary>
    private bool RemovalPending(object message)
    {
        switch (message)
        {
            case GetAccessToken:
                Sender.Tell(new Status.Failure(new InteractionRequiredException(_account, InteractionReason.NoAccount,
                    $"{_account} was signed out but its stored tokens could not be removed yet; they are not served. Sign in again.")));
                return true;
            case RetryRemove:
                if (_removing is null) StartRemoveRetry();
                return true;
            case RemoveRetried msg when msg.Attempt != _removing:
                return true; // the answer of a retry that timed out
            case RemoveRetried { Cause: null } msg:
                Timers.Cancel(RemoveDeadlineTimer);
                _removing = null;
                EndRemovalCalls();
                _removalFailed = false;
                _signedOutCopy = null;
                if (msg.Replaced)
                    _log.Info("Account {0}: the store holds other tokens than those of the failed sign-out (another process stored them since); they are left", _account);
                else _log.Info("Account {0}: the stored tokens of the failed sign-out are removed", _account);
                Retire();
                // After Forgotten: the parent hands them to a fresh actor, which stores them as after any sign-out.
                foreach (var (login, replyTo) in _loginsAfterRemoval) Context.Parent.Tell(login, replyTo);
                _loginsAfterRemoval.Clear();
                return true;
            case RemoveRetried msg:
                Timers.Cancel(RemoveDeadlineTimer);
                _removing = null;
                EndRemovalCalls(); // given up (its deadline): a call still hanging must not keep the store's lock
                _log.Warning("Account {0}: removing the stored tokens failed again ({1}); retrying", _account, StoreFailure(msg.Cause!));
                FailLoginsAfterRemoval(new AuthorizationFailedException(LoginFailure.Internal,
                    $"The login of {_account} was not stored: the store could not remove the tokens of its earlier sign-out ({StoreFailure(msg.Cause)})."));
                ScheduleRemoveRetry();
                UnstashAll();
                return true;
            case SignOut when _removing is not null:
                StashMessage();
                return true;
            case SignOut msg:
                // Asked again: the whole sign-out runs again (read, revoke, remove), and its caller hears how it went.
                Timers.Cancel(RemoveRetryTimer);
                BeginSignOut(msg, Sender);
                return true;
            case RememberLogin msg:
                // A login that outlived the account's earlier actor is refused (its callers, as every caller here, by the first case).
                if (RefusedAsSignedOut(msg, null)) return true;
                // Signed in again: the signed-out copy goes first, so that it is never read back in the new login's place.
                _loginsAfterRemoval.Add((msg, Sender));
                if (_removing is null) StartRemoveRetry();
                return true;
            case AccountHandOff:
                // Moving (cluster): the next incarnation reads the store, which may still hold the tokens (docs/security.md says so).
                // Whoever waits here is answered first: a sign-out asked again during a removal retry, logins waiting for it.
                var moved = new AuthorizationFailedException(LoginFailure.Internal,
                    $"{_account} moved to another node while the tokens of its failed sign-out were being removed; ask again.");
                foreach (var stashed in Stash.ClearStash())
                    if (stashed.Message is SignOut) AccountRequestFailures.Answer(stashed.Message, moved, stashed.Sender, Self);
                FailLoginsAfterRemoval(moved);
                Context.Stop(Self);
                return true;
            default:
                return StaleReply(message);
        }
    }
}
