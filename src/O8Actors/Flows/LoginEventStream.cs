using Akka.Actor;

namespace O8Actors.Flows;

/// <summary>
/// <see cref="IObservable{T}"/> over the event stream's <see cref="LoginEvent"/>s: each subscriber gets its own small
/// actor, so a slow observer delays only itself and sees events in order.
/// </summary>
/// <remarks>
/// An observer that throws is the subscriber actor failing; its supervisor (the user guardian) restarts it, which logs
/// the exception. The restart keeps the subscription: the event stream holds the actor's reference, which survives a
/// restart, so only <see cref="IDisposable.Dispose"/> of the subscription ends delivery.
/// </remarks>
internal sealed class LoginEventStream(ActorSystem system) : IObservable<LoginEvent>
{
    // The subscribers, for a flush before the actor system stops.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IActorRef, byte> _subscribers = new();

    public IDisposable Subscribe(IObserver<LoginEvent> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var subscriber = system.ActorOf(Subscriber.Props(observer));
        // Subscribed here, not in PreStart, so no event published after Subscribe returns can be missed.
        system.EventStream.Subscribe(subscriber, typeof(LoginEvent));
        _subscribers.TryAdd(subscriber, 0);
        return new Subscription(subscriber, _subscribers);
    }

    /// <summary>
    /// Waits (bounded) until every subscriber has handed its observer the events published before this call: a disposal
    /// that stops the actor system right after cancelling the logins would otherwise drop the ends of those logins still
    /// in a subscriber's mailbox. An <see cref="Identify"/> is answered in mailbox order, after the events before it.
    /// </summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        try
        {
            await Task.WhenAll(_subscribers.Keys.Select(s => s.Ask<ActorIdentity>(new Identify(null), timeout))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            // Best effort on the way out: an observer slower than the bound loses what it had not seen.
        }
    }

    private sealed class Subscriber : ReceiveActor
    {
        public static Props Props(IObserver<LoginEvent> observer) => Akka.Actor.Props.Create(() => new Subscriber(observer));

        public Subscriber(IObserver<LoginEvent> observer)
        {
            Receive<LoginEvent>(observer.OnNext);
        }

        // Akka's default PreRestart stops the children and calls PostStop, which would unsubscribe: a restarted
        // subscriber would silently get nothing more. It has no children, so skipping both is all a restart needs.
        protected override void PreRestart(Exception reason, object message)
        {
        }

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
    }

    private sealed class Subscription(IActorRef subscriber, System.Collections.Concurrent.ConcurrentDictionary<IActorRef, byte> subscribers) : IDisposable
    {
        public void Dispose()
        {
            subscribers.TryRemove(subscriber, out _);
            subscriber.Tell(PoisonPill.Instance);
        }
    }
}
