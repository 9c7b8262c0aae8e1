using Akka.Actor;
using Akka.Event;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Providers;
using O8Actors.Tests.Accounts;

namespace O8Actors.Tests.Security;

/// <summary>
/// A reply that finds its recipient gone (a login stopped while its code exchange was in flight, an Ask that timed out)
/// goes to Akka's dead letters, which Akka logs at Information with the message's text (akka.log-dead-letters is on by
/// default). A strategy's own exception may quote a token response, so no such reply prints it there. (An Ask its
/// caller cancelled is not one: Akka drops a late reply to it unlogged.)
/// </summary>
public sealed class NoSecretsInDeadLettersTests() : TestKit("akka.loglevel = INFO")
{
    private const string Marker = "SECRET";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_code_exchange_that_fails_after_its_login_stopped_logs_no_secret()
    {
        var strategy = new HeldStrategy("p");
        var providers = await this.ProvidersAsync(strategy);
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Info));
        // The login: stopped from outside while its code is at the provider (its cluster entity moved, its node stopped).
        var login = CreateTestProbe();
        providers.Tell(new ExchangeCode("p", "login-1", "code-value", "verifier-value", new Uri("http://localhost:41539/")), login.Ref);

        await strategy.Started.Task.WaitAsync(Wait);
        Watch(login.Ref);
        Sys.Stop(login.Ref);
        await ExpectTerminatedAsync(login.Ref);
        strategy.Fail();

        await AssertDeadLetterPrintsNoSecretAsync(logs, nameof(CodeExchangeFailed));
    }

    [Fact]
    public async Task A_refresh_failure_answered_after_its_callers_ask_timed_out_logs_no_secret()
    {
        var strategy = new HeldStrategy("p");
        var account = new OAuthAccount("p", "alice");
        var store = new InMemoryTokenStore();
        // Expired, with a refresh token: the next request refreshes.
        await store.SaveAsync(account, new TokenSet("access-token-value", "Bearer", DateTimeOffset.UnixEpoch, "refresh-token-value"), 0);
        var accounts = await this.AccountsAsync(strategy, store);
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Info));

        var request = accounts.Ask<AccessToken>(new GetAccessToken(account, null, AccessTokenOptions.Silent), TimeSpan.FromMilliseconds(200));
        await strategy.Started.Task.WaitAsync(Wait);
        await Assert.ThrowsAsync<AskTimeoutException>(() => request);
        strategy.Fail();

        await AssertDeadLetterPrintsNoSecretAsync(logs, "Failure");
    }

    /// <summary>Waits for Akka's line about the undelivered <paramref name="messageType"/> (Akka's own logging, as the app's logs get it).</summary>
    private static async Task AssertDeadLetterPrintsNoSecretAsync(Akka.TestKit.TestProbe logs, string messageType)
    {
        var deadLetter = await logs.FishForMessageAsync<Info>(
            i => i.Message.ToString()!.Contains($"Message [{messageType}]", StringComparison.Ordinal) && i.Message.ToString()!.Contains("not delivered", StringComparison.Ordinal),
            Wait);
        Assert.DoesNotContain(Marker, deadLetter.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A provider whose token requests wait until the test fails them with an exception quoting a token response.</summary>
    private sealed class HeldStrategy(string name) : ProviderStrategy
    {
        private readonly TaskCompletionSource _fail = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Name => name;

        public void Fail() => _fail.TrySetResult();

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new($"https://{name}.test/authorize?state={context.State}");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) => HeldAsync();

        public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) => HeldAsync();

        // Not bound to the request's token: the answer must come after its recipient is gone, whatever the provider does.
        private async Task<TokenSet> HeldAsync()
        {
            Started.TrySetResult();
            await _fail.Task;
            throw new Exception($"{Marker}-rt: the token response was {{\"refresh_token\":\"{Marker}-rotated\"}}");
        }
    }
}
