using Akka.Actor;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// Callers of an interactive login that was not started for them (they came while it ran, or waited behind the caller it
/// was made for): the login keeps its own deadline, the first caller's, and such a caller with a timeout of its own waits
/// for it no longer than that timeout and one token exchange, then gets <see cref="AuthorizationTimeoutException"/> while
/// the login goes on for the others. Before, it waited up to its ask's backstop (its timeout and several renewals' worth).
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>The deadlines of the running login's joined callers (each its own timer, keyed by its waiter).</summary>
    private readonly List<Waiter> _joinedDeadlines = [];

    /// <summary>Starts <paramref name="waiter"/>'s own deadline, when it has a timeout, on the login of <paramref name="generation"/>.</summary>
    private void WatchJoinedCallerDeadline(Waiter waiter, int generation)
    {
        if (waiter.Request.Options.Login?.Timeout is not { } timeout) return;
        // The exchange's time on top, as the login itself has: a browser back just before the timeout still gets its tokens.
        Timers.StartSingleTimer(waiter, new JoinedCallerTimedOut(generation, waiter, timeout), timeout + ExchangeTimeouts.LoginDeadline(_settings.ExchangeTimeout));
        _joinedDeadlines.Add(waiter);
    }

    /// <summary>The login has ended (or is no longer this actor's): its joined callers' deadlines are dropped.</summary>
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
        timedOut.Waiter.ReplyTo.Tell(new Status.Failure(new AuthorizationTimeoutException(timedOut.Timeout,
            $"Authorization timed out: the interactive login of {_account} that this call joined did not end within this call's timeout of " +
            $"{timedOut.Timeout.TotalSeconds:0.#} seconds and the token exchange's; the login goes on for the call that started it.")));
        CancelLoginIfNobodyWaits("every caller of its interactive login has gone (cancelled, or its own timeout passed)");
    }
}
