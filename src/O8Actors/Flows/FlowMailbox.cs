using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace O8Actors.Flows;

/// <summary>
/// The mailbox of every <see cref="FlowActor"/> (named by <c>o8.flow-dispatcher</c> in <c>hocon/o8.conf</c>). Akka's default
/// unbounded mailbox is a <c>ConcurrentQueue</c> whose first segment holds 32 envelopes: about 1 KB allocated up front
/// for every actor, more than half of what an empty actor costs. A login receives a handful of messages in its whole
/// life, one at a time, so a small locked queue that grows on demand is enough, and it halves the memory a waiting
/// login holds (measured: an empty actor 1.83 KB → 0.86 KB).
/// </summary>
/// <remarks>
/// The one departure from Akka's defaults in the actor core, kept by measurement: with the other standard forms
/// (Akka's own Props, Become, Watch/Terminated) a waiting login costs 976 B more than before, within the 1 KB budget; the
/// default mailbox would add about 0.9 KB on top (docs/benchmarks.md, "Standard forms").
/// </remarks>
internal sealed class FlowMailbox : MailboxType, IProducesMessageQueue<FlowMessageQueue>
{
    /// <summary>Created by Akka from the mailbox's configuration section.</summary>
    public FlowMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    /// <inheritdoc />
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new FlowMessageQueue();
}

/// <summary>An unbounded FIFO queue under a lock, empty until the first message arrives.</summary>
internal sealed class FlowMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly Queue<Envelope> _queue = new();

    /// <inheritdoc />
    public bool HasMessages
    {
        get
        {
            lock (_queue) return _queue.Count > 0;
        }
    }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            lock (_queue) return _queue.Count;
        }
    }

    /// <inheritdoc />
    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_queue) _queue.Enqueue(envelope);
    }

    /// <inheritdoc />
    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue) return _queue.TryDequeue(out envelope);
    }

    /// <inheritdoc />
    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
