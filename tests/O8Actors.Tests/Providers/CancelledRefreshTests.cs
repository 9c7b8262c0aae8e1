using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.Runtime;

namespace O8Actors.Tests.Providers;

/// <summary>
/// <see cref="IOAuthLogins.RefreshAsync"/> cancelled by its caller before its refresh is sent: the refresh token must not
/// reach the provider, for a rotating provider would spend it and hand the new one to a caller that is gone. The
/// strategy records every refresh it is asked for (a refresh grant at the provider). Virtual time, so no deadline passes.
/// </summary>
public sealed class CancelledRefreshTests() : TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");

    private LoginClient Client(IActorRef providers)
    {
        var nobody = CreateTestProbe().Ref;
        return new LoginClient(Sys, new O8ActorRefs(nobody, providers, nobody, nobody, nobody, new AccountCache()), O8Options.FromConfig());
    }

    private IActorRef Provider(ScriptedStrategy strategy) =>
        Sys.ActorOf(ProviderActor.Props(strategy, () => new HttpClient(), maxConcurrentExchanges: 1, TimeSpan.FromSeconds(30)));

    private ExchangeCode Exchange(string code) =>
        new("p", $"login-{code}", code, "verifier", RedirectUri, Deadline: Sys.Scheduler.Now + TimeSpan.FromMinutes(1));

    [Fact]
    public async Task A_refresh_with_a_token_already_cancelled_throws_and_never_reaches_the_provider()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy);
        // In front of the provider: what the client sends is seen, and passed on.
        var providers = CreateTestProbe();
        providers.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            provider.Tell(message, sender);
            return AutoPilot.KeepRunning;
        }));
        var client = Client(providers.Ref);

        var refresh = client.RefreshAsync("p", "rt-spent-for-nobody", cancellationToken: new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refresh.WaitAsync(Wait));
        providers.ExpectNoMsg(Quiet);
        Assert.Empty(strategy.Started); // no refresh grant asked for
    }

    [Fact]
    public async Task A_refresh_cancelled_while_queued_behind_a_slow_request_is_never_sent()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy);
        var providers = CreateTestProbe();
        var client = Client(providers.Ref);

        // A slow token request holds the only slot.
        var slow = CreateTestProbe();
        slow.Send(provider, Exchange("slow"));
        AwaitAssert(() => Assert.Contains("slow", strategy.Started), Wait);

        // The refresh queues behind it (passed on by the probe, so it is known to be in the provider's mailbox first),
        // and a login's exchange behind the refresh. Both would answer at once if sent.
        using var cancel = new CancellationTokenSource();
        strategy.Release("rt-queued");
        strategy.Release("after");
        var refresh = client.RefreshAsync("p", "rt-queued", cancellationToken: cancel.Token);
        providers.ExpectMsg<RefreshTokens>(Wait);
        providers.Forward(provider);
        var after = CreateTestProbe();
        after.Send(provider, Exchange("after"));

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refresh.WaitAsync(Wait));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);

        // The slot went from the slow request to the exchange queued behind the refresh: the refresh token was not sent.
        Assert.Equal("token-after", after.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        Assert.Equal(["slow", "after"], strategy.Started);
    }
}
