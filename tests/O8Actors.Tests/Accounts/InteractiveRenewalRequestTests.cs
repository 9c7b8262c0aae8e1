using O8Actors.Tests.EndToEnd;
using O8Actors.Tests.Flows;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A token request that may sign in carries the login to run (<see cref="AccessTokenOptions.Login"/>); the account's
/// actor starts that login later (after the account's lock and the store), so the request keeps the caller's lists as
/// they were at the call, as <see cref="IOAuthLogins.AuthorizeAsync"/> does.
/// </summary>
public sealed class InteractiveRenewalRequestTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_caller_that_changes_its_scope_list_after_the_call_does_not_change_the_login_it_asked_for()
    {
        var ct = CancellationToken.None;
        await using var server = await PkceAuthorizationServer.StartAsync();
        var store = new InMemoryTokenStore();
        var browser = new RecordingBrowser(); // opens nothing: the login waits, its authorize URL recorded
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = "http";
            setup.Browser = browser;
            setup.TokenStore = store;
            setup.Providers.Add(server.Strategy("p"));
        });
        var account = new OAuthAccount("p", "ada");
        var scopes = new List<string> { "read" };

        // The account's lock held: the call has returned, and its login has not started yet.
        var held = await store.LockAsync(account, ct);
        var token = logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(AllowInteraction: true,
            Login: new AuthorizationRequest(scopes, Timeout: TimeSpan.FromMinutes(1))), cancellationToken: ct);
        scopes.Add("admin");
        await held.DisposeAsync();

        await Eventually.TrueAsync(() => !browser.Opened.IsEmpty, "the account's login has opened its authorize URL", Wait);
        Assert.True(browser.Opened.TryPeek(out var opened));
        var scope = System.Web.HttpUtility.ParseQueryString(opened.Query)["scope"];
        Assert.Equal("read", scope);
        Assert.False(token.IsCompleted);
    }
}
