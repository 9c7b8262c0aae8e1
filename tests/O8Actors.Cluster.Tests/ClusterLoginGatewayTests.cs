using Akka.Actor;
using Akka.TestKit;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Binding;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Hosting;

namespace O8Actors.Cluster.Tests;

/// <summary>The beginning node's side: outcomes are never lost silently. The shard region and the entity are probes.</summary>
public sealed class ClusterLoginGatewayTests : Akka.TestKit.Xunit.TestKit
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (IActorRef Gateway, TestProbe Region) Gateway(TimeSpan? beginTimeout = null, LoginOptions? login = null, Task<ClusterLoginNode>? node = null)
    {
        var region = CreateTestProbe();
        node ??= Task.FromResult(Node(login ?? new LoginOptions()));
        return (Sys.ActorOf(ClusterLoginGateway.Props(region, () => region, beginTimeout ?? TimeSpan.FromSeconds(30), node)), region);
    }

    private ClusterLoginNode Node(LoginOptions login) =>
        new(login, CreateTestProbe(), new BrowserBindingVerifier(new EphemeralDataProtectionProvider()), new Uri("https://app.example/oauth/callback"));

    private static BeginRoutedLogin Begin(string loginId, string? partition = null) => new(loginId, "sandbox",
        AuthorizationRequest.Default with { Partition = partition }, new BrowserBindingHash([1], [2]),
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
    public async Task An_outcome_with_a_malformed_DPoP_key_fails_that_login_alone_and_leaves_the_others_pending()
    {
        var (gateway, region) = Gateway();
        var bad = Begin("login-bad");
        var other = Begin("login-other");
        gateway.Tell(bad);
        gateway.Tell(other);
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        var entity = CreateTestProbe();
        gateway.Tell(new LoginUrlReady("login-bad", new Uri("https://sandbox.example/authorize")), entity);

        gateway.Tell(new LoginEnded("login-bad", new WireOutcome(new LoginSucceeded("login-bad", new TokenSet("a", "DPoP")), null, "{\"kty\":\"RSA\"}")), entity);

        var failed = Assert.IsType<LoginFailed>(await bad.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(LoginFailure.Internal, failed.Failure);
        // Had the gateway thrown, its restart would have ended this one as cancelled: it still waits for its own outcome.
        gateway.Tell(new LoginEnded("login-other", WireOutcome.From(new LoginDenied("login-other", "access_denied", null))));
        Assert.IsType<LoginDenied>(await other.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task A_begin_no_node_takes_fails_after_the_begin_timeout()
    {
        var (gateway, region) = Gateway(TimeSpan.FromMilliseconds(300));
        var begin = Begin("login-3");
        gateway.Tell(begin);
        var started = region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        var outcome = await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(LoginFailure.ListenerUnavailable, Assert.IsType<LoginFailed>(outcome).Failure);
        Assert.True(begin.Url.Task.IsCanceled);
        // The begin may still wait in the region's buffer: it is cancelled too, so no login nobody waits for starts later.
        var cancel = region.ExpectMsg<CancelLogin>(cancellationToken: Ct);
        Assert.Equal((started.EntityId, "login-3"), (cancel.EntityId, cancel.LoginId));
    }

    [Fact]
    public void A_stray_state_only_request_is_answered_by_this_nodes_listener_and_asks_no_other_node()
    {
        var listener = CreateTestProbe();
        var node = Node(new LoginOptions()) with { Listener = listener.Ref };
        var (gateway, region) = Gateway(node: Task.FromResult(node));
        var browser = CreateTestProbe();
        // Ready once a begin (held until the node is known) reaches the region.
        gateway.Tell(Begin("login-ready"));
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        // Not a sign-out's state (43 base64url characters): before, every other member's gateway was asked about it.
        gateway.Tell(new CallbackReceived("junk<script>", null, null, null, null, "/oauth/callback"), browser);

        Assert.Equal("junk<script>", listener.ExpectMsg<CallbackReceived>(cancellationToken: Ct).State);
        // Forwarded, not asked: the listener answers the browser's request itself (its 400, counted once, here).
        Assert.Equal(browser.Ref, listener.LastSender);
    }

    [Fact]
    public void Only_a_state_of_a_sign_outs_shape_is_searched_for_on_other_nodes()
    {
        Assert.True(EndSessionActor.IsStateShaped(FlowSecrets.RandomToken(32)));
        Assert.False(EndSessionActor.IsStateShaped(FlowSecrets.RandomToken(31)));
        Assert.False(EndSessionActor.IsStateShaped(new string('a', 42) + "="));
        Assert.False(EndSessionActor.IsStateShaped(""));
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

    [Fact]
    public async Task Logins_begun_on_this_node_past_max_pending_are_refused_before_any_entity_is_asked_and_an_ended_one_frees_its_slot()
    {
        var (gateway, region) = Gateway(login: new LoginOptions { MaxPending = 2 });
        var first = Begin("login-a");
        gateway.Tell(first);
        gateway.Tell(Begin("login-b"));
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        var third = Begin("login-c");
        gateway.Tell(third);
        var refused = Assert.IsType<LoginFailed>(await third.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(LoginFailure.TooManyPendingLogins, refused.Failure);
        Assert.Contains("o8.login.max-pending", refused.Reason);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        // The first ends: its slot is free for the next begin.
        gateway.Tell(new LoginEnded("login-a", WireOutcome.From(new LoginCancelled("login-a"))));
        Assert.IsType<LoginCancelled>(await first.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        gateway.Tell(Begin("login-d"));
        Assert.Equal("login-d", region.ExpectMsg<BeginLogin>(cancellationToken: Ct).LoginId);
    }

    [Fact]
    public async Task One_partition_cannot_take_more_than_its_share_while_other_partitions_still_begin()
    {
        var (gateway, region) = Gateway(login: new LoginOptions { MaxPendingPerPartition = 1 });
        gateway.Tell(Begin("alice-1", "alice"));
        region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        var second = Begin("alice-2", "alice");
        gateway.Tell(second);
        var refused = Assert.IsType<LoginFailed>(await second.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(LoginFailure.TooManyPendingLoginsInPartition, refused.Failure);
        Assert.DoesNotContain("alice", refused.Reason); // the app's partition value (maybe a user id) is not echoed

        gateway.Tell(Begin("bob-1", "bob"));
        Assert.Equal("bob-1", region.ExpectMsg<BeginLogin>(cancellationToken: Ct).LoginId);
    }

    [Fact]
    public void A_login_begun_before_this_node_began_to_leave_is_cancelled_through_the_region_its_begin_took_too()
    {
        var region = CreateTestProbe();
        var otherNode = CreateTestProbe();
        var gateway = Sys.ActorOf(ClusterLoginGateway.Props(region, () => otherNode, TimeSpan.FromSeconds(30), Task.FromResult(Node(new LoginOptions()))));
        gateway.Tell(Begin("spanning"));
        var begun = region.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        gateway.Tell(ThroughAnotherNode.Instance);
        ExpectMsg<Akka.Done>(cancellationToken: Ct);

        gateway.Tell(new CancelRoutedLogin("spanning"));

        // Through this node's region too, behind the begin it may still hold: through the other node alone the cancel could
        // overtake the begin, stop an entity with no login yet, and let the begin start a login nobody waits for.
        Assert.Equal(begun.EntityId, region.ExpectMsg<CancelLogin>(cancellationToken: Ct).EntityId);
        Assert.Equal(begun.EntityId, otherNode.ExpectMsg<CancelLogin>(cancellationToken: Ct).EntityId);
    }

    /// <summary>
    /// A caller cancels while its begin still waits in the region's buffer (the cluster forming, a shard being placed):
    /// it waited out the whole BeginTimeout, then read a failure blaming the cluster instead of its own cancellation.
    /// </summary>
    [Fact]
    public async Task A_begin_cancelled_before_any_node_took_it_ends_as_cancelled_at_once_and_the_cancel_follows_it()
    {
        var (gateway, region) = Gateway(beginTimeout: TimeSpan.FromMinutes(5));
        var begin = Begin("c");
        gateway.Tell(begin);
        var begun = region.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        gateway.Tell(new CancelRoutedLogin("c"));

        Assert.IsType<LoginCancelled>(await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => begin.Url.Task);
        // Behind the begin in the same region: a login that starts after all is ended there too.
        Assert.Equal(begun.EntityId, region.ExpectMsg<CancelLogin>(cancellationToken: Ct).EntityId);
    }

    [Fact]
    public void A_node_that_leaves_sends_begins_and_callbacks_to_another_nodes_region_and_none_to_its_own()
    {
        var region = CreateTestProbe();
        var otherNode = CreateTestProbe();
        var gateway = Sys.ActorOf(ClusterLoginGateway.Props(region, () => otherNode, TimeSpan.FromSeconds(30), Task.FromResult(Node(new LoginOptions()))));
        gateway.Tell(ThroughAnotherNode.Instance);
        ExpectMsg<Akka.Done>(cancellationToken: Ct);

        gateway.Tell(Begin("after-leave"));
        var begun = otherNode.ExpectMsg<BeginLogin>(cancellationToken: Ct);
        var browser = CreateTestProbe();
        gateway.Tell(new CallbackReceived(begun.EntityId + ".the-login-secret", "code", null, null, null, "/oauth/callback"), browser);

        // The browser's request stays the sender: the login on the other node answers it directly.
        otherNode.ExpectMsg<RoutedCallback>(cancellationToken: Ct);
        Assert.Equal(browser.Ref, otherNode.LastSender);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }

    [Fact]
    public void A_login_begun_after_this_node_began_to_leave_is_cancelled_once_through_the_other_nodes_region()
    {
        var region = CreateTestProbe();
        var otherNode = CreateTestProbe();
        // As in production: each lookup makes a new selection of the same region.
        var gateway = Sys.ActorOf(ClusterLoginGateway.Props(region, () => Sys.ActorSelection(otherNode.Ref.Path),
            TimeSpan.FromSeconds(30), Task.FromResult(Node(new LoginOptions()))));
        gateway.Tell(ThroughAnotherNode.Instance);
        ExpectMsg<Akka.Done>(cancellationToken: Ct);
        gateway.Tell(Begin("after-leave"));
        var begun = otherNode.ExpectMsg<BeginLogin>(cancellationToken: Ct);

        gateway.Tell(new CancelRoutedLogin("after-leave"));

        Assert.Equal(begun.EntityId, otherNode.ExpectMsg<CancelLogin>(cancellationToken: Ct).EntityId);
        otherNode.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct); // one route, one cancel
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public async Task When_the_last_node_leaves_a_callback_gets_the_shutting_down_page_and_a_begin_is_refused_at_once()
    {
        var region = CreateTestProbe();
        var gateway = Sys.ActorOf(ClusterLoginGateway.Props(region, () => null, TimeSpan.FromSeconds(30), Task.FromResult(Node(new LoginOptions()))));
        gateway.Tell(ThroughAnotherNode.Instance);
        ExpectMsg<Akka.Done>(cancellationToken: Ct);

        var begin = Begin("nowhere");
        gateway.Tell(begin);
        var refused = Assert.IsType<LoginFailed>(await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(LoginFailure.ListenerUnavailable, refused.Failure);
        Assert.Contains("no other node is up", refused.Reason);

        gateway.Tell(new CallbackReceived(LoginEntityIds.Mint() + ".the-login-secret", "code", null, null, null, "/oauth/callback"));
        // Well inside the callback's own 35 s wait, which it used to wait out for a 504.
        Assert.Same(CallbackPages.ShuttingDown, ExpectMsg<CallbackResponse>(TimeSpan.FromSeconds(3), cancellationToken: Ct));
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }

    [Fact]
    public void Begins_that_arrive_before_this_nodes_O8Actors_has_started_wait_for_it_instead_of_being_lost()
    {
        var started = new TaskCompletionSource<ClusterLoginNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (gateway, region) = Gateway(node: started.Task);
        gateway.Tell(Begin("early"));
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        started.SetResult(Node(new LoginOptions()));
        Assert.Equal("early", region.ExpectMsg<BeginLogin>(cancellationToken: Ct).LoginId);
    }

    [Fact]
    public async Task When_O8Actors_failed_to_start_on_this_node_a_begin_is_refused_not_held()
    {
        var (gateway, region) = Gateway(node: Task.FromException<ClusterLoginNode>(new InvalidOperationException("no listener settings")));
        var begin = Begin("doomed");
        gateway.Tell(begin);

        var outcome = Assert.IsType<LoginFailed>(await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(LoginFailure.ListenerUnavailable, outcome.Failure);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }

    [Fact]
    public async Task When_O8Actors_failed_to_start_on_this_node_another_nodes_sign_out_search_is_told_not_here_at_once()
    {
        var (gateway, _) = Gateway(node: Task.FromException<ClusterLoginNode>(new InvalidOperationException("no listener settings")));
        var begin = Begin("doomed");
        gateway.Tell(begin);
        await begin.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct); // refused: the gateway has learnt of the failed start

        // Well inside the search's own 10 s ask: unanswered, the asking node's browser waited that long for its page.
        gateway.Tell(new SignOutReturnHere("state", "/oauth/callback/sandbox"));

        Assert.Same(CallbackPages.Malformed, ExpectMsg<CallbackResponse>(TimeSpan.FromSeconds(3), cancellationToken: Ct));
    }
}
