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
/// A login whose token response leaves out <c>scope</c> (RFC 6749 section 5.1: it grants what was asked) is stored with
/// the scopes the login asked for, whichever way it is stored, so its token is never served for scopes it was not asked
/// for. The provider is a probe: each test sees whether a refresh is asked for.
/// </summary>
public sealed class LoginScopeTests() : TestKit(ConfigurationFactory.ParseString(
    """
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    """))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly OAuthAccount Alice = new("p", "alice");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static Task<AccessToken> Get(IActorRef accounts, AccessTokenOptions options, params string[] scopes) =>
        accounts.Ask<AccessToken>(new GetAccessToken(Alice, scopes.Length == 0 ? null : scopes, options), Wait);

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
