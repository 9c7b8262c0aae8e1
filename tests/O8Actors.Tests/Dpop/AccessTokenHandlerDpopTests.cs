using System.Collections.Concurrent;
using System.Net;
using O8Actors.Dpop;

namespace O8Actors.Tests.Dpop;

/// <summary>
/// <see cref="AccessTokenHandler"/> with a DPoP-bound account (RFC 9449 section 7), against a real resource server on
/// loopback that checks every proof: the token goes as <c>DPoP</c> with a fresh proof, never as a bearer; the server's
/// nonce is learnt once; a refused token is renewed once and the request signed again for the new one.
/// </summary>
public sealed class AccessTokenHandlerDpopTests : IAsyncLifetime
{
    private static readonly OAuthAccount Alice = new("bound", "alice");
    private readonly DpopKey _key = DpopKey.Create();
    private readonly ConcurrentQueue<AccessTokenOptions?> _asked = new();
    private DpopResourceServer _server = null!;

    public async Task InitializeAsync() => _server = await DpopResourceServer.StartAsync(_key.Thumbprint);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _key.Dispose();
    }

    private AccessToken Bound(string token) => new(Alice, token, "DPoP", DateTimeOffset.UtcNow.AddMinutes(5), "api") { DpopKey = _key };

    /// <summary>A client whose account's token source answers <paramref name="cached"/>, and <paramref name="renewed"/> when forced.</summary>
    private HttpClient Client(AccessToken cached, AccessToken? renewed = null) =>
        new(new AccessTokenHandler((account, options, _) =>
        {
            Assert.Equal(Alice, account);
            _asked.Enqueue(options);
            return Task.FromResult(options is { ForceRefresh: true } ? renewed ?? cached : cached);
        }, Alice) { InnerHandler = new SocketsHttpHandler() });

    [Fact]
    public async Task A_bound_token_goes_with_a_fresh_proof_and_the_servers_nonce_is_learnt_once()
    {
        using var api = Client(Bound(_server.AccessToken));

        for (var i = 0; i < 3; i++)
        {
            using var response = await api.GetAsync(_server.Resource);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The server accepts only "Authorization: DPoP" with a proof for this key, method, URL, token hash and nonce.
        Assert.Equal(3, _server.Accepted);
        Assert.Equal(1, _server.NonceChallenges);
        Assert.All(_asked, options => Assert.Null(options)); // the cached token each time, no refresh
    }

    [Fact]
    public async Task Calls_sent_together_after_the_server_changed_its_nonce_are_each_retried_with_it_and_no_token_is_renewed()
    {
        using var api = Client(Bound(_server.AccessToken));
        using (var first = await api.GetAsync(_server.Resource))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        _server.RotateNonce();
        _server.HoldNonceChallengesUntil(2);

        var calls = await Task.WhenAll(api.GetAsync(_server.Resource), api.GetAsync(_server.Resource));

        Assert.All(calls, call => Assert.Equal(HttpStatusCode.OK, call.StatusCode));
        foreach (var call in calls) call.Dispose();
        Assert.Equal(3, _server.Accepted);
        Assert.Equal(3, _server.NonceChallenges);
        // A refusal for a nonce is not a refused token: no forced refresh spends the refresh token.
        Assert.All(_asked, options => Assert.Null(options));
    }

    [Fact]
    public async Task A_bound_token_the_api_refuses_is_renewed_once_and_the_post_is_sent_again_signed_for_the_new_token()
    {
        using var api = Client(Bound("at-revoked"), renewed: Bound(_server.AccessToken));

        using var response = await api.PostAsync(_server.Resource, new StringContent("payload"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello payload", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, _server.Accepted);
        // Cached, cached again (no other request renewed it), then one forced refresh.
        Assert.Equal([false, false, true], _asked.Select(o => o?.ForceRefresh ?? false));
    }

    [Fact]
    public async Task A_refused_proof_is_returned_as_it_is_and_renews_no_token()
    {
        // A server that takes the token only with another key's proofs: every proof of this one is invalid_dpop_proof.
        using var otherKey = DpopKey.Create();
        await using var server = await DpopResourceServer.StartAsync(otherKey.Thumbprint);
        using var api = Client(Bound(server.AccessToken), renewed: Bound("at-renewed"));

        using var response = await api.GetAsync(server.Resource);

        // Before: the refusal was taken for a refused token and a refresh was forced.
        Assert.All(_asked, options => Assert.Null(options));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_dpop_proof", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task A_token_neither_bearer_nor_bound_is_refused_before_anything_is_sent()
    {
        using var api = Client(new AccessToken(Alice, "mac-token-value", "MAC", null, null));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => api.GetAsync(_server.Resource));

        Assert.Contains("'MAC'", error.Message);
        Assert.DoesNotContain("mac-token-value", error.Message);
        Assert.Equal(0, _server.Accepted + _server.NonceChallenges);
        Assert.Null(_server.LastRefusal);
    }

    /// <summary>
    /// A custom strategy's token type and scope come as the provider sent them (the built-in reader cleans them): where
    /// they are printed, a line break would start a forged log line.
    /// </summary>
    [Fact]
    public async Task A_custom_strategys_token_type_and_scope_are_printed_without_line_breaks()
    {
        const string type = "MAC\n[WARN] forged";
        using var api = Client(new AccessToken(Alice, "mac-token-value", type, null, "read\n[WARN] forged"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => api.GetAsync(_server.Resource));
        var texts = new[]
        {
            error.Message,
            new AccessToken(Alice, "t", type, null, "read\n[WARN] forged").ToString(),
            new TokenSet("t", type, Scope: "read\r\n[WARN] forged").ToString(),
        };

        Assert.All(texts, text => Assert.DoesNotContain('\n', text));
        Assert.All(texts, text => Assert.DoesNotContain('\r', text));
        Assert.Contains("[WARN] forged", error.Message, StringComparison.Ordinal);
    }
}
