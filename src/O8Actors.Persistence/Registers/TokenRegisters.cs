using Akka.Actor;

namespace O8Actors.Persistence.Registers;

/// <summary>
/// The registers of one actor system without a cluster (<c>/user/o8-token-registers</c>): one child per account (and
/// the index), created on its first message, so each persistence id has exactly one writer in this process.
/// </summary>
/// <remarks>
/// A register idle for a while asks to be retired: it gets a <see cref="RegisterStop"/>, which waits for a write in
/// flight to be answered. Until it has stopped, messages for its account wait here, so the next register, which
/// recovers from the journal, never runs beside it (one writer per persistence id) and reads what it wrote. A register
/// that fails (the database is down) is stopped; the next message recovers again.
/// </remarks>
internal sealed class TokenRegisters : ReceiveActor
{
    /// <summary>
    /// The name of the registers' parent under <c>/user</c> (local) and of their shard region (cluster): one element of
    /// every register's path either way.
    /// </summary>
    internal const string Name = "o8-token-registers";

    private readonly PersistencePlugins _plugins;
    private readonly TimeSpan _idleTimeout;
    private readonly Dictionary<string, IActorRef> _children = new(StringComparer.Ordinal);

    /// <summary>By entity id: registers told to stop, not yet terminated, with the messages (and their senders) that wait for them.</summary>
    private readonly Dictionary<string, (IActorRef Register, List<(object Message, IActorRef Sender)> Waiting)> _retiring = new(StringComparer.Ordinal);

    private long _incarnation;

    /// <summary>Sent by a register with nothing to do: its parent stops routing to it and stops it.</summary>
    internal sealed record Idle(string PersistenceId);

    /// <summary>Props for the parent of the registers.</summary>
    public static Props Props(PersistencePlugins plugins, TimeSpan idleTimeout) =>
        Akka.Actor.Props.Create(() => new TokenRegisters(plugins, idleTimeout));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public TokenRegisters(PersistencePlugins plugins, TimeSpan idleTimeout)
    {
        _plugins = plugins;
        _idleTimeout = idleTimeout;
        Receive<ITokenRegisterMessage>(msg =>
        {
            if (_retiring.TryGetValue(msg.EntityId, out var retiring)) retiring.Waiting.Add((msg, Sender));
            else Of(msg.EntityId).Forward(msg);
        });
        Receive<Idle>(msg =>
        {
            foreach (var (id, child) in _children)
            {
                if (!child.Equals(Sender) || PersistenceIds.Of(id) != msg.PersistenceId) continue;
                _children.Remove(id);
                _retiring[id] = (child, []);
                child.Tell(RegisterStop.Instance);
                return;
            }
        });
        Receive<Terminated>(t =>
        {
            foreach (var (id, (register, waiting)) in _retiring)
            {
                if (!register.Equals(t.ActorRef)) continue;
                // Its successor recovers what it wrote; the messages that waited go to it in their order.
                _retiring.Remove(id);
                foreach (var (message, sender) in waiting) Of(id).Tell(message, sender);
                return;
            }

            foreach (var (id, child) in _children)
            {
                if (!child.Equals(t.ActorRef)) continue;
                _children.Remove(id);
                return;
            }
        });
    }

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private IActorRef Of(string entityId)
    {
        if (_children.TryGetValue(entityId, out var child)) return child;
        var props = entityId == AccountIndex.EntityId
            ? AccountIndex.Props(_plugins)
            : TokenRegisterActor.Props(entityId, _plugins, _idleTimeout);
        // The account id holds any character: a counter names the child, the persistence id says whose it is.
        child = Context.ActorOf(props, $"register-{++_incarnation}");
        Context.Watch(child);
        _children[entityId] = child;
        return child;
    }
}
