using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting;
using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Infrastructure;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 against oidc-provider: a server-mode app (ASP.NET Core over https with an
/// mkcert certificate, <c>MapOAuthCallback</c> and <c>MapOAuthBackChannelLogout</c>) signs a user in through Chromium;
/// then the user signs out at the provider itself (its <c>/session/end</c> page, as from another app), and the provider
/// posts its logout token, typed <c>logout+jwt</c> and naming the session, to the app, server to server. The app's
/// account is revoked and forgotten, and the app is told, before the provider shows the user its signed-out page.
/// </summary>
public sealed class BackChannelLogoutInteropTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private InteropParts _parts = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => _parts = await InteropParts.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_parts is not null) await _parts.DisposeAsync();
    }

    [Fact]
    public async Task Signing_out_at_the_provider_signs_the_account_out_of_the_app_through_the_back_channel()
    {
        var port = O8Actors.TestSupport.FreePorts.Next();
        var appRoot = new Uri($"https://localhost:{port}/");
        var client = await _parts.Provider.RegisterClientAsync(new Uri(appRoot, "/oauth/callback/oidc"),
            backChannelLogoutUri: new Uri(appRoot, "/oauth/backchannel-logout/oidc"));

        await using var app = _parts.ServerModeApp(appRoot, client, "o8-backchannel-interop").Build();

        var started = new TaskCompletionSource<PendingLogin>(TaskCreationOptions.RunContinuationsAsynchronously);
        var told = new TaskCompletionSource<BackChannelLogoutResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.MapOAuthCallback("/oauth/callback");
        app.MapOAuthBackChannelLogout("/oauth/backchannel-logout", o => o.OnSignedOut = (result, _) =>
        {
            told.TrySetResult(result);
            return Task.CompletedTask;
        });
        app.MapGet("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, "oidc",
                new AuthorizationRequest(Timeout: Wait, ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }));
            started.TrySetResult(login);
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync();
        try
        {
            var driver = new ChromiumLoginDriver(_parts.Chromium);
            await using var ownedDriver = driver;
            var browser = await _parts.Chromium.NewIsolatedContextAsync();
            await using var ownedBrowser = browser;

            // Alice signs in through the app: /connect sets the binding cookie and sends her to the provider.
            var page = await browser.NewPageAsync();
            page.SetDefaultTimeout((float)Wait.TotalMilliseconds);
            // Loaded to the end (the provider's sign-in page) and left open (the context closes it): closing it while its
            // navigation was under way hung Playwright in one CI run.
            await page.GotoAsync(new Uri(appRoot, "/connect").ToString());
            Assert.StartsWith(_parts.Provider.IssuerString, page.Url, StringComparison.Ordinal);
            var login = await started.Task.WaitAsync(Wait);
            var atApp = await driver.RunInAsync(browser, login.AuthorizeUrl, LoginScript.Approve, "alice");
            Assert.True(atApp.LandedOk, atApp.ToString());
            var succeeded = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait));
            var account = succeeded.Account!;
            var sid = succeeded.Tokens.IdTokenClaims!.All.Single(c => c.Type == "sid").Value;
            var logins = app.Services.GetRequiredService<IOAuthLogins>();
            Assert.Equal([account], await logins.GetAccountsAsync("oidc").WaitAsync(Wait));

            // She signs out at the provider itself, in the same browser (its session cookie), and confirms.
            var provider = await browser.NewPageAsync();
            provider.SetDefaultTimeout((float)Wait.TotalMilliseconds);
            await provider.GotoAsync($"{_parts.Provider.IssuerString}/session/end");
            await provider.Locator("button[name=logout][value=yes]").ClickAsync();

            var arrived = await Task.WhenAny(told.Task, Task.Delay(Wait));
            Assert.True(arrived == told.Task, $"No back-channel logout reached the app. The provider's stderr:\n{_parts.Provider.StandardError}");
            var result = await told.Task;
            Assert.Equal([(account, RevocationOutcome.Revoked)], result.SignedOut.Select(r => (r.Account, r.Revocation)));
            Assert.Equal((account.Key, sid), (result.Token.Subject, result.Token.SessionId));
            Assert.Empty(await logins.GetAccountsAsync("oidc").WaitAsync(Wait));
            var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => logins.GetAccessTokenAsync(account).WaitAsync(Wait));
            Assert.Equal(InteractionReason.NoAccount, error.Reason);
            Assert.False(await _parts.Provider.IsActiveAsync(client, succeeded.Tokens.RefreshToken!));
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
