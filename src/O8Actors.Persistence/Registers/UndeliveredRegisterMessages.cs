using Akka.Actor;
using Akka.Event;

namespace O8Actors.Persistence.Registers;

/// <summary>
/// Answers a register message that reached dead letters with a failure, so its caller hears it now rather than at the
/// store's timeout (15 s by default). A register stops with messages it never took when its recovery from the journal
/// fails (the database is down or refuses the read): Akka.Persistence holds what comes during recovery and, when the
/// actor stops, those messages go to dead letters. Also a message sent to a register that has just failed and stopped.
/// </summary>
/// <remarks>
/// A dead letter was never handled, so "nothing was done" is true of it: a save was not stored, a load read nothing.
/// The next message for the account starts a register that recovers again. One per actor system; in a cluster each node
/// answers the dead letters of the registers it hosted, to callers on any node.
/// </remarks>
internal sealed class UndeliveredRegisterMessages : ReceiveActor
{
    /// <summary>The actor's name under <c>/user</c>.</summary>
    public const string Name = "o8-token-registers-undelivered";

    /// <summary>Props for the one answering actor of a system.</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new UndeliveredRegisterMessages());

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public UndeliveredRegisterMessages()
    {
        Receive<DeadLetter>(letter =>
        {
            if (letter.Message is not ITokenRegisterMessage message || letter.Sender is null || letter.Sender.IsNobody()) return;
            // Only what was sent to the registers (a register, their parent or their shard region), by the caller: a shard
            // region that drops a message from its full buffer sends it to dead letters itself, as its sender, and the
            // caller is not known there.
            if (!IsRegisters(letter.Recipient) || IsRegisters(letter.Sender)) return;
            letter.Sender.Tell(NotAnswered(message), ActorRefs.NoSender);
        });
    }

    /// <summary>Whether <paramref name="actor"/> is the registers' parent or region, or one below it.</summary>
    private static bool IsRegisters(IActorRef actor) => actor.Path.Elements.Contains(TokenRegisters.Name);

    /// <summary>The failure a caller of an unhandled <paramref name="message"/> gets.</summary>
    internal static RegisterUnavailable NotAnswered(ITokenRegisterMessage message) => new(
        $"The token register '{PersistenceIds.Of(message.EntityId)}' stopped before it handled the request (its recovery from " +
        "the token journal failed, or it failed on an earlier request); nothing was done, and the next request recovers it again.");

    /// <inheritdoc />
    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

    /// <inheritdoc />
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
