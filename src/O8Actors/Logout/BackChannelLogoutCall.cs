using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Akka.Actor;
using Akka.Event;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Logout;

/// <summary>
/// One <see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/>: the provider actor validates the logout token, the
/// accounts' side accepts its <c>jti</c> once (a replay is refused, on a cluster whichever node it reaches), then every
/// account of the session it names is signed out (revoked and forgotten) through its own account actor, so a sign-out
/// never races a renewal of the same account.
/// </summary>
internal static class BackChannelLogoutCall
{
    // A token naming a session only (no sub) is matched against every stored account of its provider; they are asked a
    // few at a time so a server with many accounts does not start an actor for each at once.
    private const int SessionSearchBatch = 32;

    /// <summary>
    /// How long an attempt holds its token's <c>jti</c> (accepted, or renewed before each batch of sign-outs and before the
    /// app's part) before a later post may take it over: the longest its next steps take while its node runs, each bounded
    /// by its own ask's wait: the list of the provider's accounts (<paramref name="listWait"/>), one batch of sign-outs,
    /// asked at once and each given <paramref name="signOutWait"/> (two renewal timeouts, <see cref="AccountSettings.SignOutWait"/>),
    /// and the guard's record of the completion (<paramref name="listWait"/>). Past it without a word from the attempt, its
    /// node is taken to have stopped, and the provider's retry carries the logout out instead of being answered 503 until
    /// the token expires.
    /// </summary>
    public static TimeSpan Lease(TimeSpan signOutWait, TimeSpan listWait) => listWait + signOutWait + listWait;

