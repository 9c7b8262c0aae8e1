using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// An interactive login that outlives the actor that started it: handed over when the actor stops, taken up by the
/// account's next actor, and dropped (its tokens revoked) when the account was signed out since it began.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>
    /// This actor stops (<paramref name="why"/>) while its interactive login runs: the login goes on in the flows supervisor,
    /// and its user may still approve it. Its end is followed off this actor (<see cref="OrphanedLogin"/>): the tokens go to
    /// the account's next actor as a remembered login, and the callers waiting here follow them there, to be served with
    /// them; an outcome other than success is told to the callers. Otherwise the tokens went to dead letters: the user who
    /// approved was not signed in, and a live refresh token was left at the provider with nobody holding it.
    /// </summary>
    private void HandOverLogin(string why)
    {
        StopWatchingCallers();
        if (_login is not { } login) return;
        // The joined callers' deadlines go with them.
        var callers = _waiters.Select(waiter => new OrphanedLogin.Caller(waiter.Request, waiter.ReplyTo, waiter.Deadline, waiter.Watched)).ToArray();
        _log.Info("Account {0}: {1} during its interactive login; the login goes on, and its tokens and {2} waiting caller(s) go to the account's next actor",
            _account, why, callers.Length);
        var orphaned = new OrphanedLogin(_loginId!, _account, _loginRequest, _loginNeedsSubject, Self, _home, callers, _settings, _loginOver,
            Context.System.Scheduler, _flows);
        _ = orphaned.FollowAsync(login);
        _waiters.Clear();
        _login = null;
        _loginId = null;
        // Its answer, should it still reach this actor, is stale: the login is followed elsewhere now.
        _generation++;
    }

    /// <summary>
    /// Whether the account was signed out since an interactive login that outlived the account's earlier actor began
    /// (<paramref name="began"/>: <see cref="RememberLogin.OrphanedOver"/>; null, any other login or caller, never).
    /// Either this actor signed it out (it started after that login's actor stopped), or the store held tokens when the
    /// login began and now holds none, or an earlier version than then (a removal restarts the store's count).
    /// </summary>
    /// <remarks>
    /// Not told apart: a login that began with nothing stored, whose account was signed in and out again by another
    /// actor meanwhile (the store holds nothing, as when the login began); nor a sign-out followed by a new sign-in that
    /// brought the store back to the version it had. The login's tokens are then stored as any login's.
    /// </remarks>
    private bool SignedOutSince(long? began, StoredTokens? stored) =>
        began is { } over && (_signedOut || over > 0 && (stored is null || stored.Version < over));

    /// <summary>
    /// What the callers of a login get whose account was signed out while it ran: what any caller of a signed-out account
    /// gets (it has no tokens; signing in is the way on), not a failure of the login or of O8Actors.
    /// </summary>
    private InteractionRequiredException SignedOutMeanwhile() => new(_account, InteractionReason.NoAccount,
        $"{_account} was signed out while its interactive login waited for the user; that login's tokens are not kept. Sign in again.");

    /// <summary>
    /// Refuses the remember, or a caller, of a login that outlived the account's earlier actor when the account was signed
    /// out since that login began (<see cref="SignedOutSince"/>): it must not sign the account in again. A remember's tokens
    /// are dropped (<see cref="DropSignedOutLogin"/>), and the sender is told the account was signed out.
    /// </summary>
    /// <param name="message">The message in hand; anything but such a <see cref="RememberLogin"/> or <see cref="GetAccessToken"/> is left.</param>
    /// <param name="stored">The stored copy as this actor knows it (null: none, or signed out here).</param>
    /// <returns>Whether it was refused (and answered).</returns>
    private bool RefusedAsSignedOut(object message, StoredTokens? stored)
    {
        switch (message)
        {
            case RememberLogin msg when SignedOutSince(msg.OrphanedOver, stored):
                DropSignedOutLogin(msg.Tokens, stored?.Tokens);
                break;
            case GetAccessToken msg when SignedOutSince(msg.OrphanedOver, stored):
                break;
            default:
                return false;
        }

        Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
        return true;
    }

    /// <summary>Drops the login to save (<see cref="_toSave"/>) when it outlived the account's earlier actor and the account was signed out since.</summary>
    /// <param name="stored">The stored copy the login would replace, read under the store's lock.</param>
    /// <returns>Whether it was dropped.</returns>
    private bool DropLoginIfSignedOut(StoredTokens? stored)
    {
        if (_toSave is not { } login || !SignedOutSince(login.OrphanedOver, stored)) return false;
        DropSignedOutLogin(login.Tokens, stored?.Tokens);
        FailRemember(SignedOutMeanwhile());
        return true;
    }

    /// <summary>
    /// The tokens of a login whose account was signed out since it began: storing them would undo the sign-out, so they are
    /// dropped, and revoked (RFC 7009) since nothing else holds them, unless <paramref name="held"/> shares one with them.
    /// </summary>
    private void DropSignedOutLogin(TokenSet tokens, TokenSet? held)
    {
        _log.Info("Account {0}: an interactive login of its earlier actor ended after the account was signed out; its tokens are revoked, not stored", _account);
        RevokeUnheld(tokens, held, "revoke-signed-out");
    }

    /// <summary>Revokes tokens nothing will hold, nobody waiting for the answer; not when <paramref name="held"/> shares a token with them.</summary>
    private void RevokeUnheld(TokenSet tokens, TokenSet? held, string requestPrefix)
    {
        var revoke = RevokeTokens.Of(tokens);
        if (revoke.Count > 0 && (held is null || !revoke.Any(r => r.Token == held.RefreshToken || r.Token == held.AccessToken)))
            _providers.Tell(new RevokeTokens(_account.Provider, $"{requestPrefix}-{FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
    }
}
