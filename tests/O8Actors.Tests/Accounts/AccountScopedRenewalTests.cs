using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Runtime;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// <c>GetAccessTokenAsync(account, scopes)</c> while a renewal is under way: callers that ask for other scopes than the
/// refresh in flight are never handed its token unless it carries their scopes; they get a refresh of their own, and a
/// refresh refused for one caller's scopes fails only that caller. A login whose response names no scope (RFC 6749
/// section 5.1: it grants what was asked) is stored with the scopes it asked for, whichever way it is stored.
/// The provider is a probe, so each test sees exactly which refreshes are asked for and answers them itself.
/// </summary>
public sealed class AccountScopedRenewalTests() : TestKit(ConfigurationFactory.ParseString(
    """
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    """))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly OAuthAccount Alice = new("p", "alice");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    /// <summary>Alice signed in with scopes "read write", her access token now expired; the provider is <c>Providers</c>.</summary>
    private async Task<(IActorRef Accounts, TestProbe Providers)> ExpiredAccountAsync(IActorRef? flows = null)
    {
        var providers = CreateTestProbe();
        var accounts = this.AccountsOver(new InMemoryTokenStore(), providers.Ref, flows);
        var login = new TokenSet("at-1", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-1", "read write");
        Assert.Equal(Alice, (await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, login), Wait)).Account);
        Clock.Advance(TimeSpan.FromHours(1));
        return (accounts, providers);
    }

    private static Task<AccessToken> Get(IActorRef accounts, params string[] scopes) => Get(accounts, AccessTokenOptions.Silent, scopes);

    private static Task<AccessToken> Get(IActorRef accounts, AccessTokenOptions options, params string[] scopes) =>
        accounts.Ask<AccessToken>(new GetAccessToken(Alice, scopes.Length == 0 ? null : scopes, options), Wait);

    /// <summary>Returns once the account's actor has taken every request sent to the supervisor before the call.</summary>
    private static async Task Delivered(IActorRef accounts, IActorRef account)
    {
        // Both answer Identify in mailbox order: the supervisor has forwarded what came before, then the account has taken it.
        await accounts.Ask<ActorIdentity>(new Identify(1), Wait);
        await account.Ask<ActorIdentity>(new Identify(2), Wait);
    }

    /// <summary>
    /// A caller with <paramref name="first"/> scopes starts a refresh; a caller with <paramref name="second"/> scopes
    /// arrives while it is under way. Returns both callers, the refresh asked for and the account's actor that asked.
    /// </summary>
    private async Task<(Task<AccessToken> First, Task<AccessToken> Second, RefreshTokens Refresh, IActorRef Account)> SecondCallerDuringARefreshAsync(
        IActorRef accounts, TestProbe providers, string[] first, string[] second)
    {
        var one = Get(accounts, first);
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        var account = providers.LastSender;
        var other = Get(accounts, second);
        await Delivered(accounts, account);
        return (one, other, refresh, account);
    }

    private TokenSet Refreshed(string accessToken, string refreshToken, string? scope) =>
        new(accessToken, "Bearer", Clock.Now + TimeSpan.FromHours(1), refreshToken, scope);

    [Fact]
    public async Task A_caller_asking_other_scopes_during_a_refresh_gets_a_refresh_of_its_own_not_the_token_asked_for_others()
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var (reader, writer, first, account) = await SecondCallerDuringARefreshAsync(accounts, providers, ["read"], ["write"]);
        var anyScope = Get(accounts);
        await Delivered(accounts, account);
        account.Tell(new CodeExchanged(first.RequestId, Refreshed("at-read", "rt-2", "read")));

        // The writer's refresh spends the refresh token the first one rotated, and asks for the writer's scope.
        var second = providers.ExpectMsg<RefreshTokens>(Wait);
        Assert.Equal(new[] { "read" }, first.Scopes);
        Assert.Equal("rt-2", second.RefreshToken);
        Assert.Equal(new[] { "write" }, second.Scopes);
        account.Tell(new CodeExchanged(second.RequestId, Refreshed("at-write", "rt-3", "write")));

        Assert.Equal("at-read", (await reader).Token);
        Assert.Equal("at-write", (await writer).Token);
        // A caller that named no scope takes the first token that came.
        Assert.Equal("at-read", (await anyScope).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// RFC 6749 section 5.1: an answer without <c>scope</c> grants what was asked. The refreshed token is kept with the
    /// scopes its refresh asked for, so a caller asking for others during it is renewed for in a round of its own rather
    /// than handed a token taken as covering any scope.
    /// </summary>
    [Fact]
    public async Task A_refresh_answered_without_a_scope_is_taken_as_granting_what_it_asked_for()
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var (reader, writer, first, account) = await SecondCallerDuringARefreshAsync(accounts, providers, ["read"], ["write"]);
        account.Tell(new CodeExchanged(first.RequestId, Refreshed("at-read", "rt-2", scope: null)));

        var second = providers.ExpectMsg<RefreshTokens>(Wait);
        Assert.Equal(new[] { "write" }, second.Scopes);
        account.Tell(new CodeExchanged(second.RequestId, Refreshed("at-write", "rt-3", scope: null)));
        Assert.Equal("at-read", (await reader).Token);
        Assert.Equal("read", (await reader).Scope);
        Assert.Equal("at-write", (await writer).Token);
        // Served from memory by scope: the reader's token for "read", the writer's for "write".
        Assert.Equal("at-write", (await Get(accounts, "write")).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>Some providers answer the granted scope comma-separated (GitHub: <c>repo,gist</c>); it covers each of them.</summary>
    [Fact]
    public async Task A_comma_separated_granted_scope_covers_each_scope_it_names()
    {
        var providers = CreateTestProbe();
        var accounts = this.AccountsOver(new InMemoryTokenStore(), providers.Ref);
        var login = new TokenSet("gho-1", "bearer", null, null, "repo,gist");
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, login), Wait);

        Assert.Equal("gho-1", (await Get(accounts, "repo")).Token);
        Assert.Equal("gho-1", (await Get(accounts, "gist", "repo")).Token);
        // No refresh was tried (a GitHub OAuth app's token has no refresh token: one would end in InteractionRequired).
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Callers_asking_the_same_scopes_in_any_order_share_one_refresh()
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var (one, other, refresh, account) = await SecondCallerDuringARefreshAsync(accounts, providers, ["read", "write"], ["write", "read"]);
        account.Tell(new CodeExchanged(refresh.RequestId, Refreshed("at-2", "rt-2", "read write")));

        Assert.Equal("at-2", (await one).Token);
        Assert.Equal("at-2", (await other).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task The_callers_a_refresh_was_asked_for_get_it_even_when_the_provider_names_the_granted_scope_otherwise()
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var caller = Get(accounts, "User.Read");
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        // As Entra ID may: the scope granted is reported in its long form, which does not literally hold the one asked for.
        providers.LastSender.Tell(new CodeExchanged(refresh.RequestId, Refreshed("at-2", "rt-2", "https://graph.microsoft.com/User.Read")));

        Assert.Equal("at-2", (await caller).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// The provider names the scope granted otherwise than it was asked (Entra ID's long form): the next caller asking for
    /// the same gets the token that refresh brought, not a refresh per call (a scoped access-token handler refreshed, and
    /// rotated the refresh token, on every HTTP request). Another set of scopes still gets a refresh of its own.
    /// </summary>
    [Fact]
    public async Task A_caller_asking_again_for_scopes_the_provider_named_otherwise_is_served_without_another_refresh()
    {
        var (accounts, providers) = await ExpiredAccountAsync();
        var first = Get(accounts, "User.Read");
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        providers.LastSender.Tell(new CodeExchanged(refresh.RequestId, Refreshed("at-2", "rt-2", "https://graph.microsoft.com/User.Read")));
        Assert.Equal("at-2", (await first).Token);

        Assert.Equal("at-2", (await Get(accounts, "User.Read")).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        var other = Get(accounts, "Mail.Send");
        Assert.Equal(new[] { "Mail.Send" }, providers.ExpectMsg<RefreshTokens>(Wait).Scopes);
        Assert.False(other.IsCompleted);
    }

    /// <summary>
    /// A consent login runs for a scope the account's token lacks; meanwhile callers whose scopes the token, still fresh,
    /// carries are served from it, silent or interactive (they were refused, or kept waiting for the browser).
    /// </summary>
    [Fact]
    public async Task Callers_whose_scopes_the_fresh_token_carries_are_served_while_a_consent_login_runs()
    {
        var (accounts, consent, start) = await ConsentLoginRunningAsync();

        Assert.Equal(new[] { "mail.send" }, start.Request.Scopes);
        Assert.Equal("at-1", (await Get(accounts, "read")).Token);
        Assert.Equal("at-1", (await Get(accounts, AccessTokenOptions.Interactive, "read", "write")).Token);
        Assert.False(consent.IsCompleted);
    }

    /// <summary>
    /// A consent login runs for one caller's new scope; the account's own refresh token was not refused. While the user is
    /// on the consent page the token passes into its refresh margin: a silent caller it answers still gets it (valid for
    /// minutes yet), not "signing in again in the browser"; once it has expired, the caller is told to sign in.
    /// </summary>
    [Fact]
    public async Task A_silent_caller_inside_the_margin_is_served_the_still_valid_token_while_a_consent_login_runs()
    {
        var (accounts, consent, _) = await ConsentLoginRunningAsync();

        Clock.Advance(TimeSpan.FromMinutes(57));

        Assert.Equal("at-1", (await Get(accounts, "read")).Token);
        Clock.Advance(TimeSpan.FromMinutes(4));
        await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, "read"));
        Assert.False(consent.IsCompleted);
    }

    [Fact]
    public async Task A_caller_whose_scopes_the_new_token_already_carries_is_served_by_it_without_a_refresh_of_its_own()
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var (both, reader, refresh, account) = await SecondCallerDuringARefreshAsync(accounts, providers, ["read", "write"], ["read"]);
        account.Tell(new CodeExchanged(refresh.RequestId, Refreshed("at-2", "rt-2", "read write")));

        Assert.Equal("at-2", (await both).Token);
        Assert.Equal("at-2", (await reader).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// Alice holds a fresh one-hour token for <c>read write</c>; an interactive caller asks for <c>mail.send</c>, whose
    /// refresh the provider refuses (<c>invalid_grant</c>, Entra ID's answer for a scope not consented to), so a consent
    /// login starts and waits for its user.
    /// </summary>
    private async Task<(IActorRef Accounts, Task<AccessToken> Consent, StartFlow Start)> ConsentLoginRunningAsync()
    {
        var flows = CreateTestProbe();
        var providers = CreateTestProbe();
        var accounts = this.AccountsOver(new InMemoryTokenStore(), providers.Ref, flows.Ref);
        var login = new TokenSet("at-1", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-1", "read write");
        Assert.Equal(Alice, (await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, login), Wait)).Account);
        var consent = Get(accounts, AccessTokenOptions.Interactive, "mail.send");
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        providers.LastSender.Tell(Refused(refresh, "invalid_grant"));
        return (accounts, consent, flows.ExpectMsg<StartFlow>(Wait));
    }

    private static CodeExchangeFailed Refused(RefreshTokens refresh, string error) =>
        new(refresh.RequestId, LoginFailure.TokenExchange, $"The token refresh was refused: {error}.", error);

    /// <summary>
    /// A caller asks for a scope the provider will not refresh for (a typo, or one the user never consented to) and another
    /// asks for none during the same renewal: the refresh for the scope is refused, with <paramref name="error"/>.
    /// </summary>
    [Theory]
    [InlineData("invalid_scope")]
    [InlineData("invalid_grant")]
    public async Task A_refresh_refused_for_one_callers_scopes_fails_only_that_caller_and_the_others_get_a_round_of_their_own(string error)
    {
        var (accounts, providers) = await ExpiredAccountAsync();

        var (typo, plain, first, account) = await SecondCallerDuringARefreshAsync(accounts, providers, ["raed"], []);
        account.Tell(Refused(first, error));

        // invalid_grant answered for a scope says nothing certain of the refresh token: it is spent again, for the others.
        var second = providers.ExpectMsg<RefreshTokens>(Wait);
        Assert.Null(second.Scopes);
        Assert.Equal("rt-1", second.RefreshToken);
        account.Tell(new CodeExchanged(second.RequestId, Refreshed("at-2", "rt-2", "read write")));

        Assert.Equal("at-2", (await plain).Token);
        var failure = await Record.ExceptionAsync(() => typo);
        if (error == "invalid_grant") Assert.Equal(InteractionReason.RefreshRefused, Assert.IsType<InteractionRequiredException>(failure).Reason);
        else Assert.Equal(error, Assert.IsType<TokenExchangeException>(failure).ProviderError);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_caller_whose_scopes_the_provider_refused_to_refresh_signs_in_for_them_after_the_others_are_served()
    {
        var flows = CreateTestProbe();
        var (accounts, providers) = await ExpiredAccountAsync(flows.Ref);

        var consent = Get(accounts, AccessTokenOptions.Interactive, "mail.send");
        var first = providers.ExpectMsg<RefreshTokens>(Wait);
        var account = providers.LastSender;
        var plain = Get(accounts);
        await Delivered(accounts, account);
        account.Tell(Refused(first, "invalid_grant"));

        // The silent caller is not sent to a sign-in: its own refresh serves it, and only then the login starts.
        var second = providers.ExpectMsg<RefreshTokens>(Wait);
        Assert.Null(second.Scopes);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        account.Tell(new CodeExchanged(second.RequestId, Refreshed("at-2", "rt-2", "read write")));
        Assert.Equal("at-2", (await plain).Token);

        var login = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(new[] { "mail.send" }, login.Request.Scopes);
        login.Completion!.SetResult(new LoginSucceeded(login.LoginId, new TokenSet("at-3", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-3", "mail.send")));
        Assert.Equal("at-3", (await consent).Token);
    }

    /// <summary>Tokens as a provider answers a login without naming the scope it granted.</summary>
    private TokenSet WithoutScope(string accessToken) => new(accessToken, "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-" + accessToken);

    /// <summary>Alice's login is stored with the scope it asked for, and a caller asking for another scope gets a refresh for it.</summary>
    private async Task AssertStoredAsAskedAsync(IActorRef accounts, InMemoryTokenStore store, TestProbe providers, string accessToken)
    {
        Assert.Equal("read", (await store.LoadAsync(Alice))!.Tokens.Scope);
        Assert.Equal(accessToken, (await Get(accounts, AccessTokenOptions.Silent, "read")).Token);
        var send = Get(accounts, AccessTokenOptions.Silent, "mail.send");
        Assert.Equal(new[] { "mail.send" }, providers.ExpectMsg<RefreshTokens>(Wait).Scopes);
        Assert.False(send.IsCompleted);
    }

    [Fact]
    public async Task An_apps_own_login_without_a_scope_in_its_response_is_stored_with_the_scopes_it_asked_for()
    {
        var providers = CreateTestProbe();
        var store = new InMemoryTokenStore();
        var accounts = this.AccountsOver(store, providers.Ref);
        var refs = new O8ActorRefs(providers.Ref, providers.Ref, CreateTestProbe().Ref, providers.Ref, accounts, new AccountCache());
        var client = new LoginClient(Sys, refs, O8Options.FromConfig());

        var outcome = await client.WithAccountAsync(new LoginSucceeded("login-1", WithoutScope("at-1")), "p",
            new AuthorizationRequest(["read"]) { AccountKey = "alice" });

        Assert.Equal(Alice, Assert.IsType<LoginSucceeded>(outcome).Account);
        await AssertStoredAsAskedAsync(accounts, store, providers, "at-1");
    }

    [Fact]
    public async Task The_accounts_own_interactive_login_without_a_scope_in_its_response_is_stored_with_the_scopes_it_asked_for()
    {
        var providers = CreateTestProbe();
        var flows = CreateTestProbe();
        var store = new InMemoryTokenStore();
        var accounts = this.AccountsOver(store, providers.Ref, flows.Ref);
        // Nothing stored: the caller's own login runs, asking for "read".
        var caller = Get(accounts, AccessTokenOptions.Interactive, "read");
        var login = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(new[] { "read" }, login.Request.Scopes);

        login.Completion!.SetResult(new LoginSucceeded(login.LoginId, WithoutScope("at-1")));

        Assert.Equal("at-1", (await caller).Token);
        await AssertStoredAsAskedAsync(accounts, store, providers, "at-1");
    }
}
