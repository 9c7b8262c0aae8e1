using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using O8Actors.Dpop;
using O8Actors.IntegrationTests.Browser;
using O8Actors.TestSupport;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>oidc-provider with a DPoP-bound client (nonces required, no replay) and 5-second access tokens.</summary>
public sealed class DpopFlowsFixture() : FlowsFixture(TimeSpan.FromSeconds(5))
{
    /// <inheritdoc />
    protected override bool UseDpop => true;
}

/// <summary>
/// RFC 9449 against a real provider that requires DPoP for the client and a nonce in every proof, through real Chromium:
/// the code and the tokens are bound to the login's key (<c>dpop_jkt</c>, <c>cnf.jkt</c> in introspection), the
/// userinfo endpoint accepts the token only with a fresh proof (a bearer use and a replayed proof are refused; both
/// handlers send it so), and a silent refresh keeps the binding.
/// </summary>
public sealed class DpopScenarioTests(DpopFlowsFixture fixture) : IClassFixture<DpopFlowsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private async Task<LoginSucceeded> SignInAsync(string user)
    {
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request(user)).WaitAsync(Wait);
        return Assert.IsType<LoginSucceeded>(outcome);
    }

    private async Task<string?> BoundThumbprintAsync(string token)
    {
        using var introspection = await fixture.Provider.IntrospectAsync(fixture.Client, token);
        var root = introspection.RootElement;
        Assert.True(root.GetProperty("active").GetBoolean());
        return root.TryGetProperty("cnf", out var cnf) ? cnf.GetProperty("jkt").GetString() : null;
    }

    [Fact]
    public async Task A_login_binds_its_code_and_tokens_to_its_key()
    {
        var signedIn = await SignInAsync("approve-dpop-bound");
        var tokens = signedIn.Tokens;

        Assert.Equal("DPoP", tokens.TokenType, ignoreCase: true);
        var key = Assert.IsType<DpopKey>(tokens.DpopKey);
        Assert.Equal(key.Thumbprint, await BoundThumbprintAsync(tokens.AccessToken));
        var launch = fixture.Driver.Launches.Single(l => ChromiumLoginDriver.LoginHint(l.AuthorizeUrl) == "approve-dpop-bound");
        Assert.Contains("dpop_jkt=" + key.Thumbprint, launch.AuthorizeUrl.Query);
    }

    [Fact]
    public async Task The_access_token_handler_sends_a_bound_token_with_a_proof_never_as_a_bearer()
    {
        var signedIn = await SignInAsync("approve-dpop-access-token-handler");
        var recorder = new LastRequestRecorder { InnerHandler = new HttpClientHandler() };
        using var api = new HttpClient(new AccessTokenHandler(fixture.Flows, signedIn.Account!) { InnerHandler = recorder });

        // oidc-provider requires a nonce in every proof: the first call learns it (401 use_dpop_nonce) and is sent again.
        using var me = await api.GetAsync(fixture.Provider.UserInfoEndpoint).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
        Assert.Equal("approve-dpop-access-token-handler", body.RootElement.GetProperty("sub").GetString());
        Assert.Equal("DPoP", recorder.LastAuthorization?.Scheme);
        Assert.NotNull(recorder.LastProof);
        Assert.DoesNotContain(recorder.Schemes, scheme => string.Equals(scheme, "Bearer", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_userinfo_endpoint_takes_the_token_with_a_fresh_proof_and_refuses_it_as_bearer_or_with_a_replayed_proof()
    {
        var signedIn = await SignInAsync("approve-dpop-userinfo");
        var tokens = signedIn.Tokens;
        var recorder = new LastRequestRecorder { InnerHandler = new HttpClientHandler() };
        // On the account's behalf: its cached token and the key that token is bound to.
        using var dpop = new HttpClient(new DpopHandler(fixture.Flows, signedIn.Account!) { InnerHandler = recorder });

        // The first call learns the server's nonce (401 use_dpop_nonce) and is retried once by the handler.
        using (var me = await dpop.GetAsync(fixture.Provider.UserInfoEndpoint))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
            Assert.Equal("approve-dpop-userinfo", body.RootElement.GetProperty("sub").GetString());
        }

        using var plain = new HttpClient();
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, fixture.Provider.UserInfoEndpoint))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            using var refused = await plain.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // An attacker who captured a whole request (token and proof) sends it again.
        using var replay = new HttpRequestMessage(HttpMethod.Get, fixture.Provider.UserInfoEndpoint);
        replay.Headers.Authorization = recorder.LastAuthorization;
        replay.Headers.TryAddWithoutValidation("DPoP", recorder.LastProof);
        using var replayed = await plain.SendAsync(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
    }

    [Fact]
    public async Task A_silent_refresh_keeps_the_tokens_bound_to_the_same_key()
    {
        var signedIn = await SignInAsync("approve-dpop-refresh");
        var tokens = signedIn.Tokens;
        await Eventually.TrueAsync(() => DateTimeOffset.UtcNow >= tokens.ExpiresAt!.Value - TimeSpan.FromSeconds(2),
            "the access token is due for refresh", Wait);

        var refreshed = await fixture.Flows.GetAccessTokenAsync(signedIn.Account!).WaitAsync(Wait);

        Assert.NotEqual(tokens.AccessToken, refreshed.Token);
        Assert.Equal("DPoP", refreshed.TokenType, ignoreCase: true);
        Assert.Equal(tokens.DpopKey!.Thumbprint, await BoundThumbprintAsync(refreshed.Token));
    }

    /// <summary>Keeps the last request's Authorization and DPoP headers, as an eavesdropper on the app's side would.</summary>
    private sealed class LastRequestRecorder : DelegatingHandler
    {
        public AuthenticationHeaderValue? LastAuthorization { get; private set; }

        public string? LastProof { get; private set; }

        /// <summary>The scheme of every request's Authorization header, in order.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string?> Schemes { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastAuthorization = request.Headers.Authorization;
            Schemes.Enqueue(request.Headers.Authorization?.Scheme);
            LastProof = request.Headers.TryGetValues("DPoP", out var values) ? values.Single() : null;
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task UserInfo_presents_the_bound_token_with_a_proof_and_the_servers_nonce()
    {
        var signedIn = await SignInAsync("approve-dpop-get-userinfo");

        var info = await fixture.Flows.GetUserInfoAsync(signedIn.Account!).WaitAsync(Wait);

        Assert.Equal("approve-dpop-get-userinfo", info.Subject);
        Assert.Equal(signedIn.Account, info.Account);
    }
}
