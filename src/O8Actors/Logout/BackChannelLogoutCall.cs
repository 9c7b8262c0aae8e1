using System.Runtime.ExceptionServices;
using Akka.Actor;
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
    /// Runs one back-channel logout. <c>onSignedOut</c>, the app's own part (the endpoint's <c>OnSignedOut</c>), runs
    /// before the token counts as spent; <c>carryOver</c> keeps the accounts of an attempt whose part failed for the retry.
    /// <c>afterBatch</c>, for tests only, is awaited once each batch of a session's accounts has answered, before the
    /// logout looks at <c>cancellationToken</c>: a test cancels there to end the logout exactly between two batches.
    /// </summary>
    public static async Task<BackChannelLogoutResult> RunAsync(IActorRef providers, IActorRef accounts, TimeSpan validateWait, TimeSpan signOutWait,
        TimeSpan listWait, string provider, string logoutToken, CancellationToken cancellationToken,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut = null, LogoutCarryOver? carryOver = null, Func<Task>? afterBatch = null)
    {
        var token = await ValidateAsync(providers, validateWait, provider, logoutToken, cancellationToken).ConfigureAwait(false);
        await AcceptOnceAsync(accounts, listWait, provider, token, cancellationToken).ConfigureAwait(false);
        BackChannelLogoutResult? result = null;
        try
        {
            (result, var failure) = await SignOutSessionAsync(accounts, signOutWait, listWait, provider, token, afterBatch, cancellationToken)
                .ConfigureAwait(false);
            // A retry after an attempt that failed: the accounts that attempt signed out are gone from the store now, yet
            // the app still has to end their sessions. Merged before this attempt's own failure counts, so a second failure
            // keeps them too.
            if (carryOver?.Take(provider, token.JwtId, DateTimeOffset.UtcNow) is { Count: > 0 } earlier)
                result = result with { SignedOut = [.. earlier.Where(e => result.SignedOut.All(r => r.Account != e.Account)), .. result.SignedOut] };
            if (failure is not null) ExceptionDispatchInfo.Throw(failure);
            if (onSignedOut is not null) await onSignedOut(result, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            // Not carried out (an account or the store did not answer, the app's part failed, or the provider's request went
            // away): the token is not spent, so the provider may post it again. Signing out again the accounts that were is
            // harmless, and those already signed out are reported to the retry.
            if (result is not null) carryOver?.Keep(provider, token.JwtId, result.SignedOut, LogoutTokenReplayGuard.KeepUntil(token), DateTimeOffset.UtcNow);
            accounts.Tell(new ForgetLogoutToken(provider, token.JwtId));
            throw;
        }
    }

    /// <summary>
    /// Signs out the token's accounts. One account's failure does not stop the others, nor hide them: the result holds
    /// every account signed out, beside the first failure, so a retry can report the accounts this attempt ended.
    /// </summary>
    private static async Task<(BackChannelLogoutResult Result, Exception? Failure)> SignOutSessionAsync(IActorRef accounts, TimeSpan signOutWait,
        TimeSpan listWait, string provider, LogoutToken token, Func<Task>? afterBatch, CancellationToken cancellationToken)
    {
        var session = token.SessionId is { } sid ? new EndedSession(sid, AlsoWithoutSessionId: token.Subject is not null) : null;
        IReadOnlyList<OAuthAccount> candidates = token.Subject is { } subject
            ? [new OAuthAccount(provider, subject)]
            : (await accounts.Ask<AccountList>(new ListAccounts(provider), listWait, cancellationToken).ConfigureAwait(false)).Accounts;

        var signedOut = new List<SignOutResult>();
        Exception? failure = null;
        foreach (var batch in candidates.Chunk(SessionSearchBatch))
        {
            var answers = await Task.WhenAll(batch.Select(account =>
                SettleAsync(accounts.Ask<object>(new SignOut(account, SignOutOptions.Local, session), signOutWait, cancellationToken)))).ConfigureAwait(false);
            failure ??= answers.Select(a => a.Failure).FirstOrDefault(f => f is not null);
            // An account with no tokens was not signed in: nothing was signed out there.
            signedOut.AddRange(answers.Select(a => a.Answer).OfType<SignOutResult>().Where(r => r.Revocation != RevocationOutcome.NothingToRevoke));
            if (afterBatch is not null) await afterBatch().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                // The provider's request went away between two batches: the rest is left to its retry, so this attempt must
                // fail. Returned as a success, it would leave the token spent and the retry refused as a replay, with the
                // accounts of the later batches still signed in.
                failure ??= new OperationCanceledException(cancellationToken);
                break;
            }
        }
        return (new BackChannelLogoutResult(provider, token, signedOut), failure);
    }

    /// <summary>One account's answer, or its failure: a failure stops no other account's sign-out.</summary>
    private static async Task<(object? Answer, Exception? Failure)> SettleAsync(Task<object> ask)
    {
        try
        {
            return (await ask.ConfigureAwait(false), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    /// <summary>Has the token's <c>jti</c> accepted once (on a cluster, by its provider's guard entity); a replay is refused.</summary>
    private static async Task AcceptOnceAsync(IActorRef accounts, TimeSpan wait, string provider, LogoutToken token, CancellationToken cancellationToken)
    {
        LogoutTokenAcceptance acceptance;
        try
        {
            acceptance = await accounts.Ask<LogoutTokenAcceptance>(new AcceptLogoutToken(provider, token.JwtId, LogoutTokenReplayGuard.KeepUntil(token)),
                wait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException)
        {
            // The guard may still take the jti after this wait (a cluster's guard entity behind a shard being moved):
            // withdrawn, so the provider's retry of this logout is carried out instead of refused as a replay.
            accounts.Tell(new ForgetLogoutToken(provider, token.JwtId));
            if (e is OperationCanceledException) throw;
            throw new BackChannelLogoutException(BackChannelLogoutFailure.Failed,
                $"The logout token from '{provider}' could not be checked against the tokens already accepted ({e.GetType().Name}). No account was signed out.", e);
        }

        if (!acceptance.Accepted)
            throw new BackChannelLogoutException(BackChannelLogoutFailure.Replayed,
                $"A logout token from '{provider}' with this jti was already accepted (a replay). No account was signed out.");
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
}
