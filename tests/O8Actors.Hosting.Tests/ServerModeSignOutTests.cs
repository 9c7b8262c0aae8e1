using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Server mode signs a user out of the provider's session the web app's way (OpenID Connect RP-Initiated Logout):
/// <c>POST /signout</c> → 302 to the sandbox's end-session endpoint → 302 back to <c>MapOAuthCallback</c> → the app's page.
/// </summary>
public sealed class ServerModeSignOutTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    // The outcome of the login each app's /connect began (one user per app).
    private readonly TaskCompletionSource<Task<LoginOutcome>> _login = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebApplication App(string systemName, bool endSession = true, string? signedOutRedirect = null,
        Func<HttpContext, IReadOnlyDictionary<string, string>?>? browserSecrets = null)
    {
        var builder = sandbox.ServerModeApp(systemName, endSession
            ? new Dictionary<string, string?> { ["O8:Providers:sandbox:EndSessionEndpoint"] = sandbox.Server.EndSessionEndpoint.ToString() }
            : null);
        var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback", o =>
        {
            o.SignedOutRedirect = signedOutRedirect;
            if (browserSecrets is not null) o.BrowserSecrets = browserSecrets;
        });
        app.MapPost("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint("alice") with { AccountKey = "alice" });
            _login.TrySetResult(login.Outcome);
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        return app;
    }

    /// <summary>Signs alice in through the app in <paramref name="browser"/>; returns her account.</summary>
    private async Task<OAuthAccount> ConnectAsync(HttpClient browser, Uri appUri)
    {
        using var connect = await browser.PostAsync(new Uri(appUri, "/connect"), null);
        using var authorize = await browser.GetAsync(connect.Headers.Location);
        using var landing = await browser.GetAsync(authorize.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        var outcome = await (await _login.Task.WaitAsync(Wait)).WaitAsync(Wait);
        return Assert.IsType<LoginSucceeded>(outcome).Account!;
    }

    private static Uri AppUri(WebApplication app) => new(new Uri(app.Configuration["O8:Listener:ExternalRedirectUri"]!).GetLeftPart(UriPartial.Authority));

    [Fact]
    public async Task The_user_is_sent_through_the_end_session_endpoint_and_back_to_the_apps_page()
    {
        var ct = TestContext.Current.CancellationToken;
        using var signOuts = new O8Actors.TestSupport.CounterRecorder("o8.signouts");
        await using var app = App("o8-server-signout", signedOutRedirect: "/goodbye");
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var account = await ConnectAsync(browser, AppUri(app));
            var connector = app.Services.GetRequiredService<IOAuthConnector>();
            var ended = sandbox.Server.EndedSessions.Count;

            var signOut = await connector.BeginSignOutAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);

            Assert.NotNull(signOut.EndSessionUrl);
            Assert.Equal(sandbox.Server.EndSessionEndpoint.AbsolutePath, signOut.EndSessionUrl.AbsolutePath);
            Assert.False(signOut.Outcome.IsCompleted, "the result waits for the user's return");
            Assert.Empty(await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));

            using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
            Assert.Equal(HttpStatusCode.Found, atProvider.StatusCode);
            Assert.StartsWith(app.Configuration["O8:Listener:ExternalRedirectUri"] + "/sandbox?state=", atProvider.Headers.Location!.ToString());
            using var back = await browser.GetAsync(atProvider.Headers.Location, ct);

            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            Assert.Equal("/goodbye", back.Headers.Location!.OriginalString);
            Assert.Equal("no-store", back.Headers.CacheControl?.ToString());
            var result = await signOut.Outcome.WaitAsync(Wait, ct);
            Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
            Assert.Equal(ended + 1, sandbox.Server.EndedSessions.Count);
            // Counted once, when answered: this app configures no revocation endpoint.
            Assert.Contains("1 revocation=not_supported provider_session=ended", signOuts.Measurements);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The provider's return from a sign-out carries a state and no code: no browser binding is needed, yet the app's
    /// binding store was read for it, and a store that was down gave the user a 500, left the sign-out waiting out its
    /// timeout and blamed the provider's post-logout redirect URIs, although the provider's session had ended.
    /// </summary>
    [Fact]
    public async Task A_sign_outs_return_is_served_while_the_apps_binding_store_is_down()
    {
        var ct = TestContext.Current.CancellationToken;
        var storeDown = false;
        await using var app = App("o8-server-signout-store-down", browserSecrets: context =>
            Volatile.Read(ref storeDown) ? throw new TimeoutException("the cache did not answer") : BrowserBindingCookie.Read(context));
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var account = await ConnectAsync(browser, AppUri(app));
            var signOut = await app.Services.GetRequiredService<IOAuthConnector>().BeginSignOutAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);
            Volatile.Write(ref storeDown, true);

            using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
            using var back = await browser.GetAsync(atProvider.Headers.Location, ct);

            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
            Assert.Equal(ProviderSessionOutcome.Ended, (await signOut.Outcome.WaitAsync(Wait, ct)).ProviderSession);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task Without_an_end_session_endpoint_there_is_no_url_and_the_result_says_so()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-server-signout-none", endSession: false);
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var account = await ConnectAsync(browser, AppUri(app));

            var signOut = await app.Services.GetRequiredService<IOAuthConnector>().BeginSignOutAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);

            Assert.Null(signOut.EndSessionUrl);
            Assert.True(signOut.Outcome.IsCompletedSuccessfully);
            Assert.Equal(ProviderSessionOutcome.NotSupported, (await signOut.Outcome).ProviderSession);
            Assert.Empty(await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task A_plain_sign_out_in_server_mode_says_it_cannot_open_the_users_browser()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-server-signout-plain");
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var account = await ConnectAsync(browser, AppUri(app));

            var result = await app.Services.GetRequiredService<IOAuthLogins>()
                .SignOutAsync(account, SignOutOptions.EndingProviderSession, ct).WaitAsync(Wait, ct);

            Assert.Equal(ProviderSessionOutcome.Failed, result.ProviderSession);
            Assert.Contains("BeginSignOutAsync", result.ProviderSessionReason);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("goodbye")]
    [InlineData("/café")]        // not a header value: every sign-out return would end in a 500
    [InlineData("/signed out")]
    public void A_signed_out_redirect_off_the_app_is_refused_when_the_callback_is_mapped(string redirect)
    {
        var app = sandbox.ServerModeApp("o8-server-signout-bad").Build();

        var error = Assert.Throws<ArgumentException>(() => app.MapOAuthCallback("/oauth/callback", o => o.SignedOutRedirect = redirect));

        Assert.Contains("SignedOutRedirect", error.Message);
    }
}
