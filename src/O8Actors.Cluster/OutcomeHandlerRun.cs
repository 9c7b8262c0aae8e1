using Akka.Event;

namespace O8Actors.Cluster;

/// <summary>Runs the app's <see cref="IClusterLoginOutcomeHandler"/> for one ended login, off the login's actor.</summary>
internal static class OutcomeHandlerRun
{
    /// <summary>
    /// Starts the handler on the thread pool. Whatever way it does not finish — a throw, a task that fails, one that ends
    /// cancelled while the node is not stopping (an HTTP or database timeout in the handler), or no task at all — is
    /// logged, by exception type only: the outcome may carry tokens, and an exception message may quote them.
    /// </summary>
    /// <remarks>
    /// The handler starts even when the node is already stopping: a login that ends during the shutdown (a callback that
    /// reached it through another node, or a success saved as its entity moves) has its outcome and may hold the only
    /// tokens; <paramref name="stopping"/> is the handler's to observe, not a reason to skip it.
    /// </remarks>
    /// <returns>The handler's run, logging included (for tests; the entity does not wait for it).</returns>
    public static Task Start(IClusterLoginOutcomeHandler handler, ClusterLoginEnded ended, CancellationToken stopping, ILoggingAdapter log) =>
        Task.Run(() => handler.HandleAsync(ended, stopping) ?? throw new InvalidOperationException("The outcome handler returned no task."), CancellationToken.None)
            .ContinueWith(t =>
            {
                if (t.IsFaulted)
                    log.Warning("Login {0}: the outcome handler failed ({1})", ended.LoginId, t.Exception?.InnerException?.GetType().Name);
                else if (!stopping.IsCancellationRequested)
                    log.Warning("Login {0}: the outcome handler was cancelled before it finished (the node is not stopping)", ended.LoginId);
            }, CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
}
