using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Providers;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// <see cref="IOAuthLogins.GetUserInfoAsync"/> through the harness against the sandbox (its discovery names its
/// <c>/userinfo</c>): the account's claims with its bearer or DPoP-bound token, a token the endpoint refuses renewed once,
/// and the attack OpenID Connect Core 1.0 section 5.3.4 guards against played with a real endpoint on loopback that
/// answers for another user.
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
        await using var hostile = await AnotherUsersUserInfo.StartAsync();
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
    private static Task ReplaceProviderAsync(O8TestHarness o8, Uri? userInfo) =>
        o8.Logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = o8.Options.ProviderName,
            AuthorizationEndpoint = o8.Sandbox.AuthorizationEndpoint,
            TokenEndpoint = o8.Sandbox.TokenEndpoint,
            ClientId = o8.Client.ClientId,
            ClientSecret = o8.Client.Secret,
            UserInfoEndpoint = userInfo,
        }));

    /// <summary>A UserInfo endpoint on loopback that takes any bearer token and answers for "mallory".</summary>
    private sealed class AnotherUsersUserInfo(WebApplication app, ConcurrentQueue<string> tokens, Uri endpoint) : IAsyncDisposable
    {
        public Uri Endpoint => endpoint;

        public IReadOnlyList<string> TokensSeen => tokens.ToList();

        public static async Task<AnotherUsersUserInfo> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var tokens = new ConcurrentQueue<string>();
            app.MapGet("/userinfo", (HttpRequest request) =>
            {
                tokens.Enqueue(request.Headers.Authorization.ToString()["Bearer ".Length..]);
                return Results.Json(new { sub = "mallory", email = "mallory@attacker.test" });
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new AnotherUsersUserInfo(app, tokens, new Uri(new Uri(address), "/userinfo"));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
