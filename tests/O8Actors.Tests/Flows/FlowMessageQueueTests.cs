using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using O8Actors.Flows;

namespace O8Actors.Tests.Flows;

/// <summary>The compact mailbox queue keeps Akka's mailbox contract: FIFO, safe under concurrent senders, leftovers to dead letters.</summary>
public sealed class FlowMessageQueueTests
{
    [Fact]
    public void Messages_come_out_in_the_order_they_went_in()
    {
        var queue = new FlowMessageQueue();
        Assert.False(queue.HasMessages);

        for (var i = 0; i < 100; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));

        Assert.True(queue.HasMessages);
        Assert.Equal(100, queue.Count);
        var seen = new List<object>();
        while (queue.TryDequeue(out var envelope)) seen.Add(envelope.Message);
        Assert.Equal(Enumerable.Range(0, 100).Cast<object>(), seen);
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public async Task Concurrent_senders_lose_nothing_and_each_senders_order_holds()
    {
        var queue = new FlowMessageQueue();
        const int Senders = 4, PerSender = 5_000;

        await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < PerSender; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
        })));

        var last = Enumerable.Repeat(-1, Senders).ToArray();
        var count = 0;
        while (queue.TryDequeue(out var envelope))
        {
            var (sender, index) = ((int, int))envelope.Message;
            Assert.Equal(last[sender] + 1, index);
            last[sender] = index;
            count++;
        }
        Assert.Equal(Senders * PerSender, count);
    }

    [Fact]
    public void Clean_up_hands_what_is_left_to_dead_letters()
    {
        var queue = new FlowMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.Equal(2, deadLetters.Count);
    }
}
