using O8Actors.Accounts;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// An account entity on a node where O8Actors did not start (or has not started yet) answers its callers instead of
/// restarting forever, or of stopping with their requests unanswered.
/// </summary>
public sealed class AccountEntityStartupTests : Akka.TestKit.Xunit.TestKit
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Every_request_gets_a_typed_failure_and_the_entity_keeps_answering()
    {
        var entity = Sys.ActorOf(AccountEntity.Props("sandbox/alice", Task.FromException<AccountParts>(new InvalidOperationException("no runtime"))));
        var request = new GetAccessToken(new OAuthAccount("sandbox", "alice"), null, new AccessTokenOptions());

        // One before and one after the failure arrives: the first was stashed, the second meets the failed entity.
        entity.Tell(request, TestActor);
        var first = ExpectMsg<WireAccountFailure>(cancellationToken: Ct);
        entity.Tell(request, TestActor);
        var second = ExpectMsg<WireAccountFailure>(cancellationToken: Ct);

        foreach (var failure in new[] { first, second })
        {
            var error = Assert.IsType<AuthorizationFailedException>(failure.ToException());
            Assert.Equal(LoginFailure.ListenerUnavailable, error.Failure);
        }
    }

    [Fact]
    public void A_request_stashed_before_the_node_started_is_answered_when_the_entity_moves()
    {
        // O8Actors is still starting on this node: the entity holds its requests until it has.
        var starting = new TaskCompletionSource<AccountParts>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entity = Sys.ActorOf(AccountEntity.Props("sandbox/alice", starting.Task));
        Watch(entity);
        var caller = CreateTestProbe();
        entity.Tell(new GetAccessToken(new OAuthAccount("sandbox", "alice"), null, new AccessTokenOptions()), caller);

        // Its shard moves now: the entity stops, and the caller hears so at once instead of waiting out its ask (90 s).
        entity.Tell(AccountHandOff.Instance, Akka.Actor.ActorRefs.NoSender);
        ExpectTerminated(entity, cancellationToken: Ct);

        var error = Assert.IsType<AuthorizationFailedException>(caller.ExpectMsg<WireAccountFailure>(TimeSpan.FromSeconds(3), cancellationToken: Ct).ToException());
        Assert.Equal(LoginFailure.NodeLost, error.Failure);
    }
}
