using System.Net;
using System.Net.Http.Headers;
using O8Actors.Dpop;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// What <see cref="AccessTokenHandler"/> does after an API refuses a token (401), against a scripted API: a refusal
/// costs at most one refresh per token, and a refused proof is not a refused token.
/// </summary>
public sealed class AccessTokenHandlerRefusalTests
{
    private static readonly OAuthAccount Alice = new("api", "alice");
    private static readonly Uri Resource = new("https://api.example.test/resource");

    /// <summary>An API that answers each request with the next response of its script (the last one after that).</summary>
    private sealed class ScriptedApi(params Func<HttpResponseMessage>[] script) : HttpMessageHandler
    {
        private int _sent;

        /// <summary>Each request's authorization scheme, and whether it carried a DPoP proof.</summary>
        public List<(string? Scheme, bool Proof)> Received { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Received.Add((request.Headers.Authorization?.Scheme, request.Headers.Contains("DPoP")));
            var next = script[Math.Min(_sent, script.Length - 1)];
            _sent++;
            return Task.FromResult(next());
        }
    }

    /// <summary>The account's token source: <c>at-1</c>, then each forced refresh the next of <paramref name="renewals"/>.</summary>
    private sealed class TokenSource(Func<string, AccessToken> token, params string[] renewals)
    {
        private string _current = "at-1";
        private int _renewed;

        public int Forced { get; private set; }

        public Task<AccessToken> GetAsync(OAuthAccount account, AccessTokenOptions? options, CancellationToken ct)
        {
            if (options is { ForceRefresh: true })
            {
                Forced++;
                if (_renewed < renewals.Length) _current = renewals[_renewed++];
            }
            return Task.FromResult(token(_current));
        }
    }

    private static HttpResponseMessage Refused(string scheme, string error, string? nonce = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue(scheme, $"error=\"{error}\""));
        if (nonce is not null) response.Headers.Add("DPoP-Nonce", nonce);
        return response;
    }

    [Fact]
    public async Task A_token_the_provider_renews_to_itself_costs_one_refresh_not_one_per_refused_call()
    {
        var tokens = new TokenSource(t => new AccessToken(Alice, t, "Bearer", DateTimeOffset.UtcNow.AddHours(1), null), "at-1");
        using var api = new HttpClient(new AccessTokenHandler(tokens.GetAsync, Alice)
        {
            InnerHandler = new ScriptedApi(() => Refused("Bearer", "invalid_token")),
        });

        for (var call = 0; call < 5; call++)
        {
            using var response = await api.GetAsync(Resource);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(1, tokens.Forced);
    }

    /// <summary>
    /// <c>IHttpClientFactory</c> builds a client's handlers anew every handler lifetime: a handler built with the memory
    /// of the one before knows the token the API refused after its renewal (and refreshes for it no more).
    /// </summary>
    [Fact]
    public async Task A_handler_built_anew_with_its_clients_memory_costs_no_second_refresh_for_a_refused_token()
    {
        var tokens = new TokenSource(t => new AccessToken(Alice, t, "Bearer", DateTimeOffset.UtcNow.AddHours(1), null), "at-2");
        var memory = new O8Actors.Accounts.AccessTokenHandlerMemory();
        HttpClient Built() => new(new AccessTokenHandler(tokens.GetAsync, Alice)
        {
            Memory = memory,
            InnerHandler = new ScriptedApi(() => Refused("Bearer", "invalid_token")),
        });

        using (var before = Built())
        using (var response = await before.GetAsync(Resource))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var after = Built())
        using (var response = await after.GetAsync(Resource))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        Assert.Equal(1, tokens.Forced);
    }

    /// <summary>
    /// A bound token refused, renewed as a bearer token (the app turned <c>UseDpop</c> off): the retry carried the first
    /// send's DPoP proof beside its bearer token, a proof for another token that a server may refuse the request for.
    /// </summary>
    [Fact]
    public async Task A_bound_token_renewed_as_a_bearer_token_is_retried_without_the_first_sends_proof()
    {
        using var key = DpopKey.Create();
        var tokens = new TokenSource(t => t == "at-1"
            ? new AccessToken(Alice, t, "DPoP", DateTimeOffset.UtcNow.AddHours(1), null) { DpopKey = key }
            : new AccessToken(Alice, t, "Bearer", DateTimeOffset.UtcNow.AddHours(1), null), "at-2");
        var scripted = new ScriptedApi(() => Refused("DPoP", "invalid_token"), () => new HttpResponseMessage(HttpStatusCode.OK));
        using var api = new HttpClient(new AccessTokenHandler(tokens.GetAsync, Alice) { InnerHandler = scripted });

        using var response = await api.GetAsync(Resource);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([("DPoP", true), ("Bearer", false)], scripted.Received);
    }

    [Fact]
    public async Task A_renewed_bound_token_whose_retry_met_a_refused_proof_is_renewed_when_the_api_later_refuses_it()
    {
        using var key = DpopKey.Create();
        var tokens = new TokenSource(t => new AccessToken(Alice, t, "DPoP", DateTimeOffset.UtcNow.AddHours(1), null) { DpopKey = key },
            "at-2", "at-3");
        using var api = new HttpClient(new AccessTokenHandler(tokens.GetAsync, Alice)
        {
            InnerHandler = new ScriptedApi(
                () => Refused("DPoP", "invalid_token"),                // at-1 revoked: renewed to at-2
                () => Refused("DPoP", "use_dpop_nonce", "nonce-b"),    // at-2's retry reaches a node without our nonce
                () => Refused("DPoP", "use_dpop_nonce", "nonce-c"),    // and its one nonce retry yet another: the proof refused
                () => Refused("DPoP", "invalid_token"),                // later: at-2 itself refused
                () => new HttpResponseMessage(HttpStatusCode.OK)),
        });

        using (var first = await api.GetAsync(Resource))
            Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        using var later = await api.GetAsync(Resource);

        // The proof's refusal said nothing of at-2: its own refusal later renews it, and the request goes through.
        Assert.Equal(2, tokens.Forced);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }
}
