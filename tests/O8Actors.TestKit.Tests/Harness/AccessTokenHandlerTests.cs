using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.TestKit.Sandbox;

using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// Calling an API with an account's bearer token through <see cref="AccessTokenHandler"/>: the account's token goes in
/// the Authorization header; a token the API refuses (revoked at the sandbox, RFC 7009) is refreshed once and the request
/// sent again, body and all; many refused requests cost one refresh; an API that refuses every token gets one retry; a
/// refresh the provider refuses reaches the caller as <see cref="InteractionRequiredException"/>. The API is a real
/// Kestrel on loopback that accepts a token while the sandbox says it is active.
/// </summary>
public sealed class AccessTokenHandlerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static HttpClient ApiClient(O8TestHarness o8, OAuthAccount account) =>
        new(new AccessTokenHandler(o8.Logins, account) { InnerHandler = new SocketsHttpHandler() });

    /// <summary>Revokes <paramref name="token"/> at the sandbox's RFC 7009 endpoint, as the harness's client.</summary>
    private static Task RevokeAsync(O8TestHarness o8, string token) => HarnessAccounts.PostTokenAsClientAsync(o8, o8.Sandbox.RevocationEndpoint, token);

    [Fact]
    public async Task A_call_carries_the_accounts_bearer_token_and_needs_no_refresh()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);

        using var response = await http.GetAsync(api.Url("/me")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([tokens.AccessToken], api.TokensSeen);
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
    }

    [Fact]
    public async Task A_token_the_API_refuses_is_refreshed_once_and_the_request_is_sent_again_with_its_body()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);
        await RevokeAsync(o8, tokens.AccessToken);

        using var response = await http.PostAsync(api.Url("/echo"), new StringContent("{\"note\":\"kept\"}", Encoding.UTF8, "application/json"))
            .WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"note\":\"kept\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        var seen = api.TokensSeen;
        Assert.Equal(2, seen.Count);
        Assert.Equal(tokens.AccessToken, seen[0]);
        Assert.NotEqual(tokens.AccessToken, seen[1]);
        Assert.True(o8.Sandbox.IsActive(seen[1]));
        // The account serves the refreshed token from now on.
        Assert.Equal(seen[1], (await o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait)).Token);
    }

    [Fact]
    public async Task The_sandboxs_userinfo_endpoint_takes_the_accounts_token_and_a_revoked_one_is_renewed()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        using var http = ApiClient(o8, account);
        await RevokeAsync(o8, tokens.AccessToken);

        using var response = await http.GetAsync(o8.Sandbox.UserInfoEndpoint).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"sub\":\"bob\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, o8.Sandbox.Counters.UserInfoRequests);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
    }

    [Fact]
    public async Task Ten_requests_refused_together_cost_one_refresh()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);
        await RevokeAsync(o8, tokens.AccessToken);
        // A slow refresh: every refused request asks for a new token while the one refresh is in flight.
        o8.Sandbox.TokenFaults = TokenFaultPlan.PerLogin(_ => TokenFault.Delay(TimeSpan.FromMilliseconds(500)));

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => http.GetAsync(api.Url("/me")))).WaitAsync(Wait);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses) response.Dispose();
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(2, api.TokensSeen.Distinct().Count());
    }

    [Fact]
    public async Task A_refused_request_retries_with_the_newer_token_another_request_already_got_without_a_second_refresh()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        // While the API refuses the revoked token, another part of the app renews the account's token.
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox,
            beforeRefusing: () => o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)));
        using var http = ApiClient(o8, account);
        await RevokeAsync(o8, tokens.AccessToken);

        using var response = await http.GetAsync(api.Url("/me")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes); // the other renewal's: the handler took its token, it forced none
        Assert.Equal(2, api.TokensSeen.Count);
    }

    [Fact]
    public async Task An_API_that_refuses_every_token_gets_one_retry_and_the_caller_gets_its_401()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox, refuseAll: true);
        var (account, _) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);

        using var response = await http.GetAsync(api.Url("/me")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, api.TokensSeen.Count);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
    }

    /// <summary>
    /// Once a renewed token was refused too, the API's 401s are not about the token's age: each later request used to
    /// force a refresh of its own (with rotation, a new refresh token per request).
    /// </summary>
    [Fact]
    public async Task Requests_one_after_another_to_an_API_that_refuses_every_token_cost_one_refresh_in_all()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox, refuseAll: true);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);

        for (var i = 0; i < 5; i++)
        {
            using var response = await http.GetAsync(api.Url("/me")).WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        var seen = api.TokensSeen;
        Assert.Equal(6, seen.Count);
        Assert.Equal(tokens.AccessToken, seen[0]);
        Assert.All(seen.Skip(1), token => Assert.Equal(seen[1], token));
    }

    /// <summary>
    /// The redirect handler under this one takes the Authorization header off a redirected request but points the request
    /// itself at the redirect's target: the retry after that target's 401 used to send it a freshly refreshed token.
    /// </summary>
    [Fact]
    public async Task A_401_from_where_the_API_redirected_the_request_is_the_callers_and_that_place_never_gets_a_token()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var elsewhere = await ProtectedApi.StartAsync(o8.Sandbox, refuseAll: true);
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox, redirectTo: elsewhere.Url("/collect"));
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);

        using var response = await http.GetAsync(api.Url("/moved")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, elsewhere.Requests);
        Assert.Empty(elsewhere.TokensSeen);
        Assert.Equal([tokens.AccessToken], api.TokensSeen);
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
    }

    [Fact]
    public async Task A_refresh_the_provider_refuses_reaches_the_caller_as_InteractionRequiredException()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var api = await ProtectedApi.StartAsync(o8.Sandbox);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        using var http = ApiClient(o8, account);
        // Revoking the refresh token revokes its whole family, the access token included (RFC 7009 section 2.1).
        await RevokeAsync(o8, tokens.RefreshToken!);

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => http.GetAsync(api.Url("/me")).WaitAsync(Wait));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(account, error.Account);
        Assert.Equal([tokens.AccessToken], api.TokensSeen);
    }

    /// <summary>
    /// A resource server on loopback: it accepts a bearer token while the sandbox says it is active (refusing all when
    /// told to), answers 401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c> otherwise (RFC 6750 section 3.1),
    /// and keeps every token it was shown.
    /// </summary>
    private sealed class ProtectedApi : IAsyncDisposable
    {
        private readonly LoopbackApi _api;
        private readonly ConcurrentQueue<string> _tokens;
        private readonly Func<int> _requests;

        private ProtectedApi(LoopbackApi api, ConcurrentQueue<string> tokens, Func<int> requests)
        {
            _api = api;
            _tokens = tokens;
            _requests = requests;
        }

        public IReadOnlyList<string> TokensSeen => _tokens.ToList();

        /// <summary>How many requests reached the API, with a token or without.</summary>
        public int Requests => _requests();

        public Uri Url(string path) => _api.Url(path);

        /// <param name="beforeRefusing">Runs before a refusal is sent (another request of the app renewing the token meanwhile).</param>
        /// <param name="redirectTo">Where <c>/moved</c> sends its callers (302), whatever their token.</param>
        public static async Task<ProtectedApi> StartAsync(SandboxAuthorizationServer sandbox, bool refuseAll = false, Func<Task>? beforeRefusing = null,
            Uri? redirectTo = null)
        {
            var tokens = new ConcurrentQueue<string>();
            var requests = 0;
            var api = await LoopbackApi.StartAsync(app =>
            {
                app.Use(async (context, next) =>
                {
                    Interlocked.Increment(ref requests);
                    var header = context.Request.Headers.Authorization.ToString();
                    if (header.StartsWith("Bearer ", StringComparison.Ordinal)) tokens.Enqueue(header["Bearer ".Length..]);
                    if (redirectTo is not null && context.Request.Path == "/moved")
                    {
                        context.Response.Redirect(redirectTo.AbsoluteUri);
                        return;
                    }
                    if (refuseAll || !header.StartsWith("Bearer ", StringComparison.Ordinal) || !sandbox.IsActive(header["Bearer ".Length..]))
                    {
                        if (beforeRefusing is not null) await beforeRefusing();
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                        return;
                    }

                    await next(context);
                });
                app.MapGet("/me", () => "alice");
                app.MapPost("/echo", async (HttpRequest request) => Results.Text(await new StreamReader(request.Body).ReadToEndAsync(), "application/json"));
            });
            return new ProtectedApi(api, tokens, () => Volatile.Read(ref requests));
        }

        public ValueTask DisposeAsync() => _api.DisposeAsync();
    }
}
