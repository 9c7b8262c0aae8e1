using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Providers;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// <see cref="IOAuthLogins.GetUserInfoAsync"/> through the harness against the sandbox (its discovery names its
/// <c>/userinfo</c>): the account's claims with its bearer or DPoP-bound token, a token the endpoint refuses renewed once
/// (and a renewed one it refuses too not renewed again), and the attack OpenID Connect Core 1.0 section 5.3.4 guards
/// against played with a real endpoint on loopback that answers for another user.
/// </summary>
public sealed class UserInfoTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_sandbox_answers_with_the_accounts_subject()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "bob");

        var info = await o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait);

        Assert.Equal(account, info.Account);
        Assert.Equal("bob", info.Subject);
        Assert.Equal(tokens.IdTokenClaims!.Subject, info.Subject);
        Assert.Equal(1, o8.Sandbox.Counters.UserInfoRequests);
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
    }

    [Fact]
    public async Task A_token_the_endpoint_refuses_is_renewed_once_and_the_claims_read_with_the_new_one()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        await HarnessAccounts.PostTokenAsClientAsync(o8, o8.Sandbox.RevocationEndpoint, tokens.AccessToken);

        var info = await o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait);

        Assert.Equal("bob", info.Subject);
        Assert.Equal(2, o8.Sandbox.Counters.UserInfoRequests);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
    }

    /// <summary>
    /// An endpoint that refuses every token (one this client may not use, or a provider's mixed up with another's): a
    /// renewed token it refused too is not renewed again, where each call used to force a refresh of its own (with
    /// rotation, a new refresh token per call). A token renewed for another reason is tried, and renewed once, again.
    /// </summary>
    [Fact]
    public async Task Calls_to_an_endpoint_that_refuses_every_token_cost_one_refresh_until_a_new_token_comes()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        await using var refusing = await LoopbackUserInfo.RefusingEveryTokenAsync();
        await ReplaceProviderAsync(o8, refusing.Endpoint, validatesIdTokens: true);

        var errors = new List<UserInfoException>();
        for (var i = 0; i < 5; i++)
            errors.Add(await Assert.ThrowsAsync<UserInfoException>(() => o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait)));

        Assert.All(errors, e => Assert.Equal(UserInfoFailure.Unauthorized, e.Failure));
        Assert.Single(errors.Select(e => e.Message).Distinct());
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        var seen = refusing.TokensSeen;
        Assert.Equal(6, seen.Count); // the first call's token and its renewal, then the renewed token once per call
        Assert.Equal(tokens.AccessToken, seen[0]);
        Assert.All(seen.Skip(1), token => Assert.Equal(seen[1], token));

        // A genuine renewal (the app's own here) brings a token the endpoint never refused: it is tried normally.
        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);
        var error = await Assert.ThrowsAsync<UserInfoException>(() => o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait));

        Assert.Equal(errors[0].Message, error.Message);
        Assert.Equal(3, o8.Sandbox.Counters.Refreshes); // the app's renewal, and the one the refused new token caused
        seen = refusing.TokensSeen;
        Assert.Equal(8, seen.Count);
        Assert.Equal(renewed.Token, seen[6]);
        Assert.NotEqual(renewed.Token, seen[7]);
    }

    [Fact]
    public async Task An_endpoint_that_refuses_every_DPoP_proof_is_the_callers_refusal_and_costs_no_refresh()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.UseDpop = true);
        var (account, _) = await HarnessAccounts.SignInAsync(o8, "dave");
        // Servers behind a load balancer that do not share their nonces: every answer asks for a nonce no other takes.
        var nonces = 0;
        await using var api = await LoopbackApi.StartAsync(app => app.MapGet("/userinfo", (HttpContext context) =>
        {
            context.Response.Headers["DPoP-Nonce"] = $"nonce-{Interlocked.Increment(ref nonces)}";
            context.Response.Headers.WWWAuthenticate = "DPoP error=\"use_dpop_nonce\"";
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }));
        await ReplaceProviderAsync(o8, api.Url("/userinfo"), validatesIdTokens: true, useDpop: true);

        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<UserInfoException>(() => o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait));
            Assert.Equal(UserInfoFailure.Refused, error.Failure);
            Assert.Contains("DPoP proof", error.Message, StringComparison.Ordinal);
        }

        // Before: each call forced a refresh, rotating the refresh token at the provider for a proof no token could fix.
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(6, Volatile.Read(ref nonces)); // each call and its one retry with the nonce it was given
    }

    [Fact]
    public async Task A_DPoP_bound_account_reads_its_claims_with_a_proof()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.UseDpop = true);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "carol");
        Assert.NotNull(tokens.DpopKey);

        var info = await o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait);

        Assert.Equal("carol", info.Subject);
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
    }

    [Fact]
    public async Task An_endpoint_that_answers_for_another_user_is_refused_and_its_claims_never_reach_the_app()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "alice");
        await using var hostile = await LoopbackUserInfo.AnotherUsersAsync();
        // The provider's settings now name the hostile endpoint (a mixed-up configuration, or a hijacked metadata entry).
        await ReplaceProviderAsync(o8, hostile.Endpoint);

        var error = await Assert.ThrowsAsync<UserInfoException>(() => o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait));

        Assert.Equal(UserInfoFailure.SubjectMismatch, error.Failure);
        Assert.Equal([tokens.AccessToken], hostile.TokensSeen);
        Assert.DoesNotContain("mallory", error.ToString());
        Assert.DoesNotContain(tokens.AccessToken, error.ToString());
        // The app goes on: the account and its tokens are untouched.
        Assert.Equal(tokens.AccessToken, (await o8.Logins.GetAccessTokenAsync(account)).Token);
    }

    [Fact]
    public async Task A_provider_without_a_userinfo_endpoint_says_so_and_sends_nothing()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, _) = await HarnessAccounts.SignInAsync(o8, "alice");
        await ReplaceProviderAsync(o8, userInfo: null);

        var error = await Assert.ThrowsAsync<UserInfoException>(() => o8.Logins.GetUserInfoAsync(account).WaitAsync(Wait));

        Assert.Equal(UserInfoFailure.NotSupported, error.Failure);
        Assert.Contains("UserInfoEndpoint", error.Message);
        Assert.Equal(0, o8.Sandbox.Counters.UserInfoRequests);
    }

    /// <summary>Replaces the harness's provider with fixed sandbox endpoints and <paramref name="userInfo"/> as its UserInfo endpoint; its accounts stay.</summary>
    /// <param name="validatesIdTokens">
    /// Whether the provider checks ID tokens with the sandbox's keys: a refresh's ID token, unchecked, would leave the
    /// account's tokens with no subject to check a UserInfo answer against.
    /// </param>
    private static Task ReplaceProviderAsync(O8TestHarness o8, Uri? userInfo, bool validatesIdTokens = false, bool useDpop = false) =>
        o8.Logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = o8.Options.ProviderName,
            AuthorizationEndpoint = o8.Sandbox.AuthorizationEndpoint,
            TokenEndpoint = o8.Sandbox.TokenEndpoint,
            ClientId = o8.Client.ClientId,
            ClientSecret = o8.Client.Secret,
            UserInfoEndpoint = userInfo,
            Issuer = validatesIdTokens ? o8.Sandbox.IssuerString : null,
            JwksUri = validatesIdTokens ? o8.Sandbox.JwksUri : null,
            UseDpop = useDpop,
        }));

    /// <summary>A UserInfo endpoint on loopback that keeps every bearer token it is shown and answers as it was told.</summary>
    private sealed class LoopbackUserInfo(LoopbackApi api, ConcurrentQueue<string> tokens) : IAsyncDisposable
    {
        public Uri Endpoint => api.Url("/userinfo");

        public IReadOnlyList<string> TokensSeen => tokens.ToList();

        /// <summary>Takes any bearer token and answers for "mallory".</summary>
        public static Task<LoopbackUserInfo> AnotherUsersAsync() =>
            StartAsync(_ => Results.Json(new { sub = "mallory", email = "mallory@attacker.test" }));

        /// <summary>Refuses every token as invalid (RFC 6750 section 3.1), as an endpoint this client may not use does.</summary>
        public static Task<LoopbackUserInfo> RefusingEveryTokenAsync() =>
            StartAsync(response =>
            {
                response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            });

        private static async Task<LoopbackUserInfo> StartAsync(Func<HttpResponse, IResult> answer)
        {
            var tokens = new ConcurrentQueue<string>();
            var api = await LoopbackApi.StartAsync(app => app.MapGet("/userinfo", (HttpContext context) =>
            {
                tokens.Enqueue(context.Request.Headers.Authorization.ToString()["Bearer ".Length..]);
                return answer(context.Response);
            }));
            return new LoopbackUserInfo(api, tokens);
        }

        public ValueTask DisposeAsync() => api.DisposeAsync();
    }
}
