using System.Net;
using O8Actors.Configuration;
using O8Actors.Tests.Certificates;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// Many logins at once through the one real HTTPS listener (Kestrel + a real mkcert certificate) against a real
/// token endpoint that checks PKCE: every login must get its own token and none may cross over.
/// </summary>
public sealed class ConcurrentLoginsTests(MkcertFolderFixture certificates) : IClassFixture<MkcertFolderFixture>
{
    private const int Logins = 200;

    [Fact]
    public async Task Two_hundred_concurrent_logins_each_get_their_own_token()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var browser = new HttpClientBrowser();
        await using var flows = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Port = 0;
            setup.Options.Certificates = certificates.Options;
            setup.Options.Login.Timeout = TimeSpan.FromSeconds(60);
            setup.Browser = browser;
            setup.Providers.Add(server.Strategy("e2e"));
        });

        var states = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        using var subscription = flows.Events.Subscribe(new UrlObserver(states));

        var logins = Enumerable.Range(0, Logins).Select(_ => flows.RunAsync("e2e")).ToArray();
        var outcomes = await Task.WhenAll(logins).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Empty(browser.Errors);
        var succeeded = outcomes.OfType<LoginSucceeded>().ToList();
        Assert.Equal(Logins, succeeded.Count);
        Assert.Equal(Logins, succeeded.Select(s => s.Tokens.AccessToken).Distinct().Count());
        Assert.Equal(Logins, server.TokensIssued);
        Assert.Equal(0, server.Rejected);

        // No crossing: the token each caller got is the one the server issued for that login's own state.
        await AwaitAssertAsync(() => Assert.Equal(Logins, states.Count));
        foreach (var success in succeeded)
            Assert.Equal(PkceAuthorizationServer.AccessTokenFor(states[success.LoginId]), success.Tokens.AccessToken);

        // The page reaches the browser as the outcome reaches the caller; the browser records it a moment later.
        await AwaitAssertAsync(() => Assert.Equal(Logins, browser.Landings.Count));
        Assert.All(browser.Landings.Values, landing => Assert.Equal(HttpStatusCode.OK, landing.Status));
        Assert.All(browser.Landings.Values, landing => Assert.DoesNotContain("at-", landing.Body));
    }

    private static async Task AwaitAssertAsync(Action assertion)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try { assertion(); return; }
            catch when (DateTime.UtcNow < deadline) { await Task.Delay(20); }
        }
    }

    /// <summary>Records each login's state from its authorize URL.</summary>
    private sealed class UrlObserver(System.Collections.Concurrent.ConcurrentDictionary<string, string> states) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is AuthorizeUrlReadyEvent ready)
                states[ready.LoginId] = System.Web.HttpUtility.ParseQueryString(ready.AuthorizeUrl.Query)["state"]!;
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