    /// <summary>
    /// Runs one back-channel logout. <c>onSignedOut</c>, the app's own part (the endpoint's <c>OnSignedOut</c>), runs
    /// before the token counts as spent; <c>carryOver</c> keeps the sign-outs of an attempt that failed for the retry.
    /// <c>cancellationToken</c> ends the wait: before the token is accepted, nothing is done; after, the caller stops
    /// waiting and the logout is carried out all the same (<see cref="CarryOutAsync"/>), its outcome then written to
    /// <c>log</c>. The app's part is given <c>systemEnding</c> (the actor system's end), not the caller's token.
    /// <c>underWay</c> counts the accepted logout until it has been carried out, for a graceful stop to wait on.
    /// <c>afterBatch</c>, for tests only, is awaited once each batch of a session's accounts has answered: a test cancels
    /// there, between two batches.
    /// </summary>
    public static async Task<BackChannelLogoutResult> RunAsync(IActorRef providers, IActorRef accounts, TimeSpan validateWait, TimeSpan signOutWait,
        TimeSpan listWait, string provider, string logoutToken, CancellationToken cancellationToken,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut = null, LogoutCarryOver? carryOver = null, Func<Task>? afterBatch = null,
        CancellationToken systemEnding = default, ILoggingAdapter? log = null, LogoutsUnderWay? underWay = null)
    {
        var token = await ValidateAsync(providers, validateWait, provider, logoutToken, cancellationToken).ConfigureAwait(false);
        // This attempt's hold on the jti: only it renews or releases it, so a late release cannot free a token a later post
        // took over once this one's lease ran out.
        var hold = new Hold(accounts, provider, token.JwtId, Guid.NewGuid().ToString("N"), Lease(signOutWait, listWait));
        await AcceptOnceAsync(hold, listWait, token, cancellationToken).ConfigureAwait(false);
        var carryingOut = CarryOutAsync(hold, token, signOutWait, listWait, onSignedOut, carryOver, afterBatch, systemEnding);
        underWay?.Track(carryingOut);
        try
        {
            return await carryingOut.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Nobody waits for its end any more: its outcome goes to the log (the endpoint that would have logged it has
            // answered nobody), and its failure is observed there, so it is no unobserved task exception.
            _ = LogWhenCarriedOutAsync(carryingOut, provider, log);
            throw;
        }
    }

    /// <summary>Writes the outcome of a logout whose caller stopped waiting: what it signed out, or why it failed (the token then left for a retry).</summary>
    private static async Task LogWhenCarriedOutAsync(Task<BackChannelLogoutResult> carryingOut, string provider, ILoggingAdapter? log)
    {
        try
        {
            var result = await carryingOut.ConfigureAwait(false);
            log?.Info("Back-channel logout from provider {0} carried out after its caller stopped waiting: {1} account(s) signed out",
                provider, result.SignedOut.Count);
        }
        catch (Exception e)
        {
            log?.Warning("Back-channel logout from provider {0} failed after its caller stopped waiting ({1}); its token is left unspent for a retry",
                provider, e.GetType().Name);
        }
    }

    /// <summary>
    /// Carries out an accepted logout to its end, whether or not its caller still waits: the sign-outs, the app's part,
    /// then the record that the token is spent. Not bound to the provider's request: a provider that gives up on its post
    /// (its own timeout, shorter than a slow store's) need not post it again (Keycloak and Duende do not), and a logout
    /// stopped there left the later accounts of the session signed in and the app's own sessions open. Each step is
    /// bounded by its own wait, except the app's part, which has none of its own.
    /// </summary>
    private static async Task<BackChannelLogoutResult> CarryOutAsync(Hold hold, LogoutToken token, TimeSpan signOutWait, TimeSpan listWait,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut, LogoutCarryOver? carryOver, Func<Task>? afterBatch,
        CancellationToken systemEnding)
    {
        var provider = hold.Provider;
        // A retry after an attempt that failed: the accounts that attempt signed out, or is still signing out, hold no tokens
        // by the time this one asks them, yet the app still has to end their sessions. Kept before that attempt forgot the
        // jti, so they are here for whichever attempt the guard accepts next.
        var earlier = carryOver?.Take(provider, token.JwtId, DateTimeOffset.UtcNow) ?? [];
        var sent = new List<Task<SignOutResult?>>();
        BackChannelLogoutResult result;
        try
        {
            var failure = await SignOutSessionAsync(hold, signOutWait, listWait, token, sent, afterBatch).ConfigureAwait(false);

            // An earlier attempt's sign-out of an account this one asked too was answered before this one's (the account's
            // actor takes them in turn); one of an account this attempt did not ask may still run (its ask's wait bounds it).
            await AllSettledAsync(earlier).ConfigureAwait(false);
            result = new BackChannelLogoutResult(provider, token, await SignedOutAsync(earlier, sent).ConfigureAwait(false));
            if (onSignedOut is not null)
            {
                // The app's part has no bound of its own: it gets a lease of its own; one that runs longer may see the
                // provider's retry take the token over and call it again, as a retry after a failure does.
                // It runs even when O8Actors' own part failed (an account or the store did not answer): the app's sessions
                // of the token's sid or sub do not hang on O8Actors' tokens, and a provider that posts a token once
                // (Keycloak, Duende) would never give the app another chance to end them.
                hold.Renew();
                try
                {
                    await onSignedOut(result, systemEnding).ConfigureAwait(false);
                }
                catch (Exception appFailed) when (failure is not null)
                {
                    // Both parts failed: the log gets both, not only the app's (the store's failure is the one to fix first).
                    throw new AggregateException(failure, appFailed);
                }
            }

            if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        }
        catch
        {
            // Not carried out (an account or the store did not answer, the app's part failed): the token is not spent, so
            // the provider may post it again. Signing out again the accounts that were is harmless, and those signed out, by
            // now or once their sign-out ends, are reported to the retry: kept before the jti is forgotten, so the retry finds them.
            carryOver?.Keep(provider, token.JwtId, [.. earlier, .. sent], LogoutTokenReplayGuard.KeepUntil(token), DateTimeOffset.UtcNow);
            hold.Release();
            throw;
        }

        await CompleteAsync(hold, listWait).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The logout was carried out: a post of the token is a replay from now on (until then one is sent back to post it
    /// later). Awaited, so the provider's 200 follows the guard's record; not bound to the provider's request, which may go
    /// away now that nothing is left to undo.
    /// </summary>
    private static async Task CompleteAsync(Hold hold, TimeSpan wait)
    {
        try
        {
            await hold.Accounts.Ask<LogoutTokenCompleted>(new CompleteLogoutToken(hold.Provider, hold.JwtId), wait).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            // The accounts were signed out and the app told: the logout stands. Unrecorded, the token must not be carried out
            // again once this attempt's lease runs out: a captured copy would sign out a session opened since. So the hold
            // is kept for as long as the guard keeps the token (a later post gets the "post it later" answer, which signs
            // nobody out); should the guard have lost the token altogether (its entity moved), it is accepted again, as before.
            hold.KeepUntilForgotten();
        }
    }

    /// <summary>
    /// Signs out the token's accounts, adding each sign-out sent to <paramref name="sent"/>; returns the first failure (the account list's, for a sid-only token whose accounts could not be listed).
    /// One account's failure does not stop the others, nor hide them: every sign-out sent is kept for a retry to report.
    /// </summary>
    private static async Task<Exception?> SignOutSessionAsync(Hold hold, TimeSpan signOutWait, TimeSpan listWait,
        LogoutToken token, List<Task<SignOutResult?>> sent, Func<Task>? afterBatch)
    {
        var (accounts, provider) = (hold.Accounts, hold.Provider);
        var session = token.SessionId is { } sid ? new EndedSession(sid, AlsoWithoutSessionId: token.Subject is not null) : null;
        IReadOnlyList<OAuthAccount> candidates;
        try
        {
            candidates = token.Subject is { } subject
                ? [new OAuthAccount(provider, subject)]
                : (await accounts.Ask<AccountList>(new ListAccounts(provider), listWait).ConfigureAwait(false)).Accounts;
        }
        catch (Exception listFailed)
        {
            // The accounts of a sid-only token could not be listed: none is asked, and the failure is the logout's, as an
            // account's is (the app's part still runs).
            return listFailed;
        }

        Exception? failure = null;
        var failures = new ConcurrentQueue<Exception>();
        foreach (var batch in candidates.Chunk(SessionSearchBatch))
        {
            // The accept's lease covers the first batch; each later one renews it, so a long session is not taken over.
            if (sent.Count > 0) hold.Renew();
            // Not ended by the provider's request: the account's actor carries a sign-out it took out whether or not anyone
            // waits (and answers within its own store deadlines), so only its answer tells whom it signed out.
            var signOuts = batch.Select(account => SignOutAsync(accounts, new SignOut(account, SignOutOptions.Local, session), signOutWait, failures))
                .ToList();
            sent.AddRange(signOuts);
            await AllSettledAsync(signOuts).ConfigureAwait(false);
            if (failure is null && failures.TryPeek(out var first)) failure = first;
            if (afterBatch is not null) await afterBatch().ConfigureAwait(false);
        }

        return failure;
    }

    /// <summary>
    /// One account's sign-out: the account it signed out, or null when it held no tokens (of the session) or failed (its
    /// failure added to <paramref name="failures"/>). Never faults: a retry may hold it long after this attempt ended.
    /// </summary>
    private static async Task<SignOutResult?> SignOutAsync(IActorRef accounts, SignOut signOut, TimeSpan wait, ConcurrentQueue<Exception> failures)
    {
        try
        {
            // An account with no tokens was not signed in: nothing was signed out there.
            return await accounts.Ask<object>(signOut, wait).ConfigureAwait(false) is SignOutResult { Revocation: not RevocationOutcome.NothingToRevoke } signedOut
                ? signedOut
                : null;
        }
        catch (Exception e)
        {
            failures.Enqueue(e);
            return null;
        }
    }

    /// <summary>Waits until every one of <paramref name="signOuts"/> has ended (none faults; each is bounded by its ask's wait).</summary>
    private static Task AllSettledAsync(IEnumerable<Task<SignOutResult?>> signOuts) => Task.WhenAll(signOuts);

    /// <summary>
    /// The accounts signed out, each once: this attempt's, and those of earlier ones it did not sign out again. Every
    /// sign-out has ended by now (both waits above returned), so nothing here waits.
    /// </summary>
    private static async Task<List<SignOutResult>> SignedOutAsync(IEnumerable<Task<SignOutResult?>> earlier, IEnumerable<Task<SignOutResult?>> sent)
    {
        static async Task<List<SignOutResult>> Of(IEnumerable<Task<SignOutResult?>> signOuts)
        {
            var signedOut = new List<SignOutResult>();
            foreach (var signOut in signOuts)
                if (await signOut.ConfigureAwait(false) is { } result) signedOut.Add(result);
            return signedOut;
        }

        var mine = await Of(sent).ConfigureAwait(false);
        var theirs = await Of(earlier).ConfigureAwait(false);
        return [.. theirs.Where(e => mine.All(r => r.Account != e.Account)).DistinctBy(e => e.Account), .. mine];
    }

    /// <summary>
    /// Has the token's <c>jti</c> accepted once (on a cluster, by its provider's guard entity); a replay is refused, and a
    /// post while an attempt of it is still under way is sent back to be posted again later.
    /// </summary>
    private static async Task AcceptOnceAsync(Hold hold, TimeSpan wait, LogoutToken token, CancellationToken cancellationToken)
    {
        var provider = hold.Provider;
        LogoutTokenAcceptance acceptance;
        try
        {
            acceptance = await hold.Accounts.Ask<LogoutTokenAcceptance>(
                new AcceptLogoutToken(provider, token.JwtId, LogoutTokenReplayGuard.KeepUntil(token), hold.Attempt, hold.Lease), wait, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException)
        {
            // The guard may still take the jti after this wait (a cluster's guard entity behind a shard being moved):
            // withdrawn, so the provider's retry of this logout is carried out instead of refused as a replay.
            hold.Release();
            if (e is OperationCanceledException) throw;
            throw new BackChannelLogoutException(BackChannelLogoutFailure.Failed,
                $"The logout token from '{provider}' could not be checked against the tokens already accepted ({e.GetType().Name}). No account was signed out.", e);
        }

        switch (acceptance.Check)
        {
            case LogoutTokenCheck.Replayed:
                throw new BackChannelLogoutException(BackChannelLogoutFailure.Replayed,
                    $"A logout token from '{provider}' with this jti was already accepted (a replay). No account was signed out.");
            case LogoutTokenCheck.InProgress:
                // The provider posted it again before the first post was answered (its own timeout): that attempt may still
                // fail and forget the token, or its lease run out, so this post must not be told it is a replay, for good.
                throw new BackChannelLogoutException(BackChannelLogoutFailure.InProgress,
                    $"A logout token from '{provider}' with this jti is being carried out by an earlier post; post it again later if that one does not complete.");
        }
    }

    private static async Task<LogoutToken> ValidateAsync(IActorRef providers, TimeSpan wait, string provider, string logoutToken,
        CancellationToken cancellationToken)
    {
        var reply = await providers.Ask<object>(new ValidateLogoutToken(provider, FlowSecrets.RandomToken(9), logoutToken), wait, cancellationToken)
            .ConfigureAwait(false);
        return reply switch
        {
            LogoutTokenAccepted accepted => accepted.Token,
            LogoutTokenRefused refused => throw refused.Error,
            ProviderUnavailable { Failure: LoginFailure.UnknownProvider } => throw new UnknownProviderException(provider),
            ProviderUnavailable unavailable => throw new BackChannelLogoutException(BackChannelLogoutFailure.Failed, unavailable.Reason),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."),
        };
    }

    /// <summary>One attempt's hold on its token's <c>jti</c> in the guard: renewed while it runs, released if it fails.</summary>
    private sealed record Hold(IActorRef Accounts, string Provider, string JwtId, string Attempt, TimeSpan Lease)
    {
        public void Renew() => Accounts.Tell(new RenewLogoutToken(Provider, JwtId, Attempt, Lease));

        public void Release() => Accounts.Tell(new ForgetLogoutToken(Provider, JwtId, Attempt));

        /// <summary>Holds the token, unless already completed, until the guard forgets it (its KeepUntil).</summary>
        public void KeepUntilForgotten() => Accounts.Tell(new RenewLogoutToken(Provider, JwtId, Attempt, TimeSpan.MaxValue));
    }
}
