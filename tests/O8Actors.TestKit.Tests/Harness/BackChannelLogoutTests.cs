using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// <see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/> through the harness against the sandbox, which signs logout
/// tokens with its ID-token key (OpenID Connect Back-Channel Logout 1.0): the session's account is revoked and
/// forgotten, and nobody else's; and the attacks the validation guards against, each leaving every account as it was:
/// a replay, a forged token, a token for another client, the logout of an older session, a provider that cannot check.
/// </summary>
public sealed class BackChannelLogoutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static string SessionOf(TokenSet tokens) =>
        tokens.IdTokenClaims!.All.Single(c => c.Type == "sid").Value;

    private static async Task AssertSignedInAsync(O8TestHarness o8, OAuthAccount account)
    {
        var token = await o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait);
        Assert.Equal(account, token.Account);
    }

    private static async Task AssertSignedOutAsync(O8TestHarness o8, OAuthAccount account)
    {
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait));
        Assert.Equal(InteractionReason.NoAccount, error.Reason);
    }

    [Fact]
    public async Task The_sessions_account_is_revoked_and_forgotten_and_the_other_users_stays()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, bobTokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        var (alice, _) = await HarnessAccounts.SignInAsync(o8, "alice");

        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob", SessionOf(bobTokens));
        var result = await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait);

        var signedOut = Assert.Single(result.SignedOut);
        Assert.Equal(bob, signedOut.Account);
        Assert.Equal(RevocationOutcome.Revoked, signedOut.Revocation);
        Assert.Equal(("bob", SessionOf(bobTokens)), (result.Token.Subject, result.Token.SessionId));
        await AssertSignedOutAsync(o8, bob);
        Assert.False(o8.Sandbox.IsRefreshTokenActive(bobTokens.RefreshToken!));
        Assert.Equal([alice], await o8.Logins.GetAccountsAsync(o8.ProviderName).WaitAsync(Wait));
        await AssertSignedInAsync(o8, alice);
    }

    [Fact]
    public async Task A_token_naming_only_the_session_finds_its_account_among_all()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, _) = await HarnessAccounts.SignInAsync(o8, "bob");
        var (alice, aliceTokens) = await HarnessAccounts.SignInAsync(o8, "alice");

        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, subject: null, SessionOf(aliceTokens));
        var result = await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait);

        Assert.Equal([alice], result.SignedOut.Select(r => r.Account));
        await AssertSignedOutAsync(o8, alice);
        await AssertSignedInAsync(o8, bob);
    }

    /// <summary>
    /// A token naming bob's session only is checked against every account; alice's store is slow to read her tokens. She
    /// stays signed in throughout: her token requests are served while her account is checked, not refused as "signing out".
    /// </summary>
    [Fact]
    public async Task An_account_checked_by_a_token_naming_another_session_keeps_serving_its_token_meanwhile()
    {
        var store = new LoadHoldingStore();
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureLogins = setup => setup.TokenStore = store);
        var (bob, bobTokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        var (alice, aliceTokens) = await HarnessAccounts.SignInAsync(o8, "alice");
        store.Hold(alice);

        var logout = o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, subject: null, SessionOf(bobTokens)));
        await store.LoadHeld.WaitAsync(Wait);
        var served = await o8.Logins.GetAccessTokenAsync(alice).WaitAsync(Wait);
        store.Release();
        var result = await logout.WaitAsync(Wait);

        Assert.Equal(aliceTokens.AccessToken, served.Token);
        Assert.Equal([bob], result.SignedOut.Select(r => r.Account));
        await AssertSignedInAsync(o8, alice);
    }

    [Fact]
    public async Task A_token_naming_only_the_user_signs_out_whatever_session_the_account_holds()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, _) = await HarnessAccounts.SignInAsync(o8, "bob");

        var result = await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob")).WaitAsync(Wait);

        Assert.Equal([bob], result.SignedOut.Select(r => r.Account));
        await AssertSignedOutAsync(o8, bob);
    }

    [Fact]
    public async Task The_logout_of_an_older_session_leaves_the_account_signed_in_with_its_newer_one()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, first) = await HarnessAccounts.SignInAsync(o8, "bob");
        var (_, second) = await HarnessAccounts.SignInAsync(o8, "bob");
        Assert.NotEqual(SessionOf(first), SessionOf(second));

        var result = await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName,
            o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob", SessionOf(first))).WaitAsync(Wait);

        Assert.Empty(result.SignedOut);
        Assert.True(o8.Sandbox.IsRefreshTokenActive(second.RefreshToken!));
        await AssertSignedInAsync(o8, bob);
    }

    [Fact]
    public async Task A_replayed_token_is_refused_and_the_user_who_signed_in_again_stays_signed_in()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, _) = await HarnessAccounts.SignInAsync(o8, "bob");
        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob");
        Assert.Single((await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait)).SignedOut);
        await HarnessAccounts.SignInAsync(o8, "bob");

        // Someone who captured the token posts it again, to sign bob out of his new session.
        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait));

        Assert.Equal(BackChannelLogoutFailure.Replayed, error.Failure);
        Assert.DoesNotContain(logout.Split('.')[1], error.Message, StringComparison.Ordinal);
        await AssertSignedInAsync(o8, bob);
    }

    [Fact]
    public async Task Many_posts_of_one_token_at_once_are_accepted_exactly_once()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await HarnessAccounts.SignInAsync(o8, "bob");
        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob");

        var posts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait);
                return "accepted";
            }
            catch (BackChannelLogoutException e) when (e.Failure is BackChannelLogoutFailure.Replayed or BackChannelLogoutFailure.InProgress)
            {
                // In progress while the accepted one runs (post it later), a replay once it completed: refused either way.
                return "refused";
            }
        }));

        Assert.Equal(1, posts.Count(p => p == "accepted"));
        Assert.Equal(7, posts.Count(p => p == "refused"));
    }

    /// <summary>
    /// The provider's request goes away while bob's sign-out waits for his store (the provider's own timeout is shorter).
    /// The logout used to fail there and leave the token for a retry, which many providers never make; it goes on now:
    /// bob is signed out, and the token is spent, so a later post of it is a replay and signs nobody out.
    /// </summary>
    [Fact]
    public async Task A_logout_whose_request_went_away_is_carried_out_and_its_token_spent()
    {
        var store = new LoadHoldingStore();
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureLogins = setup => setup.TokenStore = store);
        var (bob, bobTokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob");
        store.Hold(bob);

        using var request = new CancellationTokenSource();
        var first = o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout, request.Token);
        await store.LoadHeld.WaitAsync(Wait);
        await request.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Wait));
        store.Release();

        await Eventually.TrueAsync(() => !o8.Sandbox.IsRefreshTokenActive(bobTokens.RefreshToken!), "bob's sign-out was carried out");
        await AssertSignedOutAsync(o8, bob);
        // Spent once the logout has recorded it; until then a post is told to come back later (and signs nobody out). A
        // post the token was withdrawn for would be carried out again, and answer without an exception.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        BackChannelLogoutFailure failure;
        do
        {
            failure = (await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
                o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, logout).WaitAsync(Wait))).Failure;
            if (failure == BackChannelLogoutFailure.InProgress) await Task.Delay(TimeSpan.FromMilliseconds(20));
        } while (failure == BackChannelLogoutFailure.InProgress && clock.Elapsed < Wait);
        Assert.Equal(BackChannelLogoutFailure.Replayed, failure);
    }

    [Fact]
    public async Task A_token_signed_by_another_server_in_the_providers_name_is_refused_and_nobody_is_signed_out()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, bobTokens) = await HarnessAccounts.SignInAsync(o8, "bob");
        await using var forger = await SandboxAuthorizationServer.StartAsync();
        var forged = forger.CreateLogoutToken(o8.Client.ClientId, "bob", SessionOf(bobTokens), claims => claims["iss"] = o8.Sandbox.IssuerString);

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, forged).WaitAsync(Wait));

        Assert.Equal(BackChannelLogoutFailure.InvalidToken, error.Failure);
        Assert.Contains("(signature)", error.Message, StringComparison.Ordinal);
        await AssertSignedInAsync(o8, bob);
    }

    [Fact]
    public async Task A_token_for_another_client_of_the_same_provider_is_refused()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (bob, _) = await HarnessAccounts.SignInAsync(o8, "bob");

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
            o8.Logins.HandleBackChannelLogoutAsync(o8.ProviderName, o8.Sandbox.CreateLogoutToken("another-client", "bob")).WaitAsync(Wait));

        Assert.Contains("(audience)", error.Message, StringComparison.Ordinal);
        await AssertSignedInAsync(o8, bob);
    }

    [Fact]
    public async Task A_provider_that_validates_no_ID_tokens_refuses_as_not_supported_and_an_unknown_one_is_named()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await o8.Logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = "plain",
            AuthorizationEndpoint = o8.Sandbox.AuthorizationEndpoint,
            TokenEndpoint = o8.Sandbox.TokenEndpoint,
            ClientId = o8.Client.ClientId,
            ClientSecret = o8.Client.Secret,
        }));
        var logout = o8.Sandbox.CreateLogoutToken(o8.Client.ClientId, "bob");

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => o8.Logins.HandleBackChannelLogoutAsync("plain", logout).WaitAsync(Wait));
        await Assert.ThrowsAsync<UnknownProviderException>(() => o8.Logins.HandleBackChannelLogoutAsync("nobody", logout).WaitAsync(Wait));

        Assert.Equal(BackChannelLogoutFailure.NotSupported, error.Failure);
        Assert.Contains("JwksUri", error.Message, StringComparison.Ordinal);
    }
}
