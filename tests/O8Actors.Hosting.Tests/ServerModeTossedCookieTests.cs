using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// A cookie named like the binding cookie but for its case (<c>__host-o8-login-{id}</c>) is no <c>__Host-</c> cookie to a
/// browser that checks the prefix case-sensitively (WebKit): a sibling subdomain sets it with <c>Domain=</c>, a plain-http
/// page sets it at all. ASP.NET Core's <c>HttpRequest.Cookies</c> matches names case-insensitively, so the landing page
/// took such a cookie as the binding (login CSRF) and the callback lost the genuine one behind it (BrowserMismatch). An
/// ordinary cookie whose value holds <c>,__Host-o8-login-{id}=…</c> would be the same attack in every browser.
/// </summary>
/// <remarks>The browsers here send their Cookie header as written, so the test decides the names and their order.</remarks>
public sealed class ServerModeTossedCookieTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private Task<ServerModeWebApp> StartAppAsync(string systemName) =>
        ServerModeWebApp.StartAsync(sandbox, systemName, (web, logins) =>
        {
            web.MapOAuthCallback("/oauth/callback", o => o.SignedInRedirect = "/welcome");
            web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
            {
                var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint(user));
                logins[login.LoginId] = login;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            });
            web.MapGet("/welcome", async (HttpContext context) =>
            {
                if (context.Request.Query[OAuthLanding.LoginIdParameter].ToString() is not { Length: > 0 } id
                    || !logins.TryGetValue(id, out var login) || !context.ClaimLogin(login))
                    return Results.StatusCode(StatusCodes.Status403Forbidden);
                var outcome = await login.Outcome.WaitAsync(Wait, context.RequestAborted);
                return Results.Text(outcome is LoginSucceeded s ? "signed in as " + SandboxFixture.Subject(s.Tokens.IdToken!) : "not signed in");
            });
        });

    /// <summary>A browser without a cookie jar: each request carries the Cookie header the test writes.</summary>
    private HttpClient BareBrowser() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        SslOptions = { RemoteCertificateValidationCallback = sandbox.Ca.CreateValidationCallback() },
    }, disposeHandler: true);

    private static async Task<HttpResponseMessage> GetAsync(HttpClient browser, Uri url, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Cookie", cookie);
        return await browser.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>The attacker begins a login as himself in his own browser and signs in at the provider, up to the callback's URL.</summary>
    private static async Task<(PendingLogin Login, Uri Callback)> AttackerUpToTheCallbackAsync(ServerModeWebApp app, HttpClient attacker, CancellationToken ct)
    {
        using var connect = await attacker.PostAsync(new Uri(app.Root, "/connect/sandbox?user=mallory"), null, ct);
        var login = app.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        using var authorize = await attacker.GetAsync(login.AuthorizeUrl, ct);
        return (login, authorize.Headers.Location!);
    }

    [Fact]
    public async Task A_case_variant_cookie_tossed_into_the_victims_browser_with_the_attackers_binding_does_not_claim_the_attackers_login()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-tossed-landing");
        await using var web = app.Web;
        try
        {
            // The attacker signs in as himself and stops at the callback's 303 to the landing page.
            using var attacker = sandbox.Browser();
            var (login, callbackUrl) = await AttackerUpToTheCallbackAsync(app, attacker, ct);
            using var callback = await attacker.GetAsync(callbackUrl, ct);
            Assert.Equal(HttpStatusCode.SeeOther, callback.StatusCode);
            var landing = new Uri(app.Root, callback.Headers.Location!);

            // The victim's browser holds only the tossed cookie: his binding, under the name in lower case.
            using var victim = BareBrowser();
            using (var victimLanding = await GetAsync(victim, landing, $"__host-o8-login-{login.LoginId}={login.BrowserBinding}"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, victimLanding.StatusCode);
                Assert.False(victimLanding.Headers.Contains("Set-Cookie"));
            }

            // The login is still his own browser's to claim.
            using var own = await attacker.GetAsync(landing, ct);
            Assert.Equal("signed in as mallory", await own.Content.ReadAsStringAsync(ct));
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The attacker signs in as himself, stops before the callback and sends its URL to the victim, whose browser holds an
    /// ordinary cookie he planted from a sibling subdomain with his binding inside its value (a browser ends a value only
    /// at <c>;</c>). Read as a binding cookie, it would complete the attacker's login in the victim's browser, and the
    /// callback would then set a genuine binding cookie there for the landing page: login CSRF.
    /// </summary>
    [Theory]
    [InlineData(",")]
    [InlineData(" ")]
    public async Task A_binding_smuggled_inside_a_planted_cookies_value_does_not_complete_the_attackers_login_in_the_victims_browser(string separator)
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-smuggled-callback-" + (separator == "," ? "comma" : "space"));
        await using var web = app.Web;
        try
        {
            using var attacker = sandbox.Browser();
            var (login, callbackUrl) = await AttackerUpToTheCallbackAsync(app, attacker, ct);

            using var victim = BareBrowser();
            using var callback = await GetAsync(victim, callbackUrl, $"o8x=1{separator}__Host-o8-login-{login.LoginId}={login.BrowserBinding}");

            Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
            Assert.False(callback.Headers.Contains("Set-Cookie"));
            Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(await login.Outcome.WaitAsync(Wait, ct)).Failure);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_case_variant_cookie_tossed_after_the_genuine_one_does_not_make_the_users_own_login_fail()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-tossed-callback");
        await using var web = app.Web;
        try
        {
            using var browser = BareBrowser();
            using var connect = await browser.PostAsync(new Uri(app.Root, "/connect/sandbox?user=alice"), null, ct);
            var login = app.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
            using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
            // The genuine cookie, and after it a tossed one: HttpRequest.Cookies kept only the later.
            var cookies = $"__Host-o8-login-{login.LoginId}={login.BrowserBinding}; __host-o8-login-{login.LoginId}=tossed";

            using var callback = await GetAsync(browser, authorize.Headers.Location!, cookies);

            Assert.Equal(HttpStatusCode.SeeOther, callback.StatusCode);
            Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
            // The callback sets the genuine cookie again for the landing page, with the genuine value.
            Assert.StartsWith($"__Host-o8-login-{login.LoginId}={login.BrowserBinding};", Assert.Single(callback.Headers.GetValues("Set-Cookie")),
                StringComparison.Ordinal);
            using var landing = await GetAsync(browser, new Uri(app.Root, callback.Headers.Location!), cookies);
            Assert.Equal("signed in as alice", await landing.Content.ReadAsStringAsync(ct));
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }
}
