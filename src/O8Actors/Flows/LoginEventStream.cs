using Akka.Actor;

namespace O8Actors.Flows;

/// <summary>
/// <see cref="IObservable{T}"/> over the event stream's <see cref="LoginEvent"/>s: each subscriber gets its own small
/// actor, so a slow observer delays only itself and sees events in order.
/// </summary>
internal sealed class LoginEventStream(ActorSystem system) : IObservable<LoginEvent>
{
    public IDisposable Subscribe(IObserver<LoginEvent> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var subscriber = system.ActorOf(Akka.Actor.Props.Create(() => new Subscriber(observer)));
        // Subscribed here, not in PreStart, so no event published after Subscribe returns can be missed.
        system.EventStream.Subscribe(subscriber, typeof(LoginEvent));
        return new Subscription(subscriber);
    }

    private sealed class Subscriber : ReceiveActor
    {
        public Subscriber(IObserver<LoginEvent> observer)
        {
            Receive<LoginEvent>(observer.OnNext);
        }

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
    }

    private sealed class Subscription(IActorRef subscriber) : IDisposable
    {
        public void Dispose() => subscriber.Tell(PoisonPill.Instance);
    }
}
