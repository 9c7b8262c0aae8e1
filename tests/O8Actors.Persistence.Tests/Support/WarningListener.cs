using Akka.Actor;
using Akka.Event;

namespace O8Actors.Persistence.Tests.Support;

/// <summary>Listens on an actor system's event stream for the first Warning whose text contains a given text.</summary>
public static class WarningListener
{
    /// <summary>Subscribes a listener for <paramref name="text"/> on <paramref name="system"/>; its task completes with the line.</summary>
    public static Task<string> Listen(ActorSystem system, string text)
    {
        var warned = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.EventStream.Subscribe(system.ActorOf(For(warned, text)), typeof(Warning));
        return warned.Task;
    }

    /// <summary>Props of a listener that completes <paramref name="warned"/>; subscribe it to <see cref="Warning"/>.</summary>
    public static Props For(TaskCompletionSource<string> warned, string text) => Props.Create(() => new Listener(warned, text));

    private sealed class Listener : ReceiveActor
    {
        public Listener(TaskCompletionSource<string> warned, string text) => Receive<Warning>(w =>
        {
            if (w.Message?.ToString() is { } line && line.Contains(text, StringComparison.Ordinal)) warned.TrySetResult(line);
        });
    }
}
