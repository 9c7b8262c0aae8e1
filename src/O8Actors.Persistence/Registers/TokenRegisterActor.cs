using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace O8Actors.Persistence.Registers;

/// <summary>
/// One account's tokens in the journal: a versioned register of an encrypted payload. A save is a compare-and-set on
/// the version, so a rotated refresh token is never overwritten by a writer that read an older one; the register itself
/// never sees a token (the store encrypts before it sends).
/// </summary>
/// <remarks>
/// <para>Exactly one register per account may run at a time (Akka.Persistence's single writer): locally its parent
/// <see cref="TokenRegisters"/> keeps one child per account; in a cluster it is a sharded entity.</para>
/// <para>After each change the register snapshots its state and deletes the older events and snapshots: the database
/// keeps the current (encrypted) tokens only, not every spent refresh token since the first login.</para>
/// </remarks>
internal sealed class TokenRegisterActor : ReceivePersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _journal;
    private readonly string _snapshots;
    private readonly TimeSpan? _idleTimeout;
    private long _version;
    private byte[]? _payload;

    /// <summary>Why the recovered state could not be read (see <see cref="UnreadableRecord"/>); null when it was.</summary>
    private string? _unreadable;

    /// <summary>Props for the register of <paramref name="entityId"/>.</summary>
    /// <param name="entityId">The account's id.</param>
    /// <param name="plugins">The journal and snapshot store plugin ids.</param>
    /// <param name="idleTimeout">After this long without a message, ask the parent to retire it (local mode); null when sharding passivates.</param>
    public static Props Props(string entityId, PersistencePlugins plugins, TimeSpan? idleTimeout) =>
        Akka.Actor.Props.Create(() => new TokenRegisterActor(entityId, plugins, idleTimeout));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public TokenRegisterActor(string entityId, PersistencePlugins plugins, TimeSpan? idleTimeout)
    {
        PersistenceId = PersistenceIds.Of(entityId);
        _journal = plugins.Journal;
        _snapshots = plugins.SnapshotStore;
        _idleTimeout = idleTimeout;
        JournalPluginId = _journal;
        SnapshotPluginId = _snapshots;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is TokenRegisterSnapshot s) (_version, _payload, _unreadable) = (s.Version, s.Payload, null);
            else if (offer.Snapshot is UnreadableRecord u) _unreadable = u.Reason;
        });
        Recover<TokensStored>(Apply);
        Recover<TokensCleared>(Apply);
        // Each event holds the whole state: a readable one after an unreadable record makes the register readable again.
        Recover<UnreadableRecord>(u => _unreadable = u.Reason);
        Recover<RecoveryCompleted>(_ =>
        {
            if (_idleTimeout is { } idle) Context.SetReceiveTimeout(idle);
        });

        Command<LoadTokens>(_ =>
        {
            if (_unreadable is not null) Unreadable();
            else Sender.Tell(new TokensLoaded(_payload, _version));
        });
        Command<SaveTokens>(msg =>
        {
            if (_unreadable is not null)
            {
                // What version a newer format holds is unknown: no compare-and-set can be made against it.
                Unreadable();
                return;
            }

            if (msg.ExpectedVersion != _version)
            {
                Sender.Tell(new TokensSaved(null));
                return;
            }

            Persist(new TokensStored(_version + 1, msg.Payload), e =>
            {
                Apply(e);
                Sender.Tell(new TokensSaved(e.Version));
                Compact();
            });
        });
        Command<EraseTokens>(_ =>
        {
            // An unreadable register is cleared too: a sign-out (RemoveAsync) is the way out of it.
            if (_payload is null && _version == 0 && _unreadable is null)
            {
                Sender.Tell(new TokensErased());
                return;
            }

            Persist(new TokensCleared(), e =>
            {
                Apply(e);
                Sender.Tell(new TokensErased());
                Compact();
            });
        });
        Command<SaveSnapshotSuccess>(ok =>
        {
            // The snapshot holds everything: the events and older snapshots (older, spent tokens) can go.
            DeleteMessages(ok.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Token register: snapshot failed ({0}); the events stay", f.Cause.GetType().Name));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Token register: deleting old events failed ({0})", f.Cause.GetType().Name));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Token register: deleting old snapshots failed ({0})", f.Cause.GetType().Name));
        Command<RegisterStop>(_ => Context.Stop(Self));
        Command<ReceiveTimeout>(_ =>
        {
            Context.SetReceiveTimeout(null);
            Context.Parent.Tell(new TokenRegisters.Idle(PersistenceId));
        });
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    private void Apply(TokensStored e) => (_version, _payload, _unreadable) = (e.Version, e.Payload, null);

    // Emptied: the version starts again at 0, as ITokenStore's "nothing stored" (the next login saves expecting 0).
    private void Apply(TokensCleared _) => (_version, _payload, _unreadable) = (0, null, null);

    /// <summary>Answers that the stored state does not read: at once, naming the register and why (a format, no data).</summary>
    private void Unreadable() =>
        Sender.Tell(new RegisterFailed(Unreadable: true,
            $"The stored tokens of token register '{PersistenceId}' could not be read ({_unreadable}): written by a newer version of " +
            "O8Actors.Persistence or damaged. Signing the account out clears them."));

    private void Compact() => SaveSnapshot(new TokenRegisterSnapshot(_version, _payload));

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The journal could not write: the caller hears it now (not at its Ask timeout); the actor then stops, and the
        // next message starts one that recovers from what the journal does hold.
        Sender.Tell(new RegisterFailed(Unreadable: false, $"The token journal failed: {cause.GetType().Name}."));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Sender.Tell(new RegisterFailed(Unreadable: false, $"The token journal refused the write: {cause.GetType().Name}."));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}

/// <summary>The journal and snapshot store plugin ids the registers use.</summary>
internal sealed record PersistencePlugins(string Journal, string SnapshotStore);

/// <summary>Persistence ids of the registers.</summary>
internal static class PersistenceIds
{
    /// <summary>The prefix that keeps O8Actors' rows apart from the app's own persistent actors in a shared journal.</summary>
    public const string Prefix = "o8-tokens|";

    /// <summary>The persistence id of <paramref name="entityId"/>'s register.</summary>
    public static string Of(string entityId) => Prefix + entityId;
}
