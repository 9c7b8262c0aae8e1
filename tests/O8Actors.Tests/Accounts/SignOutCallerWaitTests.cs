using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Runtime;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// What <see cref="IOAuthLogins.SignOutAsync(OAuthAccount, CancellationToken)"/> throws when the account does not answer
/// within the sign-out's wait (stashed behind a renewal in overtime, its revocation queued behind slow token requests).
/// Akka's Ask waits in real time, so the exchange timeout is the least allowed: the wait is then about 40 s.
/// </summary>
public sealed class SignOutCallerWaitTests : TestKit
{
    [Fact]
    public async Task A_sign_out_the_account_does_not_answer_in_time_throws_the_librarys_exception_not_akkas()
    {
        var accounts = CreateTestProbe();
        var nobody = CreateTestProbe().Ref;
        var options = O8Options.FromConfig();
        options.Login.ExchangeTimeout = TimeSpan.FromMilliseconds(10);
        var client = new LoginClient(Sys, new O8ActorRefs(nobody, nobody, nobody, nobody, accounts.Ref, new AccountCache()), options);
        var account = new OAuthAccount("github", "alice");

        var signOut = client.SignOutAsync(account);
        Assert.Equal(account, accounts.ExpectMsg<SignOut>().Account); // taken by the account, and never answered

        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() => signOut.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(LoginFailure.ExchangeTimeout, error.Failure);
        Assert.Contains($"Signing out {account} did not finish within", error.Message, StringComparison.Ordinal);
    }
}
