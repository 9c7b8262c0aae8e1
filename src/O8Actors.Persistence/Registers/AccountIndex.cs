using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace O8Actors.Persistence.Registers;

/// <summary>
/// The ids of the accounts with stored tokens, for <c>GetAccountsAsync</c>: one persistent actor (one entity in a
/// cluster) beside the registers. An account id is provider and subject, an identifier, not a secret.
/// </summary>
internal sealed class AccountIndex : ReceivePersistentActor
{
    /// <summary>The index's entity id; no account id has this form (an account id always holds a <c>/</c>).</summary>
    public const string EntityId = "~index";

    private const int SnapshotEvery = 100;
    private readonly SortedSet<string> _ids = new(StringComparer.Ordinal);

    /// <summary>Props for the index.</summary>
    public static Props Props(PersistencePlugins plugins) => Akka.Actor.Props.Create(() => new AccountIndex(plugins));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public AccountIndex(PersistencePlugins plugins)
    {
        JournalPluginId = plugins.Journal;
        SnapshotPluginId = plugins.SnapshotStore;
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is UnreadableRecord u) Skipped(u);
            if (offer.Snapshot is not AccountIndexSnapshot s) return;
            _ids.Clear();
            _ids.UnionWith(s.Ids);
        });
        Recover<AccountIdChanged>(Apply);
        // The index only lists ids for GetAccountsAsync: a record it cannot read costs a listing, not the tokens.
        Recover<UnreadableRecord>(Skipped);

        Command<ListAccountIds>(_ => Sender.Tell(new AccountIds(_ids.ToList())));
        Command<IndexAccount>(msg =>
        {
            if (_ids.Contains(msg.AccountId) == msg.Listed)
            {
                Sender.Tell(new AccountIndexed());
                return;
            }

            Persist(new AccountIdChanged(msg.AccountId, msg.Listed), e =>
            {
                Apply(e);
                Sender.Tell(new AccountIndexed());
                if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(new AccountIndexSnapshot(_ids.ToList()));
            });
        });
        Command<SaveSnapshotSuccess>(ok =>
        {
            DeleteMessages(ok.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
        });
        Command<RegisterStop>(_ => Context.Stop(Self));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    /// <inheritdoc />
    public override string PersistenceId { get; } = PersistenceIds.Of(EntityId);

    private void Skipped(UnreadableRecord u) =>
        Context.GetLogger().Warning("Account index: a stored record could not be read ({0}); the account list may be incomplete", u.Reason);

    private void Apply(AccountIdChanged e)
    {
        if (e.Listed) _ids.Add(e.AccountId);
        else _ids.Remove(e.AccountId);
    }

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Sender.Tell(new RegisterFailed(Unreadable: false, $"The token journal failed: {cause.GetType().Name}."));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The journal refused the event (the actor goes on): the caller hears it now, not at its Ask timeout.
        Sender.Tell(new RegisterFailed(Unreadable: false, $"The token journal refused the write: {cause.GetType().Name}."));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}
