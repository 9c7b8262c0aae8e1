using Akka.Actor;
using Akka.Event;

namespace O8Actors.Accounts;

/// <summary>
/// The actor's end: retiring (after a sign-out, or idle) and forwarding what still comes to the parent, and answering
/// on a stop whatever it still holds.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>
    /// Asks the parent to retire this actor (after sign-out, or idle): it stops routing here and sends a PoisonPill, and
    /// messages already on their way here are sent back to it meanwhile (see <see cref="Forwarding"/>).
    /// </summary>
    private void Retire()
    {
        Context.SetReceiveTimeout(null);
        Context.Parent.Tell(new Forgotten(_account));
        Become(_forwarding);
        UnstashAll();
    }

    /// <summary>After sign-out, until the parent stops it: everything goes back to the parent, which routes it to a fresh actor.</summary>
    private bool Forwarding(object message)
    {
        // Signed out here: a login that outlived the account's earlier actor must not sign it in again through the next one.
        // Retired for idleness, nothing was signed out: it goes to the parent, whose next actor reads the store and decides.
        if (_signedOut && RefusedAsSignedOut(message, null)) return true;
        switch (message)
        {
            case GetAccessToken or RememberLogin or SignOut:
                Context.Parent.Forward(message);
                return true;
            case AccountHandOff:
                Context.Stop(Self);
                return true;
            default:
                return StaleReply(message);
        }
    }

    /// <summary>
    /// Whether <paramref name="request"/> from <paramref name="sender"/> is among what this actor answers when it stops
    /// (its waiters, the sign-out under way, the logins to store). A login's remember is known by its sender alone, which
    /// is its own ask (or nobody, who needs no answer).
    /// </summary>
    private bool Holds(object request, IActorRef sender) => request switch
    {
        GetAccessToken get => _waiters.Exists(w => ReferenceEquals(w.Request, get)),
        SignOut signOut => _signOutCaller is var (underWay, _) && ReferenceEquals(underWay, signOut),
        RememberLogin => _rememberTo.Contains(sender) || _queuedRememberers.Contains(sender) || _loginsAfterRemoval.Exists(l => l.ReplyTo.Equals(sender)),
        _ => false,
    };

    /// <inheritdoc />
    protected override void PostStop()
    {
        EndRemovalCalls();
        // The request whose handler threw, unless the handler had already taken it (then it is answered below, or by the
        // login handed over next, which takes the waiters, and a second answer would reach dead letters). Told apart before
        // the hand-over empties the waiters.
        var inHand = _inHand is var (held, heldFrom) && Holds(held, heldFrom) ? null : _inHand;
        // Stopped on a failure (or any way but a hand-off, which hands it over itself) during an interactive login: its
        // callers wait for it still, and its tokens go to the account's next actor.
        HandOverLogin("stopped");
        var cause = AccountRequestFailures.Stopped(_account);
        if (inHand is var (request, sender)) AccountRequestFailures.AnswerStopped(request, _account, sender, Self);
        FailAll(cause);
        FailRemember(cause);
        FailQueuedRemembers(cause);
        FailLoginsAfterRemoval(cause);
        if (_signOutCaller is var (signOut, signOutReplyTo)) AccountRequestFailures.AnswerStopped(signOut, _account, signOutReplyTo, Self);
        // What waited for a renewal or a sign-out to end: sign-outs and logins are answered, not left to their asks.
        foreach (var stashed in Stash.ClearStash())
            if (AccountRequestFailures.AccountOf(stashed.Message) is not null) AccountRequestFailures.AnswerStopped(stashed.Message, _account, stashed.Sender, Self);
        if (_unsaved is not null)
            _log.Warning("Account {0}: stopped with tokens the store never took; the stored copy's refresh token may be spent", _account);
        if (_lateRefresh is not null || _overtime)
            _log.Warning("Account {0}: stopped before a refresh it gave up answered; the stored copy's refresh token may be spent", _account);
        ReleaseLock();
        foreach (var granted in _locks.Close()) Release(granted);
        _locks.Dispose();
        // A stopped actor no longer keeps its entry up to date; the next one publishes again.
        Withdraw();
        base.PostStop();
    }
}
