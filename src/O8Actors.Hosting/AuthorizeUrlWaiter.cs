using System.Collections.Concurrent;

namespace O8Actors.Hosting;

/// <summary>
/// One subscription to the login events that hands each waiting caller its login's authorize URL (server mode:
/// the URL goes to the caller, not to a browser). Waiters are keyed by login id and removed when answered.
/// </summary>
internal sealed class AuthorizeUrlWaiter : IObserver<LoginEvent>, IDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Uri>> _waiting = new(StringComparer.Ordinal);
    private readonly IDisposable _subscription;

    public AuthorizeUrlWaiter(IObservable<LoginEvent> events) => _subscription = events.Subscribe(this);

    /// <summary>Registers interest before the login starts, so its event cannot be missed.</summary>
    public Task<Uri> Expect(string flowId)
    {
        var waiter = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[flowId] = waiter;
        return waiter.Task;
    }

    /// <summary>How many logins' URLs are awaited.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Stops waiting for <paramref name="flowId"/> (it ended first, or the caller gave up).</summary>
    public void Forget(string flowId)
    {
        if (_waiting.TryRemove(flowId, out var waiter)) waiter.TrySetCanceled();
    }

    public void OnNext(LoginEvent value)
    {
        switch (value)
        {
            case AuthorizeUrlReadyEvent ready when _waiting.TryRemove(ready.LoginId, out var waiter):
                waiter.TrySetResult(ready.AuthorizeUrl);
                break;
            case LoginEndedEvent ended:
                Forget(ended.LoginId);
                break;
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    public void Dispose() => _subscription.Dispose();
}
