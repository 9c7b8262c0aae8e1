using Akka.Actor;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// How long an interactive caller waits for logins: its own timeout (the longest a login may take, when it has none) and
/// one token exchange from the first login it waits for (<see cref="Waiter.Deadline"/>), however many it waits through
/// (one for other scopes after another, one another sign-in superseded) and on whichever node its account runs. A login
/// keeps its own deadline, its first caller's timeout; a caller whose deadline comes from elsewhere (it joined the login,
/// waited behind its first caller, or had waited for an earlier login) gets <see cref="AuthorizationTimeoutException"/>
/// at its deadline while the login goes on for the others, and is cancelled when nobody is left. A login is not cut to
/// its first caller's rest: the others waiting for it would time out with it. Before, such a caller waited up to its ask's backstop (several renewals' worth more),
/// and once that had given up it still counted as waiting: a login whose other callers had all cancelled went on.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>The deadlines on timers for the running login (keyed by their waiters).</summary>
    private readonly List<Waiter> _joinedDeadlines = [];

    /// <summary>
    /// <paramref name="waiter"/> waits for the login of <paramref name="generation"/>: its deadline runs from now unless it
    /// runs already, and on a timer unless it runs from the start of this login, which is <paramref name="startedFor"/>
    /// it (the login's own deadline is then the same, and comes first).
    /// </summary>
    private void RideLogin(Waiter waiter, int generation, bool startedFor)
    {
        var waitedBefore = waiter.Deadline != DateTimeOffset.MaxValue;
        if (!waitedBefore) waiter.Deadline = Now + _settings.JoinedLoginWait(waiter.Request.Options.Login?.Timeout);
        waiter.Watched = !startedFor || waitedBefore;
        if (!waiter.Watched) return;
        var left = waiter.Deadline - Now;
        Timers.StartSingleTimer(waiter, new JoinedCallerTimedOut(generation, waiter), left > TimeSpan.Zero ? left : TimeSpan.Zero);
        _joinedDeadlines.Add(waiter);
    }

    /// <summary>The login has ended (or is no longer this actor's): the timers of its callers' deadlines are dropped.</summary>
    private void StopJoinedCallerDeadlines()
    {
        foreach (var waiter in _joinedDeadlines) Timers.Cancel(waiter);
        _joinedDeadlines.Clear();
    }

    /// <summary>A joined caller's own deadline passed: it is answered, and the login cancelled once nobody waits for it.</summary>
    private void OnJoinedCallerTimedOut(JoinedCallerTimedOut timedOut)
    {
        _joinedDeadlines.Remove(timedOut.Waiter);
        if (!_waiters.Remove(timedOut.Waiter)) return; // answered already (cancelled)
        timedOut.Waiter.ReplyTo.Tell(new Status.Failure(JoinedLoginTimedOut(_account, timedOut.Waiter.Request, _settings)));
        CancelLoginIfNobodyWaits("every caller of its interactive login has gone (cancelled, or its own timeout passed)");
    }

    /// <summary>
    /// Fails the interactive callers whose own wait has passed while they waited for earlier logins (all but the token
    /// exchange's part of it): no login is started for a caller that has stopped waiting.
    /// </summary>
    private void FailCallersPastTheirDeadline()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            if (!waiter.Request.Options.AllowInteraction || waiter.Deadline - ExchangeTimeouts.LoginDeadline(_settings.ExchangeTimeout) > Now) continue;
            waiter.ReplyTo.Tell(new Status.Failure(JoinedLoginTimedOut(_account, waiter.Request, _settings)));
            _waiters.RemoveAt(i);
        }
    }

    /// <summary>What a caller of <paramref name="account"/> gets whose own wait for logins has passed.</summary>
    internal static AuthorizationTimeoutException JoinedLoginTimedOut(OAuthAccount account, GetAccessToken request, AccountSettings settings)
    {
        const string why = "(it waited for an interactive login started for another call, which goes on for that call, or for more than one login).";
        return request.Options.Login?.Timeout is { } timeout
            ? new(timeout, $"Authorization timed out: {account} was not signed in within this call's timeout of {timeout.TotalSeconds:0.#} seconds and the token exchange's {why}")
            : new(settings.JoinedLoginWait(null), $"Authorization timed out: {account} was not signed in within {settings.JoinedLoginWait(null).TotalSeconds:0} " +
                $"seconds, the longest a login may take and the token exchange's {why}");
    }
}
