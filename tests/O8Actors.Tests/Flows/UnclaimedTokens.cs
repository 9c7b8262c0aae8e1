using Akka.Actor;
using Akka.TestKit;
using O8Actors.Providers;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Tokens the provider issues for a login that already ended (cancelled, or past its deadline) with its token request
/// on the way: nobody takes them, so the login revokes them (RFC 7009), then stops.
/// </summary>
internal static class UnclaimedTokens
{
    public static readonly TokenSet Issued = new("unclaimed-access", "Bearer", RefreshToken: "unclaimed-refresh");

    /// <summary>
    /// Expects <paramref name="login"/> to ask <paramref name="providers"/> to revoke <see cref="Issued"/>, refresh token
    /// first, to stay until that is answered (a shutdown waits for it), then to stop.
    /// </summary>
    public static void ExpectRevokedThenStopped(TestKitBase kit, TestProbe providers, IActorRef login)
    {
        var revoke = providers.ExpectMsg<RevokeTokens>();
        Assert.Equal("test", revoke.Provider);
        Assert.Equal([("unclaimed-refresh", "refresh_token"), ("unclaimed-access", "access_token")],
            revoke.Tokens.Select(t => (t.Token, t.TokenTypeHint)));
        kit.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // not Terminated
        providers.Reply(new RevocationDone(revoke.RequestId, RevocationOutcome.Revoked));
        kit.ExpectTerminated(login);
    }
}
