using Akka.Actor;

namespace O8Actors.Accounts;

/// <summary>
/// Callers of an interactive login that was not started for them (they came while it ran, or waited behind the caller it
/// was made for): the login keeps its own deadline, the first caller's, and such a caller waits for it no longer than its
/// own timeout (the longest a login may take, when it has none) and one token exchange from then
/// (<see cref="Waiter.Deadline"/>; a caller that rides through more than one login, one for other scopes after another,
/// keeps the first one's), then gets <see cref="AuthorizationTimeoutException"/> while the login goes on for the
/// others. Before, it waited up to its ask's backstop (several renewals' worth more), and once that had given up it still
/// counted as waiting: a login whose other callers had all cancelled was not cancelled for it.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>The deadlines of the running login's joined callers (each its own timer, keyed by its waiter).</summary>
    private readonly List<Waiter> _joinedDeadlines = [];

    /// <summary>
    /// <paramref name="waiter"/> waits for the login of <paramref name="generation"/>: its own deadline runs from now,
    /// unless the login is <paramref name="startedFor"/> it (the login's deadline is its own) or it has one already.
    /// </summary>
    private void RideLogin(Waiter waiter, int generation, bool startedFor)
    {
        if (!startedFor && waiter.Deadline == DateTimeOffset.MaxValue) waiter.Deadline = Now + _settings.JoinedLoginWait(waiter.Request.Options.Login?.Timeout);
        if (waiter.Deadline == DateTimeOffset.MaxValue) return;
        var left = waiter.Deadline - Now;
        Timers.StartSingleTimer(waiter, new JoinedCallerTimedOut(generation, waiter), left > TimeSpan.Zero ? left : TimeSpan.Zero);
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
        timedOut.Waiter.ReplyTo.Tell(new Status.Failure(JoinedLoginTimedOut(timedOut.Waiter.Request)));
        CancelLoginIfNobodyWaits("every caller of its interactive login has gone (cancelled, or its own timeout passed)");
    }

    /// <summary>
    /// Fails the interactive callers whose own deadline has passed (they rode through an earlier login for other scopes):
    /// no login is started for a caller that has stopped waiting.
    /// </summary>
    private void FailCallersPastTheirDeadline()
    {
        var now = Now;
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            if (!waiter.Request.Options.AllowInteraction || waiter.Deadline > now) continue;
            waiter.ReplyTo.Tell(new Status.Failure(JoinedLoginTimedOut(waiter.Request)));
            _waiters.RemoveAt(i);
        }
    }

    /// <summary>What a caller gets whose own wait for an interactive login it did not start has passed.</summary>
    private AuthorizationTimeoutException JoinedLoginTimedOut(GetAccessToken request) =>
        JoinedLoginTimedOut(_account, request, _settings);

    /// <summary>What a caller of <paramref name="account"/> gets whose own wait for an interactive login it did not start has passed.</summary>
    internal static AuthorizationTimeoutException JoinedLoginTimedOut(OAuthAccount account, GetAccessToken request, AccountSettings settings) =>
        request.Options.Login?.Timeout is { } timeout
            ? new(timeout, $"Authorization timed out: the interactive login of {account} that this call joined did not end within this call's timeout of " +
                $"{timeout.TotalSeconds:0.#} seconds and the token exchange's; the login goes on for the call that started it.")
            : new(settings.JoinedLoginWait(null), $"Authorization timed out: the interactive login of {account} that this call joined did not end within " +
                $"{settings.JoinedLoginWait(null).TotalSeconds:0} seconds, the longest a login may take and the token exchange's; the login goes on for the call that started it.");
}
