using Akka.Event;

namespace O8Actors.Cluster;

/// <summary>Runs the app's <see cref="IClusterLoginOutcomeHandler"/> for one ended login, off the login's actor.</summary>
internal static class OutcomeHandlerRun
{
    /// <summary>
    /// Starts the handler on the thread pool. Whatever way it does not finish — a throw, a task that fails, one that ends
    /// cancelled (an HTTP or database timeout in the handler, or the node's end, <paramref name="terminating"/>), or no
    /// task at all — is logged, by exception type only: the outcome may carry tokens, and an exception message may quote
    /// them.
    /// </summary>
    /// <remarks>
    /// The handler starts even when the node is already stopping: a login that ends during the shutdown (a callback that
    /// reached it through another node, or a success saved as its entity moves) has its outcome and may hold the only
    /// tokens; <paramref name="terminating"/> is the handler's to observe, not a reason to skip it. A handler the node's
    /// end cancels is logged too: the app's record of that sign-in may be missing.
    /// </remarks>
    /// <returns>The handler's run, logging included (for tests; the entity does not wait for it).</returns>
    public static Task Start(IClusterLoginOutcomeHandler handler, ClusterLoginEnded ended, CancellationToken terminating, ILoggingAdapter log) =>
        Task.Run(() => RunAsync(handler, ended, terminating, log), CancellationToken.None);

    private static async Task RunAsync(IClusterLoginOutcomeHandler handler, ClusterLoginEnded ended, CancellationToken terminating, ILoggingAdapter log)
    {
        try
        {
            await (handler.HandleAsync(ended, terminating) ?? throw new InvalidOperationException("The outcome handler returned no task."))
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (terminating.IsCancellationRequested)
        {
            log.Warning("Login {0}: the outcome handler was cancelled by the node's shutdown before it finished ({1}); the app may have no record of this outcome",
                ended.LoginId, e.GetType().Name);
        }
        catch (OperationCanceledException e)
        {
            log.Warning("Login {0}: the outcome handler was cancelled before it finished, the node not stopping ({1})", ended.LoginId, e.GetType().Name);
        }
        catch (Exception e)
        {
            log.Warning("Login {0}: the outcome handler failed ({1})", ended.LoginId, e.GetType().Name);
        }
    }
}
