using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Binding;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The entity alone, its parent standing in for the shard: what a fresh entity does with anything but a start, and how a
/// running one guards its login's state. The provider registry is a probe.
/// </summary>
public sealed class LoginEntityTests : Akka.TestKit.Xunit.TestKit
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Uri Redirect = new("https://app.example/oauth/callback");
    private readonly BrowserBindingVerifier _verifier = new(new EphemeralDataProtectionProvider());

    private (IActorRef Entity, Akka.TestKit.TestProbe Providers) Entity(string entityId)
    {
        var providers = CreateTestProbe();
        var node = Task.FromResult(new ClusterLoginNode(new LoginOptions(), providers, _verifier, Redirect));
        // A child of the test actor: its Passivate comes here, as it would to its shard.
        return (ChildActorOf(LoginEntity.Props(entityId, node), Ct), providers);
    }

    [Fact]
    public void A_fresh_entity_answers_a_callback_as_expired_asks_to_be_passivated_and_starts_no_login()
    {
        var entityId = LoginEntityIds.Mint();
        var (entity, providers) = Entity(entityId);
        var browser = CreateTestProbe();

        entity.Tell(new RoutedCallback(entityId, entityId + ".secret", "code", null, null, null, "/oauth/callback/sandbox", null), browser);

        Assert.Equal(ClusterPages.ExpiredOrUnknown, browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        ExpectMsg<Passivate>(cancellationToken: Ct);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct);
    }

    [Fact]
    public void A_fresh_entity_that_gets_a_cancellation_asks_to_be_passivated_and_answers_nothing()
    {
        var entityId = LoginEntityIds.Mint();
        var (entity, providers) = Entity(entityId);
        var sender = CreateTestProbe();

        entity.Tell(new CancelLogin(entityId, "login-1"), sender);

        ExpectMsg<Passivate>(cancellationToken: Ct);
        sender.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void A_running_login_hands_on_only_the_callback_with_its_full_state_and_only_once()
    {
        var entityId = LoginEntityIds.Mint();
        var (entity, providers) = Entity(entityId);
        var gateway = CreateTestProbe();
        entity.Tell(BeginLogin.For(entityId, "login-1", "sandbox", AuthorizationRequest.Default, new BrowserBindingHash([1], [2]), gateway));
        // The node took it: said at once, before its URL (a slow discovery would outlast the begin's timeout).
        gateway.ExpectMsg(new LoginTaken("login-1"), cancellationToken: Ct);

        // The login asks its node's providers for the URL with the server-mode redirect URI and a state under its entity id.
        var prepare = providers.ExpectMsg<PrepareAuthorization>(cancellationToken: Ct);
        Assert.Equal(Redirect, prepare.RedirectUri);
        Assert.StartsWith(entityId + ".", prepare.State, StringComparison.Ordinal);
        var authorizeUrl = new Uri("https://sandbox.example/authorize?state=" + prepare.State);
        providers.Reply(new AuthorizationPrepared("login-1", authorizeUrl, ProviderDescriptor.Static, new Uri(Redirect + "/sandbox")));
        Assert.Equal(new LoginUrlReady("login-1", authorizeUrl), gateway.ExpectMsg<LoginUrlReady>(cancellationToken: Ct));

        // The routing id alone opens nothing.
        var forger = CreateTestProbe();
        entity.Tell(new RoutedCallback(entityId, entityId + ".not-the-secret", "code", null, null, null, "/oauth/callback/sandbox", null), forger);
        Assert.Equal(ClusterPages.ExpiredOrUnknown, forger.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        // The genuine callback reaches the login (an unbound callback against a bound login: BrowserMismatch, page 400 to the browser).
        var browser = CreateTestProbe();
        entity.Tell(new RoutedCallback(entityId, prepare.State, "code", null, null, null, "/oauth/callback/sandbox", null), browser);
        Assert.Equal(CallbackPages.OtherBrowser with { LoginId = "login-1" }, browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        var ended = gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct);
        Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(ended.Outcome.ToOutcome()).Failure);
        // A replay gets the one "expired or unknown" page however far the entity's stop has come (a CI run once saw the
        // live entity's other page here, after the state was spent and before the login's actor had stopped).
        var replayer = CreateTestProbe();
        entity.Tell(new RoutedCallback(entityId, prepare.State, "code", null, null, null, "/oauth/callback/sandbox", null), replayer);
        Assert.Equal(ClusterPages.ExpiredOrUnknown, replayer.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct); // no exchange
        ExpectMsg<Passivate>(cancellationToken: Ct);
    }

    [Fact]
    public void A_login_whose_actor_throws_ends_as_failed_once_and_is_not_run_again()
    {
        var entityId = LoginEntityIds.Mint();
        var (entity, providers) = Entity(entityId);
        var gateway = CreateTestProbe();
        var (secret, binding) = _verifier.Create();
        entity.Tell(BeginLogin.For(entityId, "login-1", "sandbox", AuthorizationRequest.Default, binding, gateway));
        gateway.ExpectMsg(new LoginTaken("login-1"), cancellationToken: Ct);
        var prepare = providers.ExpectMsg<PrepareAuthorization>(cancellationToken: Ct);
        // A bug stands in here: an answer without the provider's descriptor makes the callback's issuer check throw.
        providers.Reply(new AuthorizationPrepared("login-1", new Uri("https://sandbox.example/authorize"), null!, new Uri(Redirect + "/sandbox")));
        gateway.ExpectMsg<LoginUrlReady>(cancellationToken: Ct);

        var browser = CreateTestProbe();
        entity.Tell(new RoutedCallback(entityId, prepare.State, "code", null, null, null, null,
            new Dictionary<string, string> { ["login-1"] = secret }), browser);

        var ended = gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct);
        Assert.Equal(LoginFailure.Internal, Assert.IsType<LoginFailed>(ended.Outcome.ToOutcome()).Failure);
        // Restarted, the login would have asked for a second authorize URL under a new state, and announced it.
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct);
        gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
        ExpectMsg<Passivate>(cancellationToken: Ct);
    }
    /// <summary>A bound login that has announced its authorize URL and waits for its callback; its browser holds <c>Secret</c>.</summary>
    private (IActorRef Entity, Akka.TestKit.TestProbe Providers, Akka.TestKit.TestProbe Gateway, string EntityId, string State, string Secret) Waiting()
    {
        var entityId = LoginEntityIds.Mint();
        var (entity, providers) = Entity(entityId);
        var gateway = CreateTestProbe();
        var (secret, binding) = _verifier.Create();
        entity.Tell(BeginLogin.For(entityId, "login-1", "sandbox", AuthorizationRequest.Default, binding, gateway));
        gateway.ExpectMsg(new LoginTaken("login-1"), cancellationToken: Ct);
        var prepare = providers.ExpectMsg<PrepareAuthorization>(cancellationToken: Ct);
        providers.Reply(new AuthorizationPrepared("login-1", new Uri("https://sandbox.example/authorize"), ProviderDescriptor.Static, new Uri(Redirect + "/sandbox")));
        gateway.ExpectMsg<LoginUrlReady>(cancellationToken: Ct);
        Watch(entity);
        return (entity, providers, gateway, entityId, prepare.State, secret);
    }

    /// <summary>A bound login whose genuine callback has come and whose code is at the provider; the browser's request waits.</summary>
    private (IActorRef Entity, Akka.TestKit.TestProbe Providers, Akka.TestKit.TestProbe Gateway, Akka.TestKit.TestProbe Browser) Exchanging()
    {
        var (entity, providers, gateway, entityId, state, secret) = Waiting();
        var browser = CreateTestProbe();
        entity.Tell(new RoutedCallback(entityId, state, "code", null, null, null, "/oauth/callback/sandbox",
            new Dictionary<string, string> { ["login-1"] = secret }), browser);
        providers.ExpectMsg<ExchangeCode>(cancellationToken: Ct);
        return (entity, providers, gateway, browser);
    }

    [Fact]
    public void A_login_handed_off_while_its_code_is_exchanged_finishes_its_exchange_before_the_entity_stops()
    {
        var (entity, providers, gateway, browser) = Exchanging();

        // Its shard moves (its node leaves, or a rebalance) while the provider answers.
        entity.Tell(LoginHandOff.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct); // neither Terminated nor a Passivate: the code is spent at the provider
        browser.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);

        providers.LastSender.Tell(new CodeExchanged("login-1", new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), null)));

        Assert.Equal(CallbackPages.SignedIn with { LoginId = "login-1" }, browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        Assert.IsType<LoginSucceeded>(gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct).Outcome.ToOutcome());
        // Stopped without a passivation: its shard, handing it off, waits for it to stop.
        ExpectTerminated(entity, cancellationToken: Ct);
        gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }

    [Fact]
    public void A_login_handed_off_while_it_waits_for_its_callback_moves_at_once_as_lost()
    {
        var (entity, _, gateway, _, _, _) = Waiting();

        entity.Tell(LoginHandOff.Instance);

        ExpectTerminated(entity, cancellationToken: Ct);
        var lost = Assert.IsType<LoginFailed>(gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct).Outcome.ToOutcome());
        Assert.Equal(LoginFailure.NodeLost, lost.Failure);
        // A hand-off is a move (a rebalance as a node joined, say), not a node that stopped: an operator scaling out must
        // not be sent after a crash that never happened.
        Assert.Contains("moved to another node", lost.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("stopped or left", lost.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entity_handed_off_before_its_node_started_tells_its_stashed_begin_NodeLost_and_answers_its_stashed_callback()
    {
        var entityId = LoginEntityIds.Mint();
        // O8Actors is still starting on this node (it just joined): its entities stash what they get meanwhile.
        var starting = new TaskCompletionSource<ClusterLoginNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entity = ChildActorOf(LoginEntity.Props(entityId, starting.Task), Ct);
        Watch(entity);
        var gateway = CreateTestProbe();
        var browser = CreateTestProbe();
        entity.Tell(BeginLogin.For(entityId, "login-1", "sandbox", AuthorizationRequest.Default, new BrowserBindingHash([1], [2]), gateway));
        entity.Tell(new RoutedCallback(entityId, entityId + ".secret", "code", null, null, null, "/oauth/callback/sandbox", null), browser);

        // A rebalance moves its shard in that window.
        entity.Tell(LoginHandOff.Instance);

        ExpectTerminated(entity, cancellationToken: Ct);
        // Before: both went to dead letters; the caller waited out its begin timeout (30 s) and was told no node took the login.
        var ended = gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct);
        Assert.Equal("login-1", ended.LoginId);
        Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(ended.Outcome.ToOutcome()).Failure);
        Assert.Equal(ClusterPages.Interrupted, browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
    }

    [Fact]
    public void A_login_stopped_while_its_code_is_exchanged_gives_its_browser_the_503_of_an_interrupted_sign_in_and_its_caller_NodeLost()
    {
        var (entity, _, gateway, browser) = Exchanging();

        // Stopped outright: sharding's hand-off timeout, or the node's shutdown phase, ran out.
        Sys.Stop(entity);

        // Before: the 500 of an internal error ("The sign-in ended before it could finish").
        var page = browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct);
        Assert.Equal(ClusterPages.Interrupted with { LoginId = "login-1" }, page);
        Assert.Equal(503, page.StatusCode);
        browser.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct); // one page
        Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(gateway.ExpectMsg<LoginEnded>(cancellationToken: Ct).Outcome.ToOutcome()).Failure);
    }
}
