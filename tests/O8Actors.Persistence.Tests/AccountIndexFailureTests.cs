using Akka.Actor;
using Akka.Event;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// The account list is an index changed after the register: when only the index fails, the store's change is still
/// done (a first login remembered, a sign-out's tokens erased), and the list catches up once the index answers again.
/// The registers are a double whose index can be made to fail.
/// </summary>
public sealed class AccountIndexFailureTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly OAuthAccount Alice = new("sandbox", "alice");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly ActorSystem _system = ActorSystem.Create("o8-index-failure");
    private readonly IndexSwitch _index = new();
    private readonly IActorRef _registers;
    private readonly PersistentTokenStore _store;

    public AccountIndexFailureTests()
    {
        var index = _index;
        _registers = _system.ActorOf(Props.Create(() => new RegistersDouble(index)));
        _store = new PersistentTokenStore(Task.FromResult(_registers), new EphemeralDataProtectionProvider(), Timeout,
            Logging.GetLogger(_system, typeof(AccountIndexFailureTests)));
    }

    [Fact]
    public async Task A_first_save_whose_listing_fails_is_still_saved_and_is_listed_once_the_index_answers()
    {
        _index.Failing = true;

        Assert.Equal(1, await _store.SaveAsync(Alice, new TokenSet("access-1", "Bearer"), 0, Ct));

        Assert.Equal("access-1", (await _store.LoadAsync(Alice, Ct))!.Tokens.AccessToken);
        _index.Failing = false;
        Assert.Empty(await IndexedAsync());
        // The account's next save lists it (a later version alone would not).
        Assert.Equal(2, await _store.SaveAsync(Alice, new TokenSet("access-2", "Bearer"), 1, Ct));
        Assert.Equal([Alice.Id], await IndexedAsync());
        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_listing_that_failed_is_retried_before_the_store_lists()
    {
        _index.Failing = true;
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        _index.Failing = false;

        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_removal_whose_unlisting_fails_completes_and_the_account_leaves_the_list_once_the_index_answers()
    {
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        Assert.Equal([Alice.Id], await IndexedAsync());
        _index.Failing = true;

        // No exception: the tokens are erased, so the sign-out is done (and no removal retry starts).
        await _store.RemoveAsync(Alice, Ct);

        Assert.Null(await _store.LoadAsync(Alice, Ct));
        _index.Failing = false;
        Assert.Empty(await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task While_the_index_fails_the_listing_itself_still_fails()
    {
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        _index.Failing = true;

        // The list is what the index answers: a failing index is not reported as an empty list.
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.ListAsync(cancellationToken: Ct));
    }

    private async Task<IReadOnlyList<string>> IndexedAsync() =>
        (await _registers.Ask<AccountIds>(new ListAccountIds(), Timeout, Ct)).Ids;

    public async ValueTask DisposeAsync() => await _system.Terminate();

    private sealed class IndexSwitch
    {
        private volatile bool _failing;

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }
    }

    /// <summary>Registers as the store sees them: versions per account, and an index that fails while its switch is on.</summary>
    private sealed class RegistersDouble : ReceiveActor
    {
        public RegistersDouble(IndexSwitch index)
        {
            var registers = new Dictionary<string, (long Version, byte[]? Payload)>(StringComparer.Ordinal);
            var listed = new SortedSet<string>(StringComparer.Ordinal);
            Receive<LoadTokens>(m =>
            {
                var (version, payload) = registers.GetValueOrDefault(m.EntityId);
                Sender.Tell(new TokensLoaded(payload, version));
            });
            Receive<SaveTokens>(m =>
            {
                var current = registers.GetValueOrDefault(m.EntityId).Version;
                if (current != m.ExpectedVersion)
                {
                    Sender.Tell(new TokensSaved(null));
                    return;
                }

                registers[m.EntityId] = (current + 1, m.Payload);
                Sender.Tell(new TokensSaved(current + 1));
            });
            Receive<EraseTokens>(m =>
            {
                registers.Remove(m.EntityId);
                Sender.Tell(new TokensErased());
            });
            Receive<IndexAccount>(m =>
            {
                if (index.Failing)
                {
                    // What the index answers when its journal fails.
                    Sender.Tell(new Status.Failure(new InvalidOperationException("The token journal failed: TestException.")));
                    return;
                }

                if (m.Listed) listed.Add(m.AccountId);
                else listed.Remove(m.AccountId);
                Sender.Tell(new AccountIndexed());
            });
            Receive<ListAccountIds>(_ =>
            {
                if (index.Failing) Sender.Tell(new Status.Failure(new InvalidOperationException("The token journal failed: TestException.")));
                else Sender.Tell(new AccountIds(listed.ToList()));
            });
        }
    }
}
