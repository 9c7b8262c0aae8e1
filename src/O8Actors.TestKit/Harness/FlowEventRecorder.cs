using System.Collections.Concurrent;

namespace O8Actors.TestKit;

/// <summary>
/// Records every <see cref="FlowEvent"/> of an orchestrator (subscribe it to <see cref="IOAuthFlows.Events"/>) and lets a
/// test wait for one without sleeping. Events never carry tokens or codes, so everything here is safe to print.
/// </summary>
public sealed class FlowEventRecorder : IObserver<FlowEvent>
{
    private readonly ConcurrentQueue<FlowEvent> _events = new();
    private readonly Lock _gate = new();
    private readonly List<(Func<FlowEvent, bool> Match, TaskCompletionSource<FlowEvent> Done)> _waiters = [];

    /// <summary>Every event so far, in arrival order (a snapshot).</summary>
    public IReadOnlyList<FlowEvent> Events => _events.ToArray();

    /// <summary>Every login that ended so far (a snapshot).</summary>
    public IReadOnlyList<FlowEndedEvent> Ended => _events.OfType<FlowEndedEvent>().ToArray();

    /// <summary>The events of one login, in order.</summary>
    public IReadOnlyList<FlowEvent> For(string flowId) => _events.Where(e => e.FlowId == flowId).ToArray();

    /// <summary>How many logins ended with <paramref name="kind"/>.</summary>
    public int CountEnded(FlowOutcomeKind kind) => _events.OfType<FlowEndedEvent>().Count(e => e.Outcome == kind);

    /// <summary>The first event (already recorded or still to come) matching <paramref name="match"/>.</summary>
    /// <param name="match">Which event.</param>
    /// <param name="timeout">How long to wait (default 10 s); then <see cref="TimeoutException"/> saying what was seen.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<TEvent> WaitForAsync<TEvent>(Func<TEvent, bool>? match = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TEvent : FlowEvent
    {
        bool Matches(FlowEvent e) => e is TEvent typed && (match?.Invoke(typed) ?? true);
        TaskCompletionSource<FlowEvent> done;
        lock (_gate)
        {
            // Checked under the lock that OnNext takes, so an event arriving now is either seen here or by the waiter.
            if (_events.FirstOrDefault(Matches) is TEvent seen) return seen;
            done = new TaskCompletionSource<FlowEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((Matches, done));
        }

        var limit = timeout ?? TimeSpan.FromSeconds(10);
        try
        {
            return (TEvent)await done.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"No matching {typeof(TEvent).Name} within {limit.TotalSeconds:0.###} s; seen: {string.Join(", ", Events.Select(e => e.GetType().Name).GroupBy(n => n).Select(g => $"{g.Key}×{g.Count()}"))}.");
        }
        finally
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Waits until the login <paramref name="flowId"/> ends and returns its last event.</summary>
    public Task<FlowEndedEvent> WaitForEndAsync(string flowId, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForAsync<FlowEndedEvent>(e => e.FlowId == flowId, timeout, cancellationToken);

    /// <inheritdoc />
    public void OnNext(FlowEvent value)
    {
        ArgumentNullException.ThrowIfNull(value);
        TaskCompletionSource<FlowEvent>[] matched;
        lock (_gate)
        {
            _events.Enqueue(value);
            matched = _waiters.Where(w => w.Match(value)).Select(w => w.Done).ToArray();
        }

        foreach (var done in matched) done.TrySetResult(value);
    }

    /// <inheritdoc />
    public void OnCompleted()
    {
    }

    /// <inheritdoc />
    public void OnError(Exception error)
    {
    }
}
