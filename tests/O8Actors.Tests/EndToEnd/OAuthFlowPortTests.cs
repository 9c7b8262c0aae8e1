using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using Akka.TestKit;
using O8Actors.Browser;
using O8Actors.Tests.Certificates;
using O8Actors.Tests.Support;
using Xunit.Abstractions;

namespace O8Actors.Tests.EndToEnd;

/// <summary>The port of orchestr8's <c>OAuthFlow</c>: a subclass written the way the original's Discord example is.</summary>
public sealed class OAuthFlowPortTests(MkcertFolderFixture certificates, ITestOutputHelper output) : IClassFixture<MkcertFolderFixture>
{
    /// <summary>Written like the original's example: the subclass builds the URL and posts the code itself.</summary>
    private sealed class ExampleFlow(string tokenEndpoint, string authorizeEndpoint, IOAuthLogins flows, bool sendVerifier, string? issuer = null,
        string? cacheName = null, ConcurrentQueue<Uri>? waiting = null, string? accountKey = null)
        : OAuthFlow(PkceAuthorizationServer.ClientId, PkceAuthorizationServer.ClientSecret, "identify messages.read", logins: flows)
    {
        protected override void OnWaitingForSignIn(Uri authorizeUrl)
        {
            if (waiting is null) base.OnWaitingForSignIn(authorizeUrl);
            else waiting.Enqueue(authorizeUrl);
        }

        protected override string? Issuer => issuer;

        protected override string? CacheName => cacheName;

        protected override string AccountKey => accountKey ?? base.AccountKey;

        protected override string AuthUrl =>
            $"{authorizeEndpoint}?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}&response_type=code&scope={Uri.EscapeDataString(UserScopes)}";

        protected override async Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
        {
            var form = new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUrl };
            if (sendVerifier && context.CodeVerifier is not null) form["code_verifier"] = context.CodeVerifier;
            using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")));
            using var response = await context.Http.SendAsync(request, cancellationToken);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (!response.IsSuccessStatusCode)
                throw new TokenExchangeException($"Failed to obtain access token: {json.RootElement.GetProperty("error").GetString()}");
            return json.RootElement.GetProperty("access_token").GetString()!;
        }
    }

    private sealed class NeverReturningBrowser : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.Opened("nowhere"));
    }

    private Task<OAuthLogins> StartAsync(IBrowserLauncher browser, bool virtualTime = false) => OAuthLogins.StartAsync(setup =>
    {
        setup.Options.Listener.Port = 0;
        setup.Options.Certificates = certificates.Options;
        setup.Browser = browser;
        setup.LoggerFactory = TestOutputLogging.Factory(output);
        if (virtualTime) setup.Hocon = ConfigurationFactory.ParseString(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""");
    });

    [Fact]
    public async Task One_instance_runs_many_logins_at_once_each_with_its_own_token()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);

        // AuthorizeForTokensAsync: every call its own login. (AuthorizeAsync serves the account's cached token once a
        // login has ended, so a call that starts after the first login ended would rightly get that one's token.)
        var tokens = (await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => flow.AuthorizeForTokensAsync(TimeSpan.FromSeconds(30)))))
            .Select(t => t.AccessToken).ToArray();

        Assert.Equal(20, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.StartsWith("at-", t));
        Assert.Equal(await flows.GetRedirectUriAsync(), new Uri(flow.RedirectUrl));
        Assert.Equal(Uri.EscapeDataString(flow.RedirectUrl), flow.QuotedRedirectUrl);
        Assert.Equal(0, server.Rejected);
    }

    [Fact]
    public async Task A_subclass_without_an_issuer_refuses_a_redirect_that_names_one_and_one_with_its_issuer_accepts_it()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.SendIssuer = true;
        await using var flows = await StartAsync(new HttpClientBrowser());

        // Unknown issuer: the iss names another authorization server as far as this login can tell (mix-up defence).
        var unknown = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);
        var refused = await Assert.ThrowsAsync<IssuerMismatchException>(() => unknown.AuthorizeAsync(30));
        Assert.Contains(server.BaseUrl, refused.Message);
        Assert.Equal(0, server.TokensIssued);

        var other = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, issuer: "https://other.example");
        await Assert.ThrowsAsync<IssuerMismatchException>(() => other.AuthorizeAsync(30));
        Assert.Equal(0, server.TokensIssued);

        var known = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, issuer: server.BaseUrl);
        Assert.StartsWith("at-", await known.AuthorizeAsync(30));
    }

    [Fact]
    public async Task A_subclass_that_ignores_the_verifier_works_with_a_provider_that_ignores_pkce()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.RequirePkce = false;
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: false);

        Assert.StartsWith("at-", await flow.AuthorizeAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_literal_port_that_never_sends_the_verifier_fails_with_a_message_that_names_the_fix()
    {
        // The original's subclass, ported line by line: its token POST has no code_verifier, and this provider, which
        // saw the code_challenge O8Actors added, refuses the code.
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var logins = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", logins, sendVerifier: false);

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(30));

        Assert.Contains("never read the PKCE verifier", failed.Message);
        Assert.Contains("send context.CodeVerifier as code_verifier", failed.Message);
        Assert.Contains("failed (TokenExchangeException)", failed.Message);
    }

    [Fact]
    public async Task A_literal_port_whose_token_endpoint_cannot_be_reached_gets_no_PKCE_hint()
    {
        // The token endpoint is a closed port: no answer came, so no missing code_verifier can be what failed.
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var logins = await StartAsync(new HttpClientBrowser());
        var closed = $"http://127.0.0.1:{O8Actors.TestSupport.FreePorts.Next()}/token";
        var flow = new ExampleFlow(closed, server.BaseUrl + "/authorize", logins, sendVerifier: false);

        var failed = await Assert.ThrowsAnyAsync<OAuthFlowException>(() => flow.AuthorizeAsync(30));

        Assert.DoesNotContain("PKCE", failed.Message);
        Assert.Contains("HttpRequestException", failed.Message);
    }

    [Fact]
    public async Task A_subclass_that_sends_the_verifier_gets_no_hint_when_its_exchange_fails()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.RefuseAllCodes = true;
        await using var logins = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", logins, sendVerifier: true);

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(30));

        Assert.DoesNotContain("PKCE verifier", failed.Message);
    }

    [Fact]
    public async Task Denial_raises_AuthorizationDeniedException_with_the_providers_error()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.DenyAll = true;
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);

        var denied = await Assert.ThrowsAsync<AuthorizationDeniedException>(() => flow.AuthorizeAsync(30));

        Assert.Equal("access_denied", denied.Error);
        Assert.Equal("The user refused", denied.ErrorDescription);
    }

    [Fact]
    public async Task A_failing_exchange_raises_TokenExchangeException()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.RefuseAllCodes = true;
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(30));

        Assert.Contains("Failed to obtain access token: invalid_grant", failed.Message);
    }

    /// <summary>
    /// A port that reads <c>access_token</c> by hand gets null (the provider answered <c>"access_token": null</c>) or an
    /// empty string: the login fails as a token exchange, and nothing is remembered, so the next call signs in again.
    /// Before, the login succeeded with no token, and every later call was answered with that "token" from the cache.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public async Task A_port_whose_exchange_returns_no_access_token_raises_TokenExchangeException(string? accessToken)
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new TokenlessFlow(server.BaseUrl + "/authorize", flows, accessToken);

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(30));
        var again = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(30));

        Assert.Contains("without an access token", failed.Message);
        Assert.Equal(2, flow.Exchanges);
        Assert.Contains("without an access token", again.Message);
    }

    private sealed class TokenlessFlow(string authorizeEndpoint, IOAuthLogins flows, string? accessToken)
        : OAuthFlow(PkceAuthorizationServer.ClientId, PkceAuthorizationServer.ClientSecret, "identify", logins: flows)
    {
        public int Exchanges;

        protected override string AuthUrl =>
            $"{authorizeEndpoint}?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}&response_type=code&scope={Uri.EscapeDataString(UserScopes)}";

        protected override Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Exchanges);
            return Task.FromResult(accessToken!);
        }
    }

    [Fact]
    public async Task No_redirect_within_the_timeout_raises_AuthorizationTimeoutException()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new NeverReturningBrowser(), virtualTime: true);
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);
        var scheduler = (TestScheduler)flows.System.Scheduler;
        var started = new TaskCompletionSource();
        using var subscription = flows.Events.Subscribe(new Observer(e => { if (e is AuthorizeUrlReadyEvent) started.TrySetResult(); }));

        var login = flow.AuthorizeAsync(TimeSpan.FromSeconds(30));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        scheduler.Advance(TimeSpan.FromSeconds(30));

        var timedOut = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => login);
        Assert.Equal(TimeSpan.FromSeconds(30), timedOut.Timeout);
        Assert.Contains("timed out", timedOut.Message);
    }

    /// <summary>A flow on an orchestrator whose browser never comes back, with its logins' first URL and end as tasks.</summary>
    private sealed class WaitingFlow : IAsyncDisposable
    {
        private readonly TaskCompletionSource _urlReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<LoginEndedEvent> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private PkceAuthorizationServer _server = null!;
        private IDisposable _subscription = null!;

        public OAuthLogins Logins { get; private set; } = null!;
        public ExampleFlow Flow { get; private set; } = null!;

        public Task UrlReady => _urlReady.Task.WaitAsync(TimeSpan.FromSeconds(30));
        public Task<LoginEndedEvent> Ended => _ended.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public static async Task<WaitingFlow> StartAsync(OAuthFlowPortTests tests)
        {
            var waiting = new WaitingFlow { _server = await PkceAuthorizationServer.StartAsync() };
            waiting.Logins = await tests.StartAsync(new NeverReturningBrowser());
            waiting.Flow = new ExampleFlow(waiting._server.BaseUrl + "/token", waiting._server.BaseUrl + "/authorize", waiting.Logins, sendVerifier: true);
            waiting._subscription = waiting.Logins.Events.Subscribe(new Observer(e =>
            {
                if (e is AuthorizeUrlReadyEvent) waiting._urlReady.TrySetResult();
                if (e is LoginEndedEvent end) waiting._ended.TrySetResult(end);
            }));
            return waiting;
        }

        public async ValueTask DisposeAsync()
        {
            _subscription.Dispose();
            await Logins.DisposeAsync();
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Cancelling_the_token_ends_the_login_as_cancelled()
    {
        await using var waiting = await WaitingFlow.StartAsync(this);
        using var cancellation = new CancellationTokenSource();

        var login = waiting.Flow.AuthorizeAsync(TimeSpan.FromSeconds(60), cancellation.Token);
        await waiting.UrlReady;
        await cancellation.CancelAsync();

        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => login);
        Assert.Equal(LoginOutcomeKind.Cancelled, (await waiting.Ended).Outcome);
        // The caller's own token, as `catch (OperationCanceledException e) when (e.CancellationToken == token)` expects
        // (before: the flow's internal linked token, already disposed).
        Assert.Equal(cancellation.Token, cancelled.CancellationToken);
    }

    [Fact]
    public async Task A_second_AuthorizeAsync_reuses_the_cached_account_until_it_signs_out()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);

        var first = await flow.AuthorizeAsync(timeoutSeconds: 30);
        var second = await flow.AuthorizeAsync(timeoutSeconds: 30);
        var cached = await flow.GetAccessTokenAsync(allowInteraction: false);

        Assert.Equal(first, second);
        Assert.Equal(first, cached.Token);
        Assert.Equal(new OAuthAccount(flow.Account.Provider, "default"), cached.Account);
        Assert.Equal([flow.Account], await flows.GetAccountsAsync(flow.Account.Provider));

        var signedOut = await flow.SignOutAsync();
        var third = await flow.AuthorizeAsync(timeoutSeconds: 30);

        Assert.Equal(RevocationOutcome.NotSupported, signedOut.Revocation);
        Assert.NotEqual(first, third);
    }

    /// <summary>
    /// Two parts of an app ask one flow for a token at once, with nothing cached (a GUI's start-up). Each used to try
    /// silently, find nothing and start a login of its own: two browser tabs, two consent screens, and the tab the user
    /// closed timed its call out. They share one login now.
    /// </summary>
    [Fact]
    public async Task Calls_made_at_once_with_nothing_cached_share_one_login()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var browser = new HeldBrowser();
        await using var flows = await StartAsync(browser);
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);

        var first = flow.AuthorizeAsync(timeoutSeconds: 30);
        await browser.Launched.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = flow.AuthorizeAsync(timeoutSeconds: 30);
        // The second call asks while the first one's browser is open: no second browser opens.
        await Assert.ThrowsAsync<TimeoutException>(() => browser.LaunchedAgain.Task.WaitAsync(TimeSpan.FromMilliseconds(500)));
        browser.Release.SetResult();

        Assert.Equal(await first.WaitAsync(TimeSpan.FromSeconds(30)), await second.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, browser.Launches);
    }

    /// <summary>A browser that completes its login only once released, and counts its launches.</summary>
    private sealed class HeldBrowser : IBrowserLauncher
    {
        private readonly HttpClientBrowser _browser = new();
        private int _launches;

        public int Launches => Volatile.Read(ref _launches);

        public TaskCompletionSource Launched { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource LaunchedAgain { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _launches) == 1) Launched.TrySetResult();
            else LaunchedAgain.TrySetResult();
            _ = NavigateWhenReleasedAsync(authorizeUrl);
            return Task.FromResult(BrowserLaunchResult.Opened("held"));
        }

        private async Task NavigateWhenReleasedAsync(Uri authorizeUrl)
        {
            await Release.Task;
            await _browser.LaunchAsync(authorizeUrl, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Disposing_a_flow_removes_its_provider_and_forgets_its_instance_only_tokens()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var flow = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true);
        await flow.AuthorizeAsync(timeoutSeconds: 30);
        var provider = flow.Account.Provider;
        Assert.Equal([flow.Account], await flows.GetAccountsAsync(provider));

        await flow.DisposeAsync();

        await Assert.ThrowsAsync<UnknownProviderException>(() => flows.GetRedirectUriAsync(provider));
        Assert.Empty(await flows.GetAccountsAsync(provider));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flow.AuthorizeAsync(timeoutSeconds: 30));
        await flow.DisposeAsync(); // twice is harmless
    }

    [Fact]
    public async Task Disposing_a_flow_ends_its_login_that_waits_for_the_browser_at_once_not_at_its_timeout()
    {
        await using var waiting = await WaitingFlow.StartAsync(this);

        var login = waiting.Flow.AuthorizeForTokensAsync(TimeSpan.FromMinutes(10));
        await waiting.UrlReady;
        await waiting.Flow.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => login.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(LoginOutcomeKind.Cancelled, (await waiting.Ended).Outcome);
        Assert.Equal(0, (await waiting.Logins.GetStatusAsync()).LoginsInFlight);
    }

    [Fact]
    public async Task Disposing_a_flow_with_a_cache_name_keeps_its_tokens_and_the_registration_a_later_flow_of_that_name_made()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var earlier = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, cacheName: "kept");
        var token = await earlier.AuthorizeAsync(timeoutSeconds: 30);
        var later = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, cacheName: "kept");
        Assert.Equal(token, (await later.GetAccessTokenAsync(allowInteraction: false)).Token); // registers it under the shared name

        await earlier.DisposeAsync();

        // The later flow's registration stands, and the account it shares by name is still signed in.
        Assert.Equal(token, await later.AuthorizeAsync(timeoutSeconds: 30));
        await flows.GetRedirectUriAsync(later.Account.Provider);
        await later.DisposeAsync();
        Assert.Equal([later.Account], await flows.GetAccountsAsync(later.Account.Provider));
        await Assert.ThrowsAsync<UnknownProviderException>(() => flows.GetRedirectUriAsync(later.Account.Provider));
    }

    [Fact]
    public async Task Disposing_the_later_flow_of_a_cache_name_hands_the_name_to_the_earlier_one_still_live()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var earlier = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, cacheName: "handed");
        var token = await earlier.AuthorizeAsync(timeoutSeconds: 30);
        var later = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true, cacheName: "handed");
        Assert.Equal(token, (await later.GetAccessTokenAsync(allowInteraction: false)).Token); // its registration replaces the earlier's

        await later.DisposeAsync();

        // The earlier flow, still live, keeps its provider (it was unregistered under it: every later login or refresh
        // failed with UnknownProviderException), until it goes too.
        await flows.GetRedirectUriAsync(earlier.Account.Provider);
        Assert.Equal(token, await earlier.AuthorizeAsync(timeoutSeconds: 30));
        await earlier.DisposeAsync();
        await Assert.ThrowsAsync<UnknownProviderException>(() => flows.GetRedirectUriAsync(earlier.Account.Provider));
    }

    /// <summary>
    /// Two live flows of one CacheName share the provider name; each heard every login of that name, so a login said it
    /// waits twice (the console line twice; a dialog of one flow showed the other's login). The flow whose call runs the
    /// login says it, though the other flow's AuthUrl (the registration in place) built its URL.
    /// </summary>
    [Fact]
    public async Task Flows_sharing_a_cache_name_say_once_per_login_that_it_waits()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new HttpClientBrowser());
        var earlierWaiting = new ConcurrentQueue<Uri>();
        var laterWaiting = new ConcurrentQueue<Uri>();
        await using var earlier = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true,
            cacheName: "said-once", waiting: earlierWaiting);
        await using var later = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true,
            cacheName: "said-once", waiting: laterWaiting);
        await earlier.AuthorizeAsync(timeoutSeconds: 30);
        await later.GetAccessTokenAsync(allowInteraction: false); // registers the later flow: its strategy now serves the name

        await later.AuthorizeForTokensAsync(TimeSpan.FromSeconds(30));
        await earlier.AuthorizeForTokensAsync(TimeSpan.FromSeconds(30));

        // Each of the three logins said it waits once, by the flow whose call ran it: the earlier flow's two (the second
        // built by the later flow's AuthUrl), the later flow's one. The line comes from the event stream, which may
        // deliver it after the login ended: wait for all three.
        await TestSupport.Eventually.TrueAsync(() => earlierWaiting.Count + laterWaiting.Count >= 3, "every login said it waits",
            TimeSpan.FromSeconds(10));
        Assert.Equal(2, earlierWaiting.Count);
        Assert.Single(laterWaiting);
        Assert.Equal(3, earlierWaiting.Concat(laterWaiting).Select(u => u.Query).Distinct().Count());
    }

    /// <summary>
    /// Two live flows of one CacheName for two users (their own AccountKey), each with a login waiting at once: each heard
    /// the other's login too, so a dialog per user showed the other user's URL. Each flow says its own user's logins only.
    /// </summary>
    [Fact]
    public async Task Flows_sharing_a_cache_name_for_two_users_each_say_only_their_own_users_login_waits()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var flows = await StartAsync(new NeverReturningBrowser());
        var aliceWaiting = new ConcurrentQueue<Uri>();
        var bobWaiting = new ConcurrentQueue<Uri>();
        await using var alice = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true,
            cacheName: "two-users", waiting: aliceWaiting, accountKey: "alice");
        await using var bob = new ExampleFlow(server.BaseUrl + "/token", server.BaseUrl + "/authorize", flows, sendVerifier: true,
            cacheName: "two-users", waiting: bobWaiting, accountKey: "bob");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var wait = TimeSpan.FromSeconds(10);

        var aliceFirst = alice.AuthorizeForTokensAsync(TimeSpan.FromSeconds(60), cancel.Token);
        await TestSupport.Eventually.TrueAsync(() => !aliceWaiting.IsEmpty, "alice's login said it waits", wait);
        // Bob's flow registers last: its AuthUrl builds both users' URLs from here on.
        var bobs = bob.AuthorizeForTokensAsync(TimeSpan.FromSeconds(60), cancel.Token);
        await TestSupport.Eventually.TrueAsync(() => !bobWaiting.IsEmpty, "bob's login said it waits", wait);
        var bobsUrl = Assert.Single(bobWaiting);
        var aliceSecond = alice.AuthorizeForTokensAsync(TimeSpan.FromSeconds(60), cancel.Token);

        // Each flow hears events in the order they were published: once alice's flow has said her second login, it has
        // heard bob's login before it.
        await TestSupport.Eventually.TrueAsync(() => aliceWaiting.Count >= 2 && aliceWaiting.Last() != bobsUrl, "alice's second login said it waits", wait);
        Assert.DoesNotContain(bobsUrl, aliceWaiting);
        Assert.Equal(2, aliceWaiting.Count);
        Assert.Equal([bobsUrl], bobWaiting); // alice's second login was built by bob's AuthUrl, and said by alice's flow only
        await cancel.CancelAsync();
        foreach (var call in new[] { aliceFirst, bobs, aliceSecond })
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    private sealed class Observer(Action<LoginEvent> onNext) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value) => onNext(value);
        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
