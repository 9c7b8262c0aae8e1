using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>
/// An actor system's termination as a cancellation token, and waits on its actors that end with it: the termination does
/// not end an Ask, which would wait out its whole timeout for an answer that can no longer come.
/// </summary>
internal sealed class ActorSystemEnd
{
    /// <summary>Follows <paramref name="system"/>'s termination.</summary>
    public ActorSystemEnd(ActorSystem system)
    {
        // One token for the system's end, which every wait registers on (a registration is O(1); a continuation on
        // WhenTerminated itself per wait would be added to and searched out of one shared list).
        var ended = new CancellationTokenSource();
        system.WhenTerminated.ContinueWith(static (_, cts) => ((CancellationTokenSource)cts!).Cancel(), ended,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Token = ended.Token;
    }

    /// <summary>Cancelled once the actor system has terminated.</summary>
    public CancellationToken Token { get; }

    /// <summary>Whether the actor system has terminated.</summary>
    public bool HasEnded => Token.IsCancellationRequested;

    /// <summary>
    /// <paramref name="work"/>'s result, or, when the actor system terminates first, the exception <paramref name="ended"/>
    /// makes. An answer, a timeout or a caller's cancel that came first is what the caller gets.
    /// </summary>
    public Task<T> UntilEndedAsync<T>(Task<T> work, Func<Exception> ended) => UntilEndedAsync(work, fallback: () => throw ended());

    /// <summary>
    /// <paramref name="work"/>'s result, or, when the actor system terminates first, what <paramref name="fallback"/>
    /// returns: for a caller that has an answer of its own for the end (a page), rather than an exception to catch. An
    /// answer, a timeout or a caller's cancel that came first is what the caller gets.
    /// </summary>
    public async Task<T> UntilEndedAsync<T>(Task<T> work, Func<T> fallback)
    {
        try
        {
            return await work.WaitAsync(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            if (work.IsCompleted) return await work.ConfigureAwait(false);
            // Left to its timeout, its failure is observed here, so it does not surface as an unobserved task exception.
            _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return fallback();
        }
    }
}
