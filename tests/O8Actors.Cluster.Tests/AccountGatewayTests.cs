using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Logout;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node that leaves keeps its HTTP server running while its shard regions stop: its account gateway sends account and
/// logout-token messages to those regions on another node from then on. The regions are probes.
/// </summary>
public sealed class AccountGatewayTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly OAuthAccount Alice = new("sandbox", "alice");
    private static readonly O8Settings.LoginSettings Login = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), true, 100, 16);
    private static readonly AccountSettings Settings = new(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Regions(TestProbe Accounts, TestProbe LogoutTokens, TestProbe OtherAccounts, TestProbe OtherLogoutTokens);

    private (IActorRef Gateway, Regions Regions) Gateway(bool otherNodeUp = true)
    {
        var regions = new Regions(CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var gateway = Sys.ActorOf(AccountGateway.Props(regions.Accounts, () => otherNodeUp ? regions.OtherAccounts : null,
            regions.LogoutTokens, () => otherNodeUp ? regions.OtherLogoutTokens : null, Settings));
        return (gateway, regions);
    }

    private static AcceptLogoutToken LogoutToken() =>
        new("sandbox", "jti-1", DateTimeOffset.UtcNow.AddMinutes(5), "attempt-1", TimeSpan.FromSeconds(30));

    /// <summary>A token request from a caller that can cancel, as this node's region receives it.</summary>
    private CancellableTokenRequest AskCancellable(IActorRef gateway, Regions regions, CancellationTokenSource caller, AccessTokenOptions options)
    {
        gateway.Tell(new GetAccessToken(Alice, null, options) { CallerCancellation = caller.Token });
        return regions.Accounts.ExpectMsg<CancellableTokenRequest>(cancellationToken: Ct);
    }

    private void Leave(IActorRef gateway)
    {
        gateway.Tell(ThroughAnotherNode.Instance);
        ExpectMsg<Akka.Done>(cancellationToken: Ct);
    }

    [Fact]
    public void Until_its_node_leaves_account_and_logout_token_messages_go_to_this_nodes_regions()
    {
        var (gateway, regions) = Gateway();

        gateway.Tell(new SignOut(Alice, SignOutOptions.Local));
        gateway.Tell(LogoutToken());

        regions.Accounts.ExpectMsg<SignOut>(cancellationToken: Ct);
        regions.LogoutTokens.ExpectMsg<AcceptLogoutToken>(cancellationToken: Ct);
        regions.OtherAccounts.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
        regions.OtherLogoutTokens.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void Once_its_node_leaves_a_back_channel_logout_reaches_the_providers_guard_through_another_node_and_is_answered()
    {
        var (gateway, regions) = Gateway();
        Leave(gateway);

        // This node's guards' region stops in sharding's shutdown phase, while its HTTP server still takes back-channel
        // logouts: sent there, the provider's logout was refused and its session stayed open.
        gateway.Tell(LogoutToken());
        regions.OtherLogoutTokens.ExpectMsg<AcceptLogoutToken>(cancellationToken: Ct);
        regions.OtherLogoutTokens.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(cancellationToken: Ct).Check);

        gateway.Tell(new ForgetLogoutToken("sandbox", "jti-1", "attempt-1"));
        regions.OtherLogoutTokens.ExpectMsg<ForgetLogoutToken>(cancellationToken: Ct);
        regions.LogoutTokens.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void Once_its_node_leaves_an_accounts_sign_out_goes_to_the_accounts_region_on_another_node()
    {
        var (gateway, regions) = Gateway();
        Leave(gateway);

        gateway.Tell(new SignOut(Alice, SignOutOptions.Local));

        Assert.Equal(Alice, regions.OtherAccounts.ExpectMsg<SignOut>(cancellationToken: Ct).Account);
        regions.Accounts.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void When_the_last_node_leaves_an_account_request_fails_at_once_with_the_reason()
    {
        var (gateway, regions) = Gateway(otherNodeUp: false);
        Leave(gateway);

        gateway.Tell(new SignOut(Alice, SignOutOptions.Local));

        // Well inside the sign-out's own wait, which it used to wait out against a region that no longer took anything.
        var failure = ExpectMsg<Status.Failure>(TimeSpan.FromSeconds(3), cancellationToken: Ct);
        Assert.Contains("no other node is up", failure.Cause.Message, StringComparison.Ordinal);
        regions.Accounts.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void A_token_request_whose_caller_cancels_is_named_and_the_name_is_sent_to_the_accounts_entity_when_it_cancels()
    {
        var (gateway, regions) = Gateway();
        using var caller = new CancellationTokenSource();

        var sent = AskCancellable(gateway, regions, caller, AccessTokenOptions.Interactive);
        // The token itself stays in this process: the entity makes its own.
        Assert.False(sent.Request.CallerCancellation.CanBeCanceled);
        Assert.Equal(Alice, sent.Request.Account);

        caller.Cancel();
        var cancel = regions.Accounts.ExpectMsg<CancelTokenRequest>(cancellationToken: Ct);
        Assert.Equal((Alice, sent.CancelId), (cancel.Account, cancel.CancelId));
    }

    [Fact]
    public void A_caller_that_cancels_after_its_node_began_to_leave_has_its_cancel_sent_through_the_region_its_request_took_and_another_node()
    {
        var (gateway, regions) = Gateway();
        using var caller = new CancellationTokenSource();
        var sent = AskCancellable(gateway, regions, caller, AccessTokenOptions.Interactive);
        Leave(gateway);

        caller.Cancel();

        // Behind the request in its own region's order (it may still be in that region's buffer: a cancel that overtook
        // it would be dropped), and through the other node's, which reaches the entity should the account have moved.
        Assert.Equal(sent.CancelId, regions.Accounts.ExpectMsg<CancelTokenRequest>(cancellationToken: Ct).CancelId);
        Assert.Equal(sent.CancelId, regions.OtherAccounts.ExpectMsg<CancelTokenRequest>(cancellationToken: Ct).CancelId);
    }

    [Fact]
    public void A_caller_whose_request_went_through_another_node_has_its_cancel_sent_there_alone()
    {
        var (gateway, regions) = Gateway();
        Leave(gateway);
        using var caller = new CancellationTokenSource();
        gateway.Tell(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive) { CallerCancellation = caller.Token });
        var sent = regions.OtherAccounts.ExpectMsg<CancellableTokenRequest>(cancellationToken: Ct);

        caller.Cancel();

        Assert.Equal(sent.CancelId, regions.OtherAccounts.ExpectMsg<CancelTokenRequest>(cancellationToken: Ct).CancelId);
        regions.OtherAccounts.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
        regions.Accounts.ExpectNoMsg(TimeSpan.FromMilliseconds(100), Ct);
    }

    [Fact]
    public void A_token_request_answered_before_its_caller_cancels_sends_no_cancel()
    {
        var (gateway, regions) = Gateway();
        using var caller = new CancellationTokenSource();
        AskCancellable(gateway, regions, caller, AccessTokenOptions.Silent);
        var token = new AccessToken(Alice, "access", "Bearer", DateTimeOffset.UtcNow.AddHours(1), null);
        regions.Accounts.Reply(token);
        Assert.Equal(token, ExpectMsg<AccessToken>(cancellationToken: Ct));

        caller.Cancel();

        regions.Accounts.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct);
    }

    [Fact]
    public void A_token_request_whose_caller_cannot_cancel_goes_as_it_is()
    {
        var (gateway, regions) = Gateway();

        gateway.Tell(new GetAccessToken(Alice, null, AccessTokenOptions.Silent));

        Assert.Equal(Alice, regions.Accounts.ExpectMsg<GetAccessToken>(cancellationToken: Ct).Account);
    }
}
