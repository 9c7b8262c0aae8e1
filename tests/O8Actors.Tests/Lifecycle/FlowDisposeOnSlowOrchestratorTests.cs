using O8Actors.Providers;
using O8Actors.Tests.Flows;
using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>
/// An <see cref="OAuthFlow"/> disposed while its orchestrator is too busy to answer its sign-out in time still takes its
/// provider off (and the dispose does not throw). Before, the sign-out's timeout ended the dispose with it: the provider
/// stayed registered, holding the disposed flow, whose logins went on calling it.
/// </summary>
public sealed class FlowDisposeOnSlowOrchestratorTests(ITestOutputHelper output)
{
    /// <summary>A flow that is never signed in: only its registration is looked at.</summary>
    private sealed class IdleFlow(IOAuthLogins logins) : OAuthFlow("client-1", "", "identify", logins: logins)
    {
        protected override string AuthUrl => $"https://provider.test/authorize?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}";

        protected override Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("This flow never gets a code.");
    }

    /// <summary>The orchestrator as it is, except that its account list does not come in time (as when it is busy).</summary>
    private sealed class AccountListTimesOut(OAuthLogins inner) : IOAuthLogins, IUnregistersProviders
    {
        public Task<IReadOnlyList<OAuthAccount>> GetAccountsAsync(string? provider = null, CancellationToken cancellationToken = default) =>
            Task.FromException<IReadOnlyList<OAuthAccount>>(new Akka.Actor.AskTimeoutException("The accounts did not answer in time."));

        public Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor = null, CancellationToken cancellationToken = default) =>
            ((IUnregistersProviders)inner).UnregisterProviderAsync(strategy, successor, cancellationToken);

        public Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
            inner.AuthorizeAsync(provider, request, cancellationToken);

        public Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
            inner.RunAsync(provider, request, cancellationToken);

        public Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default) =>
            inner.RefreshAsync(provider, refreshToken, scopes, cancellationToken);

        public Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default) =>
            inner.RegisterProviderAsync(strategy, cancellationToken);

        public Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default) => inner.GetRedirectUriAsync(cancellationToken);

        public Task<Uri> GetRedirectUriAsync(string provider, CancellationToken cancellationToken = default) =>
            inner.GetRedirectUriAsync(provider, cancellationToken);

        public Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default) => inner.GetStatusAsync(cancellationToken);

        public Task<AccessToken> GetAccessTokenAsync(OAuthAccount account, IReadOnlyList<string>? scopes = null, AccessTokenOptions? options = null,
            CancellationToken cancellationToken = default) => inner.GetAccessTokenAsync(account, scopes, options, cancellationToken);

        public Task<UserInfo> GetUserInfoAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
            inner.GetUserInfoAsync(account, cancellationToken);

        public Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken, CancellationToken cancellationToken = default) =>
            inner.HandleBackChannelLogoutAsync(provider, logoutToken, cancellationToken);

        public Task<SignOutResult> SignOutAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
            inner.SignOutAsync(account, cancellationToken);

        public Task<SignOutResult> SignOutAsync(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken = default) =>
            inner.SignOutAsync(account, options, cancellationToken);

        public IObservable<LoginEvent> Events => inner.Events;
    }

    [Fact]
    public async Task A_flow_whose_sign_out_times_out_still_takes_its_provider_off_and_its_dispose_does_not_throw()
    {
        await using var inner = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        var flow = new IdleFlow(new AccountListTimesOut(inner));
        // Registers the flow's provider (and finds no account, as nobody signed in).
        await Assert.ThrowsAsync<InteractionRequiredException>(() => flow.GetAccessTokenAsync(allowInteraction: false));
        var provider = flow.Account.Provider;
        Assert.NotNull(await inner.GetRedirectUriAsync(provider));

        await flow.DisposeAsync();

        await Assert.ThrowsAsync<UnknownProviderException>(() => inner.GetRedirectUriAsync(provider));
    }
}
