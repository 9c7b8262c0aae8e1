using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;

namespace O8Actors.Accounts;

/// <summary>
/// Callers of an interactive login who cancelled while they waited (<see cref="GetAccessToken.CallerCancellation"/>):
/// no login is started for them, and a login every caller of which has cancelled is cancelled, so no browser opens, or
/// stays open, for nobody.
/// </summary>
internal sealed partial class AccountActor
{
    // Callbacks on the tokens of the running login's callers, removed when the login ends (a caller's token may live far
    // longer than its request, and each callback holds this actor's reference).
    private readonly List<CancellationTokenRegistration> _callerWatches = [];
    // Every caller of the running login cancelled, so this actor cancelled it: callers who come before it has ended wait
    // for its end (stashed), then get a login of their own rather than its cancellation.
    private bool _loginAbandoned;

    /// <summary>Fails (as cancelled) the waiters whose callers have cancelled; their asks have already ended.</summary>
    private void DropCancelledCallers() =>
        FailAll(CancelledByCaller(), w => w.Request.CallerCancellation.IsCancellationRequested);

    /// <summary>What a caller that cancelled while it waited for a login is answered (its ask has ended already).</summary>
    internal static OperationCanceledException CancelledByCaller() => new("The caller cancelled its token request.");

    /// <summary>Tells this actor, during the login of <paramref name="generation"/>, when <paramref name="waiter"/>'s caller cancels.</summary>
    private void WatchCaller(Waiter waiter, int generation)
    {
        var token = waiter.Request.CallerCancellation;
        if (!token.CanBeCanceled) return;
        var self = Self;
        _callerWatches.Add(token.Register(() => self.Tell(new CallerCancelled(generation), ActorRefs.NoSender)));
    }

    /// <summary>The login has ended (or is no longer this actor's): its callers' tokens are not watched any more.</summary>
    private void StopWatchingCallers()
    {
        // Unregister, not Dispose: it does not wait for a callback already running (which only tells this actor).
        foreach (var watch in _callerWatches) watch.Unregister();
        _callerWatches.Clear();
        _loginAbandoned = false;
        StopJoinedCallerDeadlines();
    }

    /// <summary>A caller of the running login cancelled: it is dropped, and the login cancelled once nobody waits for it.</summary>
    private void OnCallerCancelled()
    {
        DropCancelledCallers();
        CancelLoginIfNobodyWaits("every caller of its interactive login has cancelled");
    }

    /// <summary>Cancels the running login once no caller waits for it (<paramref name="why"/>, for the log).</summary>
    private void CancelLoginIfNobodyWaits(string why)
    {
        if (_waiters.Count > 0 || _loginId is null || _loginAbandoned) return;
        _log.Info("Account {0}: {1}; the login is cancelled", _account, why);
        _loginAbandoned = true;
        _flows.Tell(new CancelFlow(_loginId));
    }
}
