using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using O8Actors.Dpop;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// DPoP (RFC 9449) in the sandbox, played with O8Actors' own DPoP logins (<see cref="O8TestHarnessOptions.UseDpop"/>):
/// tokens bound to the login's key (<c>token_type=DPoP</c>, <c>cnf.jkt</c> in introspection), nonces required,
/// a refresh that stays bound, and <c>/userinfo</c> refusing what a thief would send: the bound token as a bearer token,
/// with another key's proof, or with a captured proof sent again. A client that sends no proof is refused.
/// </summary>
public sealed class DpopSandboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<O8TestHarness> StartAsync() => O8TestHarness.StartAsync(new O8TestHarnessOptions { UseDpop = true });

    /// <summary>Introspects <paramref name="token"/> as the harness's client (RFC 7662).</summary>
    private static async Task<JsonDocument> IntrospectAsync(O8TestHarness o8, string token) =>
        JsonDocument.Parse(await HarnessAccounts.PostTokenAsClientAsync(o8, o8.Sandbox.IntrospectionEndpoint, token));

    [Fact]
    public async Task A_login_gets_tokens_bound_to_its_key_and_userinfo_takes_them_with_a_proof()
    {
        await using var o8 = await StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);

        Assert.Equal("DPoP", tokens.TokenType);
        var key = Assert.IsType<DpopKey>(tokens.DpopKey);
        using (var introspection = await IntrospectAsync(o8, tokens.AccessToken))
        {
            Assert.Equal("DPoP", introspection.RootElement.GetProperty("token_type").GetString());
            Assert.Equal(key.Thumbprint, introspection.RootElement.GetProperty("cnf").GetProperty("jkt").GetString());
        }
        // The code exchange was asked for a nonce first (the sandbox requires them) and sent again with it.
        Assert.True(o8.Sandbox.Counters.Errors("use_dpop_nonce") >= 1);

        using var api = new HttpClient(new AccessTokenHandler(o8.Logins, account) { InnerHandler = new SocketsHttpHandler() });
        using var me = await api.GetAsync(o8.Sandbox.UserInfoEndpoint).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
        Assert.Equal("alice", body.RootElement.GetProperty("sub").GetString());
    }

    /// <summary>
    /// The key an app is handed is the account's own: disposed after use (as <c>IDisposable</c> invites), it used to
    /// break that account's every later API call (<c>ObjectDisposedException</c>) and refresh.
    /// </summary>
    [Fact]
    public async Task An_app_that_disposes_the_key_it_was_handed_leaves_the_account_signing_its_calls_and_refreshes()
    {
        await using var o8 = await StartAsync();
        var (account, _) = await HarnessAccounts.SignInAsync(o8);
        using (var handed = (await o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait)).DpopKey!)
            Assert.NotNull(handed.Thumbprint);

        using var api = new HttpClient(new AccessTokenHandler(o8.Logins, account) { InnerHandler = new SocketsHttpHandler() });
        using (var me = await api.GetAsync(o8.Sandbox.UserInfoEndpoint).WaitAsync(Wait))
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.NotNull(renewed.DpopKey);
    }

    [Fact]
    public async Task A_refresh_stays_bound_to_the_same_key()
    {
        await using var o8 = await StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);

        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.NotEqual(tokens.AccessToken, renewed.Token);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(tokens.DpopKey!.Thumbprint, renewed.DpopKey?.Thumbprint);
        using var introspection = await IntrospectAsync(o8, renewed.Token);
        Assert.Equal(tokens.DpopKey.Thumbprint, introspection.RootElement.GetProperty("cnf").GetProperty("jkt").GetString());
    }

    [Fact]
    public async Task Userinfo_refuses_the_bound_token_as_a_bearer_with_another_keys_proof_or_with_a_replayed_proof()
    {
        await using var o8 = await StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var plain = new HttpClient();

        // A thief who has the token but not the key sends it as a bearer token.
        using (var asBearer = new HttpRequestMessage(HttpMethod.Get, o8.Sandbox.UserInfoEndpoint))
        {
            asBearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            using var refused = await plain.SendAsync(asBearer);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString());
        }

        // ... or signs proofs with a key of their own.
        using (var thiefKey = DpopKey.Create())
        using (var thief = new HttpClient(new DpopHandler(thiefKey, _ => ValueTask.FromResult(tokens.AccessToken)) { InnerHandler = new SocketsHttpHandler() }))
        using (var refused = await thief.GetAsync(o8.Sandbox.UserInfoEndpoint))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.StartsWith("DPoP", refused.Headers.WwwAuthenticate.ToString());
        }

        // ... or captures a whole request, token and proof, and sends it again.
        var recorder = new ProofRecorder { InnerHandler = new SocketsHttpHandler() };
        using (var owner = new HttpClient(new AccessTokenHandler(o8.Logins, account) { InnerHandler = recorder }))
        using (var accepted = await owner.GetAsync(o8.Sandbox.UserInfoEndpoint))
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var (authorization, proof) = recorder.Sent.Last();
        using var replay = new HttpRequestMessage(HttpMethod.Get, o8.Sandbox.UserInfoEndpoint);
        replay.Headers.Authorization = authorization;
        replay.Headers.TryAddWithoutValidation("DPoP", proof);
        using var replayed = await plain.SendAsync(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        Assert.Contains("invalid_dpop_proof", replayed.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_client_that_sends_no_proof_is_refused_when_DPoP_is_required()
    {
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions
        {
            ConfigureSandbox = sandbox => sandbox.Dpop = SandboxDpop.Required,
        });

        var result = await o8.RunAsync(LoginScript.Approve("bob")).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(result.Outcome);
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Contains("invalid_dpop_proof", failed.Reason);
        Assert.Equal(0, o8.Sandbox.Counters.TokensIssued);
    }

    [Theory]
    [InlineData(SandboxDpop.Off, false)]
    [InlineData(SandboxDpop.Optional, true)]
    [InlineData(SandboxDpop.Required, true)]
    public async Task Discovery_advertises_ES256_proofs_only_while_DPoP_is_on(SandboxDpop dpop, bool advertised)
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { Dpop = dpop });
        using var http = new HttpClient();

        using var metadata = JsonDocument.Parse(await http.GetStringAsync(sandbox.DiscoveryEndpoint));

        var found = metadata.RootElement.TryGetProperty("dpop_signing_alg_values_supported", out var algorithms);
        Assert.Equal(advertised, found);
        if (found) Assert.Equal(["ES256"], algorithms.EnumerateArray().Select(a => a.GetString()));
    }

    /// <summary>Keeps the Authorization and DPoP headers of every request it passes on.</summary>
    private sealed class ProofRecorder : DelegatingHandler
    {
        public ConcurrentQueue<(AuthenticationHeaderValue? Authorization, string? Proof)> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue((request.Headers.Authorization, request.Headers.TryGetValues("DPoP", out var values) ? values.Single() : null));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
