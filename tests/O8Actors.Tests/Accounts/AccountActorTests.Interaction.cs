using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A refresh token refused or missing: silent callers are told interaction is required, and one interactive login runs
/// for the callers that allow it, with the scopes they want.
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task A_refused_refresh_token_throws_InteractionRequiredException_without_the_token_in_the_message()
    {
        var (strategy, _, accounts) = await RefreshRefusedAsync();

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(Alice, error.Account);
        Assert.Contains("invalid_grant", error.Message);
        Assert.DoesNotContain("rt-1", error.Message);
        Assert.DoesNotContain("at-1", error.Message);
    }

    /// <summary>
    /// A provider answers a dead refresh token with an error of its own: GitHub's <c>bad_refresh_token</c>, or the OpenID
    /// Connect errors Entra ID answers when the user must come back (multi-factor now required, a consent withdrawn). A
    /// silent caller is told to sign in, an interactive one gets the browser. Before, only <c>invalid_grant</c> did: these
    /// failed every call the same way, the dead refresh token sent again each time, and the user was never asked.
    /// </summary>
    [Theory]
    [InlineData("bad_refresh_token")]
    [InlineData("interaction_required")]
    [InlineData("consent_required")]
    [InlineData("login_required")]
    public async Task A_refresh_refused_with_a_providers_own_error_for_a_dead_grant_asks_for_a_sign_in(string error)
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        strategy.RefusalError = error;

        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);

        Assert.Equal(InteractionReason.RefreshRefused, silent.Reason);
        Assert.Contains(error, silent.Message, StringComparison.Ordinal);
        flows.ExpectMsg<StartFlow>(Wait);
        Assert.False(interactive.IsCompleted);
    }

    [Fact]
    public async Task An_unknown_account_throws_InteractionRequiredException()
    {
        var accounts = await Accounts(NewStrategy(), new InMemoryTokenStore());

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.NoAccount, error.Reason);
    }

    [Fact]
    public async Task A_refused_refresh_with_interaction_allowed_runs_one_login_for_every_interactive_caller()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var first = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var second = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Assert.Equal(("p", "alice"), (start.Provider, start.Request.AccountKey));
        Assert.Equal(Alice, silent.Account);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await first).Token);
        Assert.Equal("at-2", (await second).Token);
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// The account's interactive login ends because O8Actors stops where it runs (its flows supervisor drained): its
    /// callers get a cancellation that says so, which O8Actors.Cluster tells a caller on another node as its node lost.
    /// </summary>
    [Fact]
    public async Task An_interactive_login_ended_by_a_shutdown_tells_its_callers_so()
    {
        var (_, flows, accounts) = await RefreshRefusedAsync();

        var caller = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginCancelled(start.LoginId) { ByShutdown = true });

        var stopped = await Assert.ThrowsAsync<LoginStoppedByShutdownException>(() => caller);
        Assert.Equal(Alice, stopped.Account);
        Assert.Contains("shutting down", stopped.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Callers wait for one interactive login asking for different scopes: those who want its scopes (or name none) get
    /// its tokens; one who wants scopes they lack is not handed them (its API call would be refused) but renewed for in a
    /// round of its own, with the login's refresh token.
    /// </summary>
    [Fact]
    public async Task A_caller_asking_other_scopes_during_an_interactive_login_is_not_handed_its_tokens()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var reader = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["read"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var otherReader = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["read"]);
        var anyScope = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var mailer = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["mail"]);
        await AccountHasTakenAsync(accounts);
        // (openid too: Alice is known by her ID token's subject, which the login must show again.)
        Assert.Equal(["openid", "read"], start.Request.Scopes!);

        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { Scope = "read" }));

        Assert.Equal(("at-2", "at-2", "at-2"), ((await reader).Token, (await otherReader).Token, (await anyScope).Token));
        // The mail caller's own round: a refresh asking for its scope, with the refresh token the login brought.
        Assert.Equal("at-3", (await mailer).Token);
        Assert.Equal(2, strategy.Refreshes);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// Two callers make the same call, their own login request naming scopes (its sign-in asks for those): the second,
    /// arriving during the login, gets its tokens as the first does, even when the provider granted fewer scopes than
    /// the call names; no round of its own would do better.
    /// </summary>
    [Fact]
    public async Task Callers_whose_own_login_would_ask_for_the_same_scopes_share_the_interactive_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var options = new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(["openid", "api://b/.default"]));

        var first = Get(accounts, Alice, options, scopes: ["api://b/.default"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var second = Get(accounts, Alice, options, scopes: ["api://b/.default"]);
        await AccountHasTakenAsync(accounts);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { Scope = "openid" }));

        Assert.Equal(("at-2", "at-2"), ((await first).Token, (await second).Token));
        Assert.Equal(1, strategy.Refreshes); // the refused one only
    }

    /// <summary>
    /// A caller wants a token for 'mail' but its own login request asks for 'openid read': it is served the login's
    /// token (its own choice), yet that token was never asked for 'mail'. It used to be marked as asked for 'mail' all
    /// the same, and every later caller of 'mail', a silent one too, was served it from memory without a refresh.
    /// </summary>
    [Fact]
    public async Task A_login_for_other_scopes_does_not_answer_later_callers_of_the_scopes_its_caller_wanted()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var options = new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(["openid", "read"]));

        var first = Get(accounts, Alice, options, scopes: ["mail"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice"))); // at-2, "read write"
        Assert.Equal("at-2", (await first).Token);

        var later = await Get(accounts, Alice, scopes: ["mail"]);

        Assert.Equal("at-3", later.Token); // a refresh asking for 'mail', with the refresh token the login brought
        Assert.Equal(2, strategy.Refreshes);
    }

    /// <summary>
    /// The app's own login ends during a refresh that the provider then refuses: a caller waiting for other scopes than
    /// that login brought is not handed its tokens (the refused refresh was made for it, the login was not), but renewed
    /// for in a round of its own with the login's refresh token.
    /// </summary>
    [Fact]
    public async Task A_login_that_ended_during_a_refused_refresh_is_not_handed_to_a_caller_whose_scopes_it_lacks()
    {
        var (strategy, _, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var mailer = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["mail"]);
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval); // the refresh is at the provider, held

        var signedIn = strategy.Issue("alice"); // at-2, "read write"
        var remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, signedIn), Wait);
        await AccountHasTakenAsync(accounts);
        strategy.Release(); // refused: invalid_grant

        Assert.Equal(Alice, (await remembered).Account);
        Assert.Equal("at-3", (await mailer).Token);
        Assert.Equal(2, strategy.Refreshes);
    }

    /// <summary>
    /// The app's own login of the account ends while a refresh is under way, and the refresh is then refused: the callers
    /// get the login's tokens, stored once; no second login (a browser) is started, and the older login is not stored
    /// over the newer one afterwards.
    /// </summary>
    [Fact]
    public async Task A_login_that_ended_during_a_refused_refresh_serves_the_interactive_callers_instead_of_a_new_login()
    {
        var (strategy, flows, accounts, interactive) = await InteractiveCallerWithRefreshHeldAsync();

        var signedIn = strategy.Issue("alice");
        var remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, signedIn), Wait);
        await AccountHasTakenAsync(accounts); // the account has queued the login's tokens
        strategy.Release(); // refused: invalid_grant

        Assert.Equal(signedIn.AccessToken, (await interactive).Token);
        Assert.Equal(Alice, (await remembered).Account);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // no login started
        Assert.Equal(signedIn.AccessToken, (await Get(accounts, Alice)).Token);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_login_an_interactive_caller_waits_for_asks_for_the_scopes_it_wants_a_token_for(bool ownLoginScopes)
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var options = ownLoginScopes
            ? new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(["openid", "profile", "api://b/.default"]))
            : AccessTokenOptions.Interactive;

        _ = Get(accounts, Alice, options, scopes: ["api://b/.default"]);

        // Its login request's own scopes win; without them, the login asks for what the caller wants a token for, and for
        // openid (Alice is known by her ID token's subject, which the login must show again).
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(ownLoginScopes ? ["openid", "profile", "api://b/.default"] : ["openid", "api://b/.default"], start.Request.Scopes!);
    }

    [Fact]
    public async Task In_server_mode_a_refused_refresh_with_interaction_allowed_answers_interaction_required_and_starts_no_unbound_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync(serverMode: true);

        // The account has no browser to bind a login to: the app must sign the user in again from the user's request.
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice, AccessTokenOptions.Interactive));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(Alice, error.Account);
        Assert.Contains("IOAuthConnector.BeginAsync", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-1", error.Message, StringComparison.Ordinal);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        // The account is not stuck in a login: a login the app bound and ran is taken, and served.
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task An_interactive_login_as_someone_else_is_refused()
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);

        var call = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("bob")));

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => call);
        Assert.Equal(InteractionReason.AccountMismatch, error.Reason);
        // Bob's tokens are his: remembered under his account, not Alice's.
        await AwaitAssertAsync(async () => Assert.Equal("at-1", (await Get(accounts, new OAuthAccount("p", "bob"))).Token), Wait);
    }

    /// <summary>
    /// An account known by its ID token's subject signs in again for a caller's own scopes (a resource's, which bring no
    /// ID token): the login asks for <c>openid</c> as well, and a login that still shows no ID token is nobody's, not the
    /// account's by the key it was started with (whoever signed in would pass for Alice).
    /// </summary>
    [Fact]
    public async Task An_interactive_login_for_a_callers_own_scopes_must_show_the_accounts_subject()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var call = Get(accounts, Alice, AccessTokenOptions.Interactive, ["api://b/.default"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(["openid", "api://b/.default"], start.Request.Scopes);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue()));

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => call);
        Assert.Equal(InteractionReason.AccountMismatch, error.Reason);
        Assert.Contains("no ID token", error.Message);
        // Alice's account did not take the unidentified tokens.
        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Equal(InteractionReason.RefreshRefused, silent.Reason);
    }

    [Fact]
    public async Task An_interactive_login_for_a_callers_own_scopes_that_shows_the_accounts_subject_serves_the_caller()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var call = Get(accounts, Alice, AccessTokenOptions.Interactive, ["read"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));

        // Served although the login asked for one scope more than the caller (openid, to tell who signed in).
        Assert.Equal("at-2", (await call).Token);
    }

    /// <summary>An account the app keyed itself (its provider brings no ID token) signs in again by that key, as before.</summary>
    [Fact]
    public async Task An_account_keyed_by_the_app_signs_in_again_without_an_ID_token()
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);
        await Remember(accounts, Alice, strategy.Issue());
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.RevokeAll();

        var call = Get(accounts, Alice, AccessTokenOptions.Interactive, ["read"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(["read"], start.Request.Scopes);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue()));

        Assert.Equal("at-2", (await call).Token);
    }
}
