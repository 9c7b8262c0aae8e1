using Akka.Actor;

namespace O8Actors.Callback;

/// <summary>
/// The sender of one loopback callback: the first <see cref="CallbackResponse"/> told to it is the browser's page.
/// </summary>
/// <remarks>
/// The loopback listener and its logins live in this process, so the page needs no temporary actor registered for a
/// remote reply (what an <c>Ask</c> makes, with its path and its entry in the temporary actors' table, per callback).
/// Every reply of one listener shares one path: none is ever looked up by it. Server mode and the cluster, whose
/// answers may come from another node, keep the <c>Ask</c>.
/// </remarks>
internal sealed class CallbackPageReply(IActorRefProvider provider, ActorPath path) : MinimalActorRef
{
    private readonly TaskCompletionSource<CallbackResponse> _page = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public override ActorPath Path => path;

    /// <inheritdoc />
    public override IActorRefProvider Provider => provider;

    /// <summary>The page, once a login (or the listener, or the dead-letter watcher) has answered.</summary>
    public Task<CallbackResponse> Page => _page.Task;

    /// <inheritdoc />
    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is CallbackResponse page) _page.TrySetResult(page);
    }
}
