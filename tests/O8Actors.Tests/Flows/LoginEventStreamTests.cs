using System.Collections.Concurrent;
using Akka.TestKit.Xunit2;
using O8Actors.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>The observable over the event stream: what a subscriber keeps getting.</summary>
public sealed class LoginEventStreamTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void An_observer_that_throws_once_keeps_its_subscription()
    {
        var seen = new ConcurrentQueue<string>();
        var observer = new ThrowsOnce(seen);
        using var subscription = new LoginEventStream(Sys).Subscribe(observer);

        Sys.EventStream.Publish(new LoginStartedEvent("first", "p"));
        AwaitCondition(() => observer.Threw, Wait, Polling.Interval);
        Sys.EventStream.Publish(new LoginStartedEvent("second", "p"));
        Sys.EventStream.Publish(new LoginStartedEvent("third", "p"));

        AwaitAssert(() => Assert.Equal(["first", "second", "third"], seen), Wait);
    }

    /// <summary>Records each event; throws after recording the first.</summary>
    private sealed class ThrowsOnce(ConcurrentQueue<string> seen) : IObserver<LoginEvent>
    {
        private int _calls;
        public bool Threw => Volatile.Read(ref _calls) > 0;

        public void OnNext(LoginEvent value)
        {
            seen.Enqueue(value.LoginId);
            if (Interlocked.Increment(ref _calls) == 1) throw new InvalidOperationException("observer bug");
        }

        public void OnError(Exception error) { }
        public void OnCompleted() { }
    }
}
