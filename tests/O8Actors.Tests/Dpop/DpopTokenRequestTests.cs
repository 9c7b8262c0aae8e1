using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using O8Actors.Dpop;
using O8Actors.Providers;
using O8Actors.Tests.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Dpop;

/// <summary>Token requests of a DPoP provider (RFC 9449 section 5) against a token endpoint on loopback.</summary>
public sealed class DpopTokenRequestTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private readonly DpopKey _key = DpopKey.Create();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _key.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy()
    {
        var options = Options(_server.Url("/token"), ClientAuthentication.Basic);
        options.UseDpop = true;
        return new GenericOAuthStrategy(options);
    }

    private static string Tokens(string type) =>
        $$"""{"access_token":"at-1","token_type":"{{type}}","expires_in":3600,"refresh_token":"rt-1"}""";

    [Fact]
    public async Task The_exchange_carries_a_proof_for_the_token_endpoint_and_the_tokens_keep_the_key()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("DPoP"));

        var tokens = await Strategy().ExchangeCodeAsync(Exchange() with { DpopKey = _key }, _http, CancellationToken.None);

        var proof = new JsonWebToken(Assert.Single(_server.Requests).Headers["DPoP"]);
        Assert.Equal("POST", proof.GetClaim("htm").Value);
        Assert.Equal(_server.Url("/token").AbsoluteUri, proof.GetClaim("htu").Value);
        Assert.False(proof.TryGetClaim("ath", out _)); // no access token yet
        Assert.Same(_key, tokens.DpopKey);
    }

    [Fact]
    public async Task A_refresh_without_a_key_is_not_sent_unbound_to_a_server_that_would_answer_with_a_bearer_token()
    {
        // A lenient server: it takes the refresh token without a proof and answers with a bearer token.
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("Bearer"));

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            Strategy().RefreshAsync(new RefreshContext("rt-0"), _http, CancellationToken.None));

        // Before: the refresh went out and its bearer tokens came back as the account's.
        Assert.Contains("no DPoP key", error.Message);
        Assert.DoesNotContain("rt-0", error.Message);
        Assert.Empty(_server.Requests);
    }

    /// <summary>
    /// A login prepared before its provider was registered again with DPoP on holds no key: its code went out unbound,
    /// and a lenient server's bearer tokens were taken as the login's at a provider the app binds tokens at (as a device
    /// login's polls were). Neither is sent now; the login fails naming why, and nothing secret.
    /// </summary>
    [Fact]
    public async Task A_code_or_device_code_without_a_key_is_not_sent_unbound_either()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("Bearer"));
        var options = Options(_server.Url("/token"), ClientAuthentication.Basic);
        options.UseDpop = true;
        options.DeviceAuthorizationEndpoint = _server.Url("/device");
        var strategy = new GenericOAuthStrategy(options);

        var exchange = await Assert.ThrowsAsync<TokenExchangeException>(() => strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));
        var poll = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            strategy.PollDeviceTokenAsync(new DeviceTokenContext("device-code-1"), _http, CancellationToken.None));

        Assert.Contains("no DPoP key came with the authorization code exchange", exchange.Message);
        Assert.DoesNotContain(Exchange().Code, exchange.Message);
        Assert.Contains("no DPoP key came with the device token request", poll.Message);
        Assert.DoesNotContain("device-code-1", poll.Message);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_use_dpop_nonce_answer_is_retried_once_with_the_nonce_and_the_next_request_carries_it_at_once()
    {
        var calls = 0;
        _server.Handler = (context, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.Headers["DPoP-Nonce"] = "nonce-1";
                return RecordingServer.Respond(context, 400, "application/json", """{"error":"use_dpop_nonce","error_description":"nonce required"}""");
            }

            context.Response.Headers["DPoP-Nonce"] = "nonce-1";
            return RecordingServer.Respond(context, 200, "application/json", Tokens("DPoP"));
        };
        var strategy = Strategy();

        await strategy.ExchangeCodeAsync(Exchange() with { DpopKey = _key }, _http, CancellationToken.None);
        await strategy.RefreshAsync(new RefreshContext("rt-1") { DpopKey = _key }, _http, CancellationToken.None);

        var proofs = _server.Requests.Select(r => new JsonWebToken(r.Headers["DPoP"])).ToList();
        Assert.Equal(3, proofs.Count);
        Assert.False(proofs[0].TryGetClaim("nonce", out _));
        Assert.Equal("nonce-1", proofs[1].GetClaim("nonce").Value);
        Assert.Equal("nonce-1", proofs[2].GetClaim("nonce").Value);
        Assert.NotEqual(proofs[0].Id, proofs[1].Id); // a proof is used once
    }

    [Fact]
    public async Task A_server_that_ignores_the_proof_and_answers_Bearer_fails_the_exchange_rather_than_passing_an_unbound_token_off_as_bound()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("Bearer"));

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            Strategy().ExchangeCodeAsync(Exchange() with { DpopKey = _key }, _http, CancellationToken.None));

        Assert.Contains("not DPoP", error.Message);
        Assert.DoesNotContain("at-1", error.Message);
        // The refused tokens go with the failure, for the provider actor to revoke (ExchangeQueueTests).
        Assert.Equal(("at-1", "rt-1"), (error.Issued?.AccessToken, error.Issued?.RefreshToken));
    }

    [Fact]
    public async Task A_refresh_answered_Bearer_fails_without_offering_its_tokens_for_revocation()
    {
        // The server may not rotate: its refresh token is then the account's own, still good once DPoP is fixed there.
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("Bearer"));

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            Strategy().RefreshAsync(new RefreshContext("rt-0") { DpopKey = _key }, _http, CancellationToken.None));

        Assert.Contains("not DPoP", error.Message);
        Assert.Null(error.Issued);
    }

    [Fact]
    public async Task With_DPoP_turned_off_a_refresh_of_tokens_stored_bound_takes_the_bearer_answer_unbound()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", Tokens("Bearer"));
        var options = Options(_server.Url("/token"), ClientAuthentication.Basic);
        options.UseDpop = false;

        var tokens = await new GenericOAuthStrategy(options).RefreshAsync(new RefreshContext("rt-0") { DpopKey = _key }, _http, CancellationToken.None);

        Assert.Equal(("at-1", "Bearer", "rt-1"), (tokens.AccessToken, tokens.TokenType, tokens.RefreshToken));
        Assert.Null(tokens.DpopKey);
    }

    /// <summary>
    /// A refusal that echoes the request in error_description (some servers quote what they refused) quotes neither the
    /// proof nor the private_key_jwt client assertion, each a credential until it expires. Neither is among the secrets
    /// masked in provider text: the 300-character cap on that text (TokenResponseReader.Clean) keeps them out, as each is
    /// longer (a signed JWT of ours never is under about 340), so at most an unsigned prefix shows. This fails should the
    /// cap grow past them.
    /// </summary>
    [Fact]
    public async Task A_refusal_that_echoes_the_request_quotes_neither_the_proof_nor_the_client_assertion()
    {
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = Options(_server.Url("/token"), ClientAuthentication.PrivateKeyJwt);
        options.ClientSecret = null;
        options.ClientSigningKey = clientKey;
        options.UseDpop = true;
        options.DeviceAuthorizationEndpoint = _server.Url("/device");
        var strategy = new GenericOAuthStrategy(options);
        _server.Handler = (context, request) => RecordingServer.Respond(context, 400, "application/json", $$"""
            {"error":"{{(request.Form.ContainsKey("device_code") ? "access_denied" : "invalid_dpop_proof")}}",
             "error_description":"proof {{request.Headers["DPoP"]}} assertion {{request.Form["client_assertion"]}}"}
            """);

        var refusals = new List<string>
        {
            (await Assert.ThrowsAsync<TokenExchangeException>(
                () => strategy.ExchangeCodeAsync(Exchange() with { DpopKey = _key }, _http, CancellationToken.None))).ToString(),
            (await Assert.ThrowsAsync<TokenExchangeException>(
                () => strategy.RefreshAsync(new RefreshContext("rt-0") { DpopKey = _key }, _http, CancellationToken.None))).ToString(),
            // A denied device login shows the provider's description to the user.
            (await strategy.PollDeviceTokenAsync(new DeviceTokenContext("device-code-value") { DpopKey = _key }, _http, CancellationToken.None))
                .ErrorDescription!,
        };

        Assert.Equal(3, _server.Requests.Count);
        foreach (var (text, request) in refusals.Zip(_server.Requests))
        {
            var (proof, assertion) = (request.Headers["DPoP"], request.Form["client_assertion"]);
            Assert.True(proof.Length > 300 && assertion.Length > 300, "the request carried a proof and an assertion");
            Assert.Contains("proof ", text, StringComparison.Ordinal);
            Assert.DoesNotContain(proof, text, StringComparison.Ordinal);
            Assert.DoesNotContain(assertion, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_authorize_URL_of_a_DPoP_login_carries_the_keys_thumbprint_and_an_app_cannot_set_dpop_jkt_itself()
    {
        var context = new AuthorizeUrlContext("state-1", "challenge", RedirectUri, ["read"], new Dictionary<string, string>(), new ProviderDescriptor())
        {
            DpopKeyThumbprint = _key.Thumbprint,
        };

        var url = Strategy().BuildAuthorizeUrl(context);

        Assert.Contains("dpop_jkt=" + _key.Thumbprint, url.Query);
        Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(context with
        {
            DpopKeyThumbprint = null,
            ExtraParameters = new Dictionary<string, string> { ["dpop_jkt"] = "attacker" },
        }));
    }
}
