using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.Runtime;

namespace O8Actors.Tests.Providers;

/// <summary>
/// What <see cref="IOAuthLogins.RefreshAsync"/> throws when the provider's answer does not come within its wait (a
/// refresh queued behind slow token requests is dropped unsent once its deadline has passed). Akka's Ask waits in real
/// time, so the exchange timeout is the least allowed: the caller's wait is then about 5 s.
/// </summary>
public sealed class RefreshCallerWaitTests : TestKit
{

    [Fact]
    public async Task A_refresh_the_provider_does_not_answer_in_time_throws_the_librarys_exception_not_akkas()
    {
        var providers = CreateTestProbe();
        var nobody = CreateTestProbe().Ref;
        var options = O8Options.FromConfig();
        options.Login.ExchangeTimeout = TimeSpan.FromMilliseconds(10);
        var client = new LoginClient(Sys, new O8ActorRefs(nobody, providers.Ref, nobody, nobody, nobody, new AccountCache()), options);

        var refresh = client.RefreshAsync("github", "refresh-token-secret-value");
        providers.ExpectMsg<RefreshTokens>(); // queued at the provider, and never answered

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => refresh.WaitAsync(ExchangeTimeouts.RefreshWait(options.Login.ExchangeTimeout) + TimeSpan.FromSeconds(10)));
        Assert.Contains("'github' did not finish within", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh-token-secret-value", error.ToString(), StringComparison.Ordinal);
    }
}
