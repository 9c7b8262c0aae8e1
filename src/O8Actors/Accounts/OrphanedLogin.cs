using Akka.Actor;
using O8Actors.Flows;

namespace O8Actors.Accounts;

/// <summary>
/// An account's interactive login that outlives the account's actor (its cluster entity moved to another node, or the
/// actor stopped on a failure): the login runs on in the flows supervisor, and its user may still approve it. Its end is
/// followed here, off the actor, with only what the actor handed over: the tokens go to the account's next actor as a
/// remembered login (on whichever node runs the account now), then the callers who waited for the login follow them
/// there and are served with them. So the user who approved is signed in and the account remembered, and no token the
/// provider issued is left live with nobody holding it.
/// </summary>
/// <param name="loginId">The login's id (a failure's outcome names it).</param>
/// <param name="account">The account the login signs in.</param>
/// <param name="request">The login's request (its account key, for tokens without a validated ID token).</param>
/// <param name="subjectRequired">The account is known by its ID token's subject: tokens without an ID token are no one's.</param>
/// <param name="stopped">The account's actor that started the login and has stopped.</param>
/// <param name="home">Where the account's messages go now (an <see cref="AccountsSupervisor"/>, which takes <see cref="AfterStop"/>).</param>
/// <param name="callers">The callers that waited for the login: their requests, where each is answered, and until when.</param>
/// <param name="settings">What the account's actor ran with (for the exceptions of a login that did not succeed).</param>
/// <param name="storedOver">
/// The stored version the account had when the login began (0: none): the next actor tells by it whether the account was
/// signed out since (<see cref="RememberLogin.OrphanedOver"/>).
/// </param>
/// <param name="scheduler">The actor system's scheduler, whose clock the callers' deadlines are on.</param>
/// <param name="flows">The flows supervisor the login runs in: it is cancelled there once no caller waits for it.</param>
internal sealed class OrphanedLogin(string loginId, OAuthAccount account, AuthorizationRequest? request, bool subjectRequired, IActorRef stopped, IActorRef home,
    IReadOnlyList<OrphanedLogin.Caller> callers, AccountSettings settings, long storedOver, IScheduler scheduler, IActorRef flows)
{
    // Per caller, 1 once answered: by its deadline (a scheduler thread), its cancellation (the canceller's thread) or the
    // login's end, whichever comes first.
    private readonly int[] _answered = new int[callers.Count];
    private readonly Cancelable _deadlines = new(scheduler);
    private readonly List<CancellationTokenRegistration> _cancellations = [];
    // How many callers have gone before the login's end (deadline or cancellation): all of them, and it waits for nobody.
    private int _gone;

    /// <summary>A caller that waited for the login.</summary>
    /// <param name="Request">What it asked.</param>
    /// <param name="ReplyTo">Where it is answered.</param>
    /// <param name="Deadline">
    /// When it stops waiting (its own timeout and one exchange from the first login it waited for); it is told at that time
    /// when <paramref name="Watched"/>, else the login's own deadline is the same and comes first.
    /// </param>
    /// <param name="Watched">Whether it is told at its deadline: it comes from elsewhere than the login's start.</param>
    internal sealed record Caller(GetAccessToken Request, IActorRef ReplyTo, DateTimeOffset Deadline, bool Watched);

    /// <summary>Waits for the login's end (never blocking a thread) and settles it; never throws.</summary>
    public async Task FollowAsync(Task<LoginOutcome> completion)
    {
        WatchDeadlines();
        WatchCancellations();
        LoginOutcome outcome;
        try
        {
            outcome = await completion.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // As the account's actor takes a faulted completion: the type only, an app's exception may quote anything.
            outcome = new LoginFailed(loginId, LoginFailure.Internal, e.GetType().Name);
        }

        Settle(outcome);
        _deadlines.Cancel();
        foreach (var cancellation in _cancellations) cancellation.Unregister();
    }

    /// <summary>
    /// A caller whose own wait for the login passes before the login ends is told so then, as the actor told it. A caller
    /// whose deadline is the login's own is not watched: the login ends then anyway.
    /// </summary>
    private void WatchDeadlines()
    {
        var now = scheduler.Now;
        for (var i = 0; i < callers.Count; i++)
        {
            if (!callers[i].Watched) continue;
            var index = i;
            var left = callers[i].Deadline - now;
            scheduler.Advanced.ScheduleOnce(left > TimeSpan.Zero ? left : TimeSpan.Zero, () =>
            {
                if (Take(index)) Gone(index, AccountActor.JoinedLoginTimedOut(account, callers[index].Request, settings));
            }, _deadlines);
        }
    }

    /// <summary>
    /// A caller that cancels before the login ends is dropped, as the actor drops it (its ask has ended already). Heard
    /// unless the account's cluster entity has moved: a caller of a cluster, on any node, cancels through that entity, and
    /// after a move its cancellation reaches the account's next actor, which knows nothing of this login.
    /// </summary>
    private void WatchCancellations()
    {
        for (var i = 0; i < callers.Count; i++)
        {
            var token = callers[i].Request.CallerCancellation;
            if (!token.CanBeCanceled) continue;
            var index = i;
            _cancellations.Add(token.Register(() =>
            {
                if (Take(index)) Gone(index, AccountActor.CancelledByCaller());
            }));
        }
    }

    /// <summary>
    /// Tells the caller at <paramref name="index"/> why it stopped waiting; once every caller has, the login is cancelled,
    /// as the actor cancels a login nobody waits for (no browser stays open for nobody).
    /// </summary>
    private void Gone(int index, Exception why)
    {
        callers[index].ReplyTo.Tell(new Status.Failure(why));
        if (Interlocked.Increment(ref _gone) == callers.Count) flows.Tell(new CancelFlow(loginId));
    }

    /// <summary>Whether the caller at <paramref name="index"/> is still to be answered (it is this caller's to answer now).</summary>
    private bool Take(int index) => Interlocked.Exchange(ref _answered[index], 1) == 0;

    private void Settle(LoginOutcome outcome)
    {
        if (outcome is not LoginSucceeded succeeded)
        {
            Fail(AccountActor.LoginException(outcome, account, settings));
            return;
        }

        var signedIn = AccountKeys.For(account.Provider, succeeded.Tokens, request, subjectRequired);
        // Nobody waits for the answer: the account's next actor then keeps the tokens should the store fail, as it keeps
        // any tokens the provider issued that nobody else holds.
        // Another account's tokens are remembered as any login's: nothing is known of that account's stored state here.
        if (signedIn is not null)
            Send(signedIn, RememberLogin.Of(signedIn, succeeded.Tokens, request) with
            {
                OrphanedOver = signedIn == account ? storedOver : null,
                NoCallerWaits = true,
            }, ActorRefs.Nobody);
        if (signedIn != account)
        {
            Fail(AccountActor.NotThisAccount(account, signedIn));
            return;
        }

        // Sent after the tokens, in one mailbox's order: the next actor has them by the time it takes these requests. Marked
        // as the tokens are, so that a next actor that dropped them (signed out since) tells the callers so instead of
        // opening a browser for them.
        // A caller whose own wait has passed was told so (WatchDeadlines), not sent on: its ask has ended, and the next
        // actor would open a browser for it should the tokens not cover its scopes.
        var now = scheduler.Now;
        for (var i = 0; i < callers.Count; i++)
            if (Take(i))
                Send(account, callers[i].Request with
                {
                    OrphanedOver = storedOver,
                    // Its wait goes on there, through a login the next actor starts for it (scopes these tokens lack).
                    WaitLeft = callers[i].Deadline == DateTimeOffset.MaxValue ? null : callers[i].Deadline - now,
                }, callers[i].ReplyTo);
    }

    private void Send(OAuthAccount to, object message, IActorRef sender) => home.Tell(new AfterStop(stopped, to, message), sender);

    private void Fail(Exception cause)
    {
        for (var i = 0; i < callers.Count; i++)
            if (Take(i))
                callers[i].ReplyTo.Tell(new Status.Failure(cause));
    }
}
