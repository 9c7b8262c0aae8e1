using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Login CSRF one hop after the callback: with <c>SignedInRedirect</c> the callback sent the browser to
/// <c>/welcome?o8_login={loginId}</c> and expired the binding cookie in the same 303, so the landing page had only the
/// public login id to go on. An attacker signed in with his own provider account in his own browser, sent the landing URL
/// he was redirected to to a victim, and a page that looked the login up by its id signed the victim in as the attacker.
/// Now the cookie goes to the landing page with the browser, and <see cref="OAuthLanding.ClaimLogin(HttpContext, PendingLogin)"/>
/// says yes only to the browser that started the login, once.
/// </summary>
/// <remarks>Two cookie jars over https play the attacker's browser and the victim's.</remarks>
public sealed class ServerModeLandingTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An app as the README writes it: <c>/connect</c> keeps each login by its id, the callback redirects to <c>/welcome</c>
    /// or <c>/sorry</c>, and those pages find the login by <c>o8_login</c> and act on it only when <paramref name="claim"/> says yes.
    /// </summary>
    private Task<ServerModeWebApp> StartAppAsync(string systemName, bool session, Func<HttpContext, PendingLogin, bool> claim) =>
        ServerModeWebApp.StartAsync(sandbox, systemName, (web, logins) =>
        {
            web.MapOAuthCallback("/oauth/callback", o =>
            {
                o.SignedInRedirect = "/welcome";
                o.SignInFailedRedirect = "/sorry";
                if (session) o.BrowserSecrets = SessionBindings.Read;
            });
            web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
            {
                var login = session
                    ? await connector.BeginAsync(provider, SandboxFixture.Hint(user))
                    : await connector.BeginAsync(context, provider, SandboxFixture.Hint(user));
                if (session) SessionBindings.Keep(context, login);
                logins[login.LoginId] = login;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            });
            foreach (var page in new[] { "/welcome", "/sorry" })
                web.MapGet(page, async (HttpContext context) =>
                {
                    if (context.Request.Query[OAuthLanding.LoginIdParameter].ToString() is not { Length: > 0 } id
                        || !logins.TryGetValue(id, out var login) || !claim(context, login))
                        return Results.StatusCode(StatusCodes.Status403Forbidden);
                    var outcome = await login.Outcome.WaitAsync(Wait, context.RequestAborted);
                    return Results.Text(outcome is LoginSucceeded signedIn ? "signed in as " + SandboxFixture.Subject(signedIn.Tokens.IdToken!) : "not signed in");
                });
        });

    /// <summary>Starts a login in <paramref name="browser"/> and follows it through the sandbox to the callback's answer.</summary>
    private static async Task<(PendingLogin Login, HttpResponseMessage Callback)> SignInAsync(ServerModeWebApp app, HttpClient browser, string user)
    {
        var ct = TestContext.Current.CancellationToken;
        using var connect = await browser.PostAsync(new Uri(app.Root, $"/connect/sandbox?user={user}"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var login = app.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        return (login, await browser.GetAsync(authorize.Headers.Location, ct));
    }

    [Theory]
    [InlineData("mallory", "/welcome", "signed in as mallory")]
    [InlineData("deny-mallory", "/sorry", "not signed in")]
    public async Task A_landing_URL_sent_to_another_browser_is_refused_there_and_claimed_once_by_the_browser_that_started_the_login(
        string user, string page, string landed)
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-landing-cookie", session: false, (context, login) => context.ClaimLogin(login));
        await using var web = app.Web;
        try
        {
            using var attacker = sandbox.Browser();
            using var victim = sandbox.Browser();

            // The attacker signs in with his own provider account in his own browser: the binding passes, and the
            // callback sends him to the landing page, his cookie going with him.
            var (login, callback) = await SignInAsync(app, attacker, user);
            Uri landingUrl;
            using (callback)
            {
                Assert.Equal(HttpStatusCode.SeeOther, callback.StatusCode);
                landingUrl = new Uri(app.Root, callback.Headers.Location!);
                Assert.Equal($"{page}?o8_login={login.LoginId}", callback.Headers.Location!.OriginalString);
                var kept = Assert.Single(callback.Headers.GetValues("Set-Cookie"));
                Assert.StartsWith($"__Host-o8-login-{login.LoginId}={login.BrowserBinding};", kept, StringComparison.Ordinal);
                foreach (var attribute in new[] { "secure", "httponly", "samesite=lax", "path=/", "max-age=300" })
                    Assert.Contains(attribute, kept, StringComparison.OrdinalIgnoreCase);
            }

            // He sends the landing URL to the victim: her browser did not start that login, and is refused.
            using (var victimLanding = await victim.GetAsync(landingUrl, ct))
                Assert.Equal(HttpStatusCode.Forbidden, victimLanding.StatusCode);

            // His own browser claims it, and the claim expires the cookie.
            using (var ownLanding = await attacker.GetAsync(landingUrl, ct))
            {
                Assert.Equal(HttpStatusCode.OK, ownLanding.StatusCode);
                Assert.Equal(landed, await ownLanding.Content.ReadAsStringAsync(ct));
                var cleared = Assert.Single(ownLanding.Headers.GetValues("Set-Cookie"));
                Assert.StartsWith($"__Host-o8-login-{login.LoginId}=;", cleared, StringComparison.Ordinal);
                Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
            }

            // Once: the same landing URL again, even from the browser that started the login, is refused.
            using (var again = await attacker.GetAsync(landingUrl, ct))
                Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_app_that_keeps_the_binding_in_its_session_tells_the_starting_browser_by_IsBoundTo_at_the_landing_page()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-landing-session", session: true, (context, login) =>
        {
            var key = SessionBindings.Prefix + login.LoginId;
            if (!login.IsBoundTo(context.Session.GetString(key))) return false;
            context.Session.Remove(key);
            return true;
        });
        await using var web = app.Web;
        try
        {
            using var attacker = sandbox.Browser();
            using var victim = sandbox.Browser();

            var (_, callback) = await SignInAsync(app, attacker, "mallory");
            Assert.Equal(HttpStatusCode.SeeOther, callback.StatusCode);
            var landingUrl = new Uri(app.Root, callback.Headers.Location!);
            callback.Dispose();

            using (var victimLanding = await victim.GetAsync(landingUrl, ct))
                Assert.Equal(HttpStatusCode.Forbidden, victimLanding.StatusCode);
            using (var ownLanding = await attacker.GetAsync(landingUrl, ct))
                Assert.Equal("signed in as mallory", await ownLanding.Content.ReadAsStringAsync(ct));
            using (var again = await attacker.GetAsync(landingUrl, ct))
                Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }
}
