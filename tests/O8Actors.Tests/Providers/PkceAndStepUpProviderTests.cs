using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Lifecycle;

namespace O8Actors.Tests.Providers;

/// <summary>
/// What the provider actor puts on the authorize request and what it lets through to the token endpoint: the PKCE
/// challenge (and so the verifier) exactly when the provider takes it, the app's <c>o8.login.pkce = off</c> only for a
/// confidential client, and a step-up login only on a strategy that enforces it.
/// </summary>
public sealed class PkceAndStepUpProviderTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");
    private static readonly Uri TokenEndpoint = new("https://token.example.test/token");

    private static PrepareAuthorization Prepare(string provider, bool pkceOff = false, IReadOnlyDictionary<string, string>? extra = null) =>
        new(provider, "l1", "state-l1", ProviderTestData.Challenge, RedirectUri, [], extra ?? new Dictionary<string, string>())
        {
            PkceOffForConfidentialClient = pkceOff,
        };

    private async Task<IActorRef> Registry(ProviderStrategy strategy)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        Assert.Equal(strategy.Name, (await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait)).Provider);
        return registry;
    }

    private static GenericOAuthStrategy Generic(ClientAuthentication auth, bool usePkce = true)
    {
        var options = ProviderTestData.Options(TokenEndpoint, auth);
        options.UsePkce = usePkce;
        return new GenericOAuthStrategy(options);
    }

    [Fact]
    public async Task A_confidential_client_that_opts_out_of_PKCE_gets_no_challenge_and_its_login_is_told_so()
    {
        var registry = await Registry(Generic(ClientAuthentication.Basic, usePkce: false));

        registry.Tell(Prepare("test"));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.False(prepared.PkceUsed);
        Assert.DoesNotContain("code_challenge", ProviderTestData.Query(prepared.AuthorizeUrl).Keys);
    }

    [Fact]
    public async Task A_provider_that_takes_PKCE_gets_the_challenge_and_its_login_is_told_so()
    {
        var registry = await Registry(Generic(ClientAuthentication.Basic));

        registry.Tell(Prepare("test"));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.True(prepared.PkceUsed);
        Assert.Equal(ProviderTestData.Challenge, ProviderTestData.Query(prepared.AuthorizeUrl)["code_challenge"]);
    }

    [Fact]
    public async Task The_apps_PKCE_switch_turns_it_off_for_a_confidential_client_only()
    {
        var confidential = await Registry(Generic(ClientAuthentication.Basic));
        confidential.Tell(Prepare("test", pkceOff: true));
        var withSecret = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.False(withSecret.PkceUsed);
        Assert.DoesNotContain("code_challenge", ProviderTestData.Query(withSecret.AuthorizeUrl).Keys);

        // A public client: only PKCE protects its codes, so o8.login.pkce = off does not remove it.
        var publicClient = await Registry(Generic(ClientAuthentication.None));
        publicClient.Tell(Prepare("test", pkceOff: true));
        var withoutSecret = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.True(withoutSecret.PkceUsed);
        Assert.Equal(ProviderTestData.Challenge, ProviderTestData.Query(withoutSecret.AuthorizeUrl)["code_challenge"]);
    }

    [Fact]
    public async Task The_apps_PKCE_switch_leaves_it_on_for_a_strategy_of_the_apps_own_which_may_be_a_public_client()
    {
        // Nothing says whether the app's strategy has a secret: a stolen code of a public client would be redeemable.
        var registry = await Registry(new CustomStrategy());

        registry.Tell(Prepare("custom", pkceOff: true));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.True(prepared.PkceUsed);
    }

    [Fact]
    public async Task A_step_up_login_on_a_strategy_that_does_not_enforce_it_is_refused_before_any_URL_is_built()
    {
        var custom = new CustomStrategy();
        var registry = await Registry(custom);

        registry.Tell(Prepare("custom", extra: new Dictionary<string, string> { ["acr_values"] = "mfa" }));

        var refused = ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal(LoginFailure.IdTokenInvalid, refused.Failure);
        Assert.Contains("'custom'", refused.Reason);
        Assert.Contains("EnforcesStepUp", refused.Reason);
        Assert.Equal(0, custom.UrlsBuilt);

        // Without a step-up the same strategy builds its URL as before.
        registry.Tell(Prepare("custom"));
        ExpectMsg<AuthorizationPrepared>(Wait);
    }

    [Fact]
    public async Task A_step_up_exchange_on_a_strategy_that_does_not_enforce_it_is_refused_before_the_code_is_sent()
    {
        // As after a re-registration: the login's URL came from another strategy, its code reaches this one.
        var custom = new CustomStrategy();
        var registry = await Registry(custom);

        registry.Tell(new ExchangeCode("custom", "l1", "the-code", null, RedirectUri, AuthenticatedNotBefore: DateTimeOffset.UtcNow));

        var failed = ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("'custom'", failed.Reason);
        Assert.Equal(0, custom.Exchanges);
    }

    [Fact]
    public async Task A_providers_own_step_up_on_a_strategy_that_does_not_enforce_it_refuses_every_login_before_any_URL_is_built()
    {
        var custom = new CustomStrategy { Required = new StepUp.Requirement(null, ["urn:mfa"]) };
        var registry = await Registry(custom);

        // The login asks for nothing itself: the provider's requirement is enough.
        registry.Tell(Prepare("custom"));

        var refused = ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal(LoginFailure.IdTokenInvalid, refused.Failure);
        Assert.Contains("EnforcesStepUp", refused.Reason);
        Assert.Equal(0, custom.UrlsBuilt);
    }

    [Fact]
    public async Task A_prepared_login_learns_its_providers_step_up_and_the_shorter_max_age_goes_on_the_request()
    {
        var options = WithIdTokens(ProviderTestData.Options(TokenEndpoint));
        options.AuthorizeParameters["max_age"] = "60";
        options.AuthorizeParameters["acr_values"] = "urn:mfa urn:phr";
        var registry = await Registry(new GenericOAuthStrategy(options));

        registry.Tell(Prepare("test", extra: new Dictionary<string, string> { ["max_age"] = "3600" }));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal(TimeSpan.FromSeconds(60), prepared.RequiredStepUp?.MaxAge);
        Assert.Equal(["urn:mfa", "urn:phr"], prepared.RequiredStepUp?.AcrValues);
        var query = ProviderTestData.Query(prepared.AuthorizeUrl);
        Assert.Equal("60", query["max_age"]);
        Assert.Equal("urn:mfa urn:phr", query["acr_values"]);
    }

    /// <summary>A registry with a provider that validates ID tokens and requires <paramref name="acrValues"/> of every login.</summary>
    private async Task<IActorRef> RegistryRequiringAcr(string acrValues)
    {
        var options = WithIdTokens(ProviderTestData.Options(TokenEndpoint));
        options.AuthorizeParameters["acr_values"] = acrValues;
        return await Registry(new GenericOAuthStrategy(options));
    }

    [Fact]
    public async Task A_logins_own_acr_values_go_on_the_request_narrowed_to_the_providers()
    {
        var registry = await RegistryRequiringAcr("urn:mfa urn:phr");

        // Before: the login's values went out as they were, the weaker urn:pwd among them.
        registry.Tell(Prepare("test", extra: new Dictionary<string, string> { ["acr_values"] = "urn:pwd urn:phr" }));

        Assert.Equal("urn:phr", ProviderTestData.Query(ExpectMsg<AuthorizationPrepared>(Wait).AuthorizeUrl)["acr_values"]);
    }

    [Fact]
    public async Task A_login_whose_acr_values_share_none_with_the_providers_is_refused_before_any_URL_is_built()
    {
        var registry = await RegistryRequiringAcr("urn:mfa");

        // Before: urn:pwd replaced the operator's urn:mfa on the request and in the ID token's check.
        registry.Tell(Prepare("test", extra: new Dictionary<string, string> { ["acr_values"] = "urn:pwd" }));

        var refused = ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal(LoginFailure.IdTokenInvalid, refused.Failure);
        Assert.Contains("urn:mfa", refused.Reason);
        Assert.DoesNotContain("urn:pwd", refused.Reason); // the login's values may come from a user's query: not quoted
    }

    [Theory]
    [InlineData("acr_values", "urn:mfa", true, "validates no ID tokens")]
    [InlineData("max_age", "0", true, "validates no ID tokens")]
    [InlineData("max_age", "ten minutes", false, "whole number of seconds")]
    [InlineData("acr_values", " ", false, "empty acr_values")]
    public void Provider_step_up_parameters_that_could_never_be_checked_are_refused_when_the_provider_is_built(
        string name, string value, bool withoutKeys, string expected)
    {
        var options = ProviderTestData.Options(TokenEndpoint);
        if (!withoutKeys) WithIdTokens(options);
        options.AuthorizeParameters[name] = value;

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));

        Assert.Contains(expected, error.Message);
        if (!withoutKeys)
            Assert.Throws<ArgumentException>(() => new OidcDiscoveryStrategy(new OidcDiscoveryOptions
            {
                Name = "oidc", Issuer = "https://issuer.example.test", ClientId = "c",
                AuthorizeParameters = new Dictionary<string, string> { [name] = value },
            }));
    }

    /// <summary><paramref name="options"/> with a key set and an issuer: the provider validates ID tokens.</summary>
    private static GenericOAuthOptions WithIdTokens(GenericOAuthOptions options)
    {
        options.JwksUri = new Uri("https://auth.example.test/jwks");
        options.Issuer = "https://auth.example.test";
        return options;
    }

    [Fact]
    public void The_built_in_strategies_enforce_step_up_and_a_strategy_of_ones_own_does_not_unless_it_says_so()
    {
        Assert.True(Generic(ClientAuthentication.Basic).EnforcesStepUp);
        Assert.True(new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "oidc", Issuer = "https://issuer.example.test", ClientId = "c" }).EnforcesStepUp);
        Assert.False(new CustomStrategy().EnforcesStepUp);
    }

    [Fact]
    public async Task A_whole_step_up_login_on_a_custom_strategy_fails_clearly_and_never_opens_the_browser()
    {
        var browser = new RecordingBrowser();
        var custom = new CustomStrategy();
        await using var logins = await LoginsTestSupport.StartAsync(browser, setup => setup.Providers.Add(custom));

        var outcome = await logins.RunAsync("custom", new AuthorizationRequest(Timeout: TimeSpan.FromSeconds(20)) { AcrValues = ["mfa"] })
            .WaitAsync(TimeSpan.FromSeconds(30));

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("'custom'", failed.Reason);
        Assert.Contains("acr_values", failed.Reason);
        Assert.Empty(browser.Opened);
        Assert.Equal(0, custom.UrlsBuilt);
        await Assert.ThrowsAsync<IdTokenValidationException>(() =>
            logins.AuthorizeAsync("custom", new AuthorizationRequest(Timeout: TimeSpan.FromSeconds(20)) { MaxAge = TimeSpan.Zero }));
    }

    /// <summary>A provider of the app's own: builds its own URL, exchanges without looking at any ID token.</summary>
    private sealed class CustomStrategy : ProviderStrategy
    {
        public int UrlsBuilt;
        public int Exchanges;

        public StepUp.Requirement? Required { get; init; }

        public override string Name => "custom";

        internal override StepUp.Requirement? RequiredStepUp => Required;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context)
        {
            Interlocked.Increment(ref UrlsBuilt);
            return new Uri($"https://custom.example.test/authorize?state={Uri.EscapeDataString(context.State)}");
        }

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Exchanges);
            return Task.FromResult(new TokenSet("access", "Bearer"));
        }
    }
}
