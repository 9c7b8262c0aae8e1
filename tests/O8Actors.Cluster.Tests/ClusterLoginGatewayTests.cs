using Akka.Actor;
using Akka.TestKit;
using O8Actors.Binding;
using O8Actors.Callback;
using O8Actors.Hosting;

namespace O8Actors.Cluster.Tests;

/// <summary>The beginning node's side: outcomes are never lost silently. The shard region and the entity are probes.</summary>
public sealed class ClusterLoginGatewayTests : Akka.TestKit.Xunit.TestKit
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (IActorRef Gateway, TestProbe Region) Gateway(TimeSpan? beginTimeout = null)
    {
        var region = CreateTestProbe();
        return (Sys.ActorOf(ClusterLoginGateway.Props(region, beginTimeout ?? TimeSpan.FromSeconds(30))), region);
    }

    private static BeginRoutedLogin Begin(string loginId) => new(loginId, "sandbox", AuthorizationRequest.Default, new BrowserBindingHash([1], [2]),
        new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously),
        new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));

    [Fact]
    public async Task A_login_whose_entity_dies_before_it_ends_ends_as_NodeLost_for_its_caller()
    {
        var (gateway, region) = Gateway();
        var begin = Begin("login-1");
        gateway.Tell(begin);
        var sent = region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        Assert.True(LoginEntityIds.IsValid(sent.EntityId));
        var entity = CreateTestProbe();
        var url = new Uri("https://sandbox.example/authorize");
        gateway.Tell(new LoginUrlReady("login-1", url), entity);
        Assert.Equal(url, await begin.Url.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));

        // The entity dies with its node (no LoginEnded): the gateway's DeathWatch ends the login.
        Sys.Stop(entity);

        var outcome = await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(outcome).Failure);
    }

    [Fact]
    public async Task An_entity_that_reports_its_outcome_and_then_stops_ends_its_login_once_with_that_outcome()
    {
        var (gateway, region) = Gateway();
        var begin = Begin("login-2");
        gateway.Tell(begin);
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        var entity = CreateTestProbe();
        gateway.Tell(new LoginUrlReady("login-2", new Uri("https://sandbox.example/authorize")), entity);
        gateway.Tell(new LoginEnded("login-2", WireOutcome.From(new LoginSucceeded("login-2", new TokenSet("a", "Bearer")))), entity);
        Sys.Stop(entity); // passivated after it ended

        Assert.IsType<LoginSucceeded>(await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task A_begin_no_node_takes_fails_after_the_begin_timeout()
    {
        var (gateway, region) = Gateway(TimeSpan.FromMilliseconds(300));
        var begin = Begin("login-3");
        gateway.Tell(begin);
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        var outcome = await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(LoginFailure.ListenerUnavailable, Assert.IsType<LoginFailed>(outcome).Failure);
        Assert.True(begin.Url.Task.IsCanceled);
    }

    [Fact]
    public void A_callback_is_routed_by_the_entity_id_in_its_state_and_the_asker_stays_the_sender()
    {
        var (gateway, region) = Gateway();
        var browser = CreateTestProbe();
        var entityId = LoginEntityIds.Mint();

        gateway.Tell(new CallbackReceived(entityId + ".secret", "code", null, null, null, "/oauth/callback/sandbox"), browser);

        var routed = region.ExpectMsg<RoutedCallback>(cancellationToken: Ct);
        Assert.Equal(entityId, routed.EntityId);
        Assert.Equal(entityId + ".secret", routed.State);
        Assert.Equal(browser.Ref, region.LastSender);
    }

    [Fact]
    public void A_callback_whose_state_has_no_routing_id_is_refused_without_a_message_to_the_region()
    {
        var (gateway, region) = Gateway();
        var browser = CreateTestProbe();

        gateway.Tell(new CallbackReceived("no-routing-id", "code", null, null, null, "/oauth/callback/sandbox"), browser);

        Assert.Equal(CallbackPages.UnknownState, browser.ExpectMsg<CallbackResponse>(cancellationToken: Ct));
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }
}
