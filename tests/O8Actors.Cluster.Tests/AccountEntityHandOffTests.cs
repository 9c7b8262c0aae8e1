using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// An account's entity that moves to another node (sharding's hand-off, or its own passivation once idle) stops only once its
/// account has finished what it was doing: a refresh under way stores the provider's rotated refresh token first. With
/// sharding's default PoisonPill the entity stopped between the refresh and its answer, and the rotated token was lost
/// (the next refresh, with the spent token, fails with invalid_grant).
/// </summary>
public sealed partial class AccountEntityHandOffTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly OAuthAccount Alice = new("sandbox", "alice");
    private static readonly O8Settings.LoginSettings Login = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), true, 100, 16);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (IActorRef Entity, TestProbe Providers, InMemoryTokenStore Store) StartEntity(IActorRef? flows = null)
    {
        var store = new InMemoryTokenStore();
        var providers = CreateTestProbe();
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
        var parts = new AccountParts(store, providers.Ref, flows ?? CreateTestProbe().Ref, settings, CreateTestProbe().Ref);
        var entity = Sys.ActorOf(AccountEntity.Props(Alice.Id, Task.FromResult(parts)));
        Watch(entity);
        return (entity, providers, store);
    }

    /// <summary>An entity whose account has served its valid token once (access-1), so its actor runs, idle.</summary>
    private async Task<(IActorRef Entity, TestProbe Providers)> ServingAsync()
    {
        var (entity, providers, store) = StartEntity();
        await store.SaveAsync(Alice, new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-1"), 0, Ct);
        Assert.Equal("access-1", (await entity.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait, Ct)).Token);
        return (entity, providers);
    }

    /// <summary>
    /// An entity whose account is refreshing an expired token (refresh-1) and waits for the provider's answer; the caller's
    /// request is <c>Served</c>, and <c>AnswerRefresh</c> answers with access-2 and the rotated refresh-2.
    /// </summary>
    private async Task<(IActorRef Entity, InMemoryTokenStore Store, Task<AccessToken> Served, Action AnswerRefresh)> RefreshUnderWayAsync()
    {
        var (entity, providers, store) = StartEntity();
        await store.SaveAsync(Alice, new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddMinutes(-1), "refresh-1"), 0, Ct);

        var served = entity.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait, Ct);
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait, cancellationToken: Ct);
        var account = providers.LastSender;
        Assert.Equal("refresh-1", refresh.RefreshToken);
        return (entity, store, served, () =>
            account.Tell(new CodeExchanged(refresh.RequestId, new TokenSet("access-2", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-2"))));
    }

    [Fact]
    public async Task A_refresh_under_way_stores_its_rotated_refresh_token_before_the_entity_moves()
    {
        var (entity, store, served, answerRefresh) = await RefreshUnderWayAsync();

        // The shard hands the entity off while the provider is still answering.
        entity.Tell(AccountHandOff.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct); // not Terminated: the refresh is under way

        answerRefresh();

        Assert.Equal("access-2", (await served).Token);
        ExpectTerminated(entity, Wait, cancellationToken: Ct);
        // The rotated refresh token is what the entity's next incarnation (on its new node) reads.
        Assert.Equal("refresh-2", (await store.LoadAsync(Alice, Ct))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task An_interactive_login_under_way_lets_the_entity_move_at_once_and_its_tokens_and_caller_follow_the_account()
    {
        var flows = CreateTestProbe();
        var node = CreateTestProbe(); // the node's accounts supervisor, the way to the account's entity wherever it runs
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
        var parts = new AccountParts(new InMemoryTokenStore(), CreateTestProbe().Ref, flows.Ref, settings, node.Ref);
        var entity = Sys.ActorOf(AccountEntity.Props(Alice.Id, Task.FromResult(parts)));
        Watch(entity);
        // Nothing stored: a caller that allows interaction starts a login, which waits for its user (up to 30 minutes).
        var caller = entity.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive), Wait, Ct);
        var start = flows.ExpectMsg<StartFlow>(Wait, cancellationToken: Ct);

        // A node joins and the shard moves: the entity stops now, not at its hand-off deadline (115 s), which held every
        // message of its shard meanwhile.
        entity.Tell(AccountHandOff.Instance);
        ExpectTerminated(entity, Wait, cancellationToken: Ct);

        // The user approves: the tokens go to the account (on its next node), then the caller's request, to be served there.
        var tokens = new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-1");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, tokens));
        var remembered = Assert.IsType<RememberLogin>(node.ExpectMsg<AfterStop>(Wait, cancellationToken: Ct).Message);
        Assert.Equal((Alice, "refresh-1"), (remembered.Account, remembered.Tokens.RefreshToken));
        Assert.Equal(Alice, Assert.IsType<GetAccessToken>(node.ExpectMsg<AfterStop>(Wait, cancellationToken: Ct).Message).Account);
        // The answer from there reaches the caller, whose entity has gone.
        node.LastSender.Tell(new AccessToken(Alice, "access-1", "Bearer", tokens.ExpiresAt, null));
        Assert.Equal("access-1", (await caller).Token);
    }

    [Fact]
    public async Task An_idle_account_moves_at_once()
    {
        var (entity, providers) = await ServingAsync();

        entity.Tell(AccountHandOff.Instance);

        ExpectTerminated(entity, Wait, cancellationToken: Ct);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public async Task A_failure_in_the_accounts_supervisor_leaves_a_refresh_under_way_to_finish()
    {
        var (entity, store, served, answerRefresh) = await RefreshUnderWayAsync();

        // The entity's child throws (Kill makes an actor throw ActorKilledException): resumed, not restarted or stopped,
        // so the account actor under it keeps its renewal.
        Sys.ActorSelection(entity.Path / "account").Tell(Kill.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct); // not Terminated

        answerRefresh();
        Assert.Equal("access-2", (await served).Token);
        Assert.Equal("refresh-2", (await store.LoadAsync(Alice, Ct))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task An_entity_whose_accounts_supervisor_stopped_stops_too_and_is_not_a_dead_end()
    {
        var (entity, _) = await ServingAsync();

        Sys.ActorSelection(entity.Path / "account").Tell(PoisonPill.Instance);

        // Sharding starts the entity anew on its next message; forwarding to the stopped child would leave callers waiting.
        ExpectTerminated(entity, Wait, cancellationToken: Ct);
    }

    /// <summary>The shard's part in a passivation: told <c>Passivate</c>, it reports it and sends the entity its stop message.</summary>
    private sealed class ShardStandIn : ReceiveActor
    {
        public ShardStandIn(Props entity, IActorRef reportTo)
        {
            var child = Context.ActorOf(entity, "entity");
            Context.Watch(child);
            Receive<Akka.Cluster.Sharding.Passivate>(p =>
            {
                reportTo.Tell(p);
                child.Tell(p.StopMessage);
            });
            // Not the Terminated itself: an actor drops a Terminated of an actor it does not watch.
            Receive<Terminated>(_ => reportTo.Tell("entity stopped"));
            ReceiveAny(m => child.Forward(m));
        }
    }

    /// <summary>A store whose saves fail while <see cref="Down"/>.</summary>
    private sealed class SavesFailWhileDown(InMemoryTokenStore inner) : ITokenStore
    {
        public volatile bool Down;

        public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default) => inner.LoadAsync(account, cancellationToken);

        public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default) =>
            Down ? Task.FromException<long?>(new IOException("The store is down.")) : inner.SaveAsync(account, tokens, expectedVersion, cancellationToken);

        public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) => inner.RemoveAsync(account, cancellationToken);

        public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
            inner.ListAsync(provider, cancellationToken);

        public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) => inner.LockAsync(account, cancellationToken);
    }

    [Fact]
    public async Task An_account_passivates_itself_once_its_actor_retires_idle_and_not_while_the_store_lacks_its_rotated_tokens()
    {
        var store = new InMemoryTokenStore();
        var failing = new SavesFailWhileDown(store);
        var providers = CreateTestProbe();
        var shard = CreateTestProbe();
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login) { IdleTimeout = TimeSpan.FromMilliseconds(500) };
        var parts = new AccountParts(failing, providers.Ref, CreateTestProbe().Ref, settings, CreateTestProbe().Ref);
        var standIn = Sys.ActorOf(Props.Create(() => new ShardStandIn(AccountEntity.Props(Alice.Id, Task.FromResult(parts)), shard.Ref)));
        await store.SaveAsync(Alice, new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddMinutes(-1), "refresh-1"), 0, Ct);

        // A refresh rotates the refresh token, and the store fails to take the new one: the account serves it from memory.
        failing.Down = true;
        var served = standIn.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait, Ct);
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait, cancellationToken: Ct);
        providers.LastSender.Tell(new CodeExchanged(refresh.RequestId, new TokenSet("access-2", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-2")));
        Assert.Equal("access-2", (await served).Token);

        // Idle far past its idle timeout, yet not passivated: the rotated refresh token exists only in its memory.
        shard.ExpectNoMsg(TimeSpan.FromSeconds(2), Ct);

        // The store is back: the kept tokens are stored, the account retires idle, and its entity asks to be passivated.
        failing.Down = false;
        var passivate = shard.ExpectMsg<Akka.Cluster.Sharding.Passivate>(TimeSpan.FromSeconds(20), cancellationToken: Ct);
        Assert.Same(AccountHandOff.Instance, passivate.StopMessage);
        shard.ExpectMsg("entity stopped", Wait, cancellationToken: Ct);
        Assert.Equal("refresh-2", (await store.LoadAsync(Alice, Ct))!.Tokens.RefreshToken);
    }

    [Fact]
    public void An_entity_that_has_not_started_its_account_moves_at_once()
    {
        var entity = Sys.ActorOf(AccountEntity.Props(Alice.Id, new TaskCompletionSource<AccountParts>().Task));
        Watch(entity);

        entity.Tell(AccountHandOff.Instance);

        ExpectTerminated(entity, Wait, cancellationToken: Ct);
    }
}
