using O8Actors.Accounts;

namespace O8Actors.Cluster.Tests;

/// <summary>An account entity on a node where O8Actors did not start answers its callers instead of restarting forever.</summary>
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
}
