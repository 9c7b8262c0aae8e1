using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Issue 11 §1, played over HTTP: a server-mode login belongs to the browser that started it (RFC 9700 section 4.7.1).
/// User A starts a login and sends its authorize URL to user B; B approves in B's own browser. On main that linked B's
/// provider account to A's app account. Now B's callback gets 400, A's login ends as BrowserMismatch, the sandbox never
/// sees a token request for that code, and A's own next login signs in.
/// </summary>
/// <remarks>Each "browser" is an HTTP client with its own cookie jar over https (the binding cookie is <c>__Host-</c>, so Secure).</remarks>
public sealed class ServerModeBrowserBindingTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A server-mode app whose <c>POST /connect/{provider}?user=</c> starts a login for the requesting browser.</summary>
    private Task<ServerModeWebApp> StartAppAsync(string systemName, Action<WebApplication, ConcurrentDictionary<string, PendingLogin>> map) =>
        ServerModeWebApp.StartAsync(sandbox, systemName, map);

    /// <summary>The cookie-binding app: BeginAsync(HttpContext, ...) and the default MapOAuthCallback.</summary>
    private Task<ServerModeWebApp> StartCookieAppAsync() => StartAppAsync("o8-binding-cookie", (web, logins) =>
    {
        web.MapOAuthCallback("/oauth/callback");
        web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint(user));
            logins[login.LoginId] = login;
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
    });

    /// <summary>POSTs /connect as <paramref name="browser"/>; returns the login it started and the authorize URL.</summary>
    private static async Task<(PendingLogin Login, HttpResponseMessage Response)> ConnectAsync(ServerModeWebApp app, HttpClient browser, string user)
    {
        var response = await browser.PostAsync(new Uri(app.Root, $"/connect/sandbox?user={user}"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var login = app.Logins.Values.Single(l => l.AuthorizeUrl == response.Headers.Location);
        return (login, response);
    }

    /// <summary>Follows an authorize URL in <paramref name="browser"/>: the sandbox approves and redirects to the callback, which is followed too.</summary>
    private static async Task<HttpResponseMessage> ApproveAndReturnAsync(HttpClient browser, Uri authorizeUrl)
    {
        var ct = TestContext.Current.CancellationToken;
        using var authorize = await browser.GetAsync(authorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        return await browser.GetAsync(authorize.Headers.Location, ct);
    }

    [Fact]
    public async Task A_forwarded_authorize_URL_completed_in_another_browser_links_nothing_and_the_code_is_never_redeemed()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartCookieAppAsync();
        await using var web = app.Web;
        try
        {
            using var browserA = sandbox.Browser();
            using var browserB = sandbox.Browser();

            // A starts a login and gets its binding cookie, with the attributes that keep it to A's browser.
            var (login, connect) = await ConnectAsync(app, browserA, "alice");
            var setCookie = Assert.Single(connect.Headers.GetValues("Set-Cookie"));
            connect.Dispose();
            Assert.StartsWith($"__Host-o8-login-{login.LoginId}=", setCookie, StringComparison.Ordinal);
            foreach (var attribute in new[] { "secure", "httponly", "samesite=lax", "path=/", "max-age=" })
                Assert.Contains(attribute, setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);

            // A sends the URL to B; B approves in B's own browser (another cookie jar).
            var tokenRequestsBefore = sandbox.Server.Counters.TokenRequests;
            using var landingB = await ApproveAndReturnAsync(browserB, login.AuthorizeUrl);

            Assert.Equal(HttpStatusCode.BadRequest, landingB.StatusCode);
            Assert.Contains("started in another browser", await landingB.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            var outcome = await login.Outcome.WaitAsync(Wait, ct);
            Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(outcome).Failure);
            Assert.Equal(tokenRequestsBefore, sandbox.Server.Counters.TokenRequests); // the code never reached the token endpoint
            // A caller awaiting tokens (AuthorizeAsync) gets the typed exception for it.
            var started = await app.Web.Services.GetRequiredService<O8Runtime>().GetAsync(ct);
            var thrown = Assert.Throws<BrowserMismatchException>(() => started.Client.TokensOf(outcome, "sandbox", ct));
            Assert.Equal(login.LoginId, thrown.LoginId);

            // A's own next login signs in.
            var (again, connectAgain) = await ConnectAsync(app, browserA, "alice");
            connectAgain.Dispose();
            using var landingA = await ApproveAndReturnAsync(browserA, again.AuthorizeUrl);
            Assert.Equal(HttpStatusCode.OK, landingA.StatusCode);
            // Its cookie has done its job and is expired by the callback's answer.
            var cleared = Assert.Single(landingA.Headers.GetValues("Set-Cookie"));
            Assert.StartsWith($"__Host-o8-login-{again.LoginId}=;", cleared, StringComparison.Ordinal);
            Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
            var tokens = Assert.IsType<LoginSucceeded>(await again.Outcome.WaitAsync(Wait, ct)).Tokens;
            Assert.Equal("alice", SandboxFixture.Subject(tokens.IdToken!));
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The response BeginAsync(HttpContext, ...) is part of carries the login's state (in the authorize URL the app
    /// redirects to) and its binding cookie: a shared cache or the browser's must not keep it, as ASP.NET Core's own OpenID
    /// Connect challenge says. It said nothing, so a cache could serve one user's redirect and cookie to another.
    /// </summary>
    [Fact]
    public async Task The_response_that_begins_a_login_is_not_to_be_stored_by_any_cache()
    {
        var app = await StartCookieAppAsync();
        await using var web = app.Web;
        try
        {
            using var browser = sandbox.Browser();
            var (_, connect) = await ConnectAsync(app, browser, "alice");
            using (connect)
            {
                Assert.True(connect.Headers.CacheControl?.NoStore, $"Cache-Control: {connect.Headers.CacheControl}");
                Assert.Contains("no-cache", connect.Headers.Pragma.Select(p => p.Name));
            }
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_begin_refused_for_an_invalid_request_leaves_no_waiter_behind()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartCookieAppAsync();
        await using var web = app.Web;
        try
        {
            var connector = app.Web.Services.GetRequiredService<IOAuthConnector>();
            var started = await app.Web.Services.GetRequiredService<O8Runtime>().GetAsync(ct);

            // A timeout taken from a query string, say: refused before any login starts, as often as it is asked.
            for (var i = 0; i < 3; i++)
                await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
                    connector.BeginAsync("sandbox", SandboxFixture.Hint("alice") with { Timeout = TimeSpan.Zero }, ct));

            Assert.Equal(0, started.Urls.Waiting);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// <c>IOAuthLogins.RunAsync</c> and <c>AuthorizeAsync</c> in server mode have no browser to bind their login to. They used
    /// to start it anyway: the launcher opened nothing, the URL went only to <c>AuthorizeUrlReadyEvent</c>, and whichever
    /// browser it was forwarded to completed the login (or the caller waited out the whole login timeout). Now they are
    /// refused at once, naming <c>BeginAsync</c>, and nothing starts.
    /// </summary>
    [Fact]
    public async Task RunAsync_and_AuthorizeAsync_of_a_browser_login_are_refused_at_once_naming_BeginAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartCookieAppAsync();
        await using var web = app.Web;
        try
        {
            var logins = app.Web.Services.GetRequiredService<IOAuthLogins>();
            var authorizeRequestsBefore = sandbox.Server.Counters.AuthorizeRequests;

            var run = await Assert.ThrowsAsync<InvalidOperationException>(() => logins.RunAsync("sandbox", SandboxFixture.Hint("alice"), ct).WaitAsync(Wait, ct));
            var authorize = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                logins.AuthorizeAsync("sandbox", SandboxFixture.Hint("alice") with { Method = LoginMethod.Auto }, ct).WaitAsync(Wait, ct));

            foreach (var error in new[] { run, authorize })
            {
                Assert.Contains("IOAuthConnector.BeginAsync", error.Message, StringComparison.Ordinal);
                Assert.Contains("server mode", error.Message, StringComparison.Ordinal);
            }
            Assert.Equal(0, (await logins.GetStatusAsync(ct)).LoginsInFlight);
            Assert.Equal(authorizeRequestsBefore, sandbox.Server.Counters.AuthorizeRequests);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_browser_holding_its_own_binding_cookie_cannot_complete_another_users_login()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartCookieAppAsync();
        await using var web = app.Web;
        try
        {
            using var victim = sandbox.Browser();
            using var attacker = sandbox.Browser();
            var (victimLogin, r1) = await ConnectAsync(app, victim, "alice");
            r1.Dispose();
            // The attacker has a genuine binding cookie of its own login; it does not open the victim's.
            var (attackerLogin, r2) = await ConnectAsync(app, attacker, "mallory");
            r2.Dispose();
            var tokenRequestsBefore = sandbox.Server.Counters.TokenRequests;

            using var landing = await ApproveAndReturnAsync(attacker, victimLogin.AuthorizeUrl);

            Assert.Equal(HttpStatusCode.BadRequest, landing.StatusCode);
            Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(await victimLogin.Outcome.WaitAsync(Wait, ct)).Failure);
            Assert.Equal(tokenRequestsBefore, sandbox.Server.Counters.TokenRequests);
            Assert.False(attackerLogin.Outcome.IsCompleted); // the attacker's own login is untouched
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The app's binding store times out (a cache's own <see cref="TimeoutException"/>): the browser gets the "sign-in
    /// ended" page the options promise, not the page of a login that did not answer in time (no login was asked), and
    /// the login is left as it was, waiting for a callback that can prove its browser.
    /// </summary>
    [Fact]
    public async Task A_binding_store_that_times_out_gets_the_ended_page_and_leaves_the_login_waiting()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-binding-store-timeout", (web, logins) =>
        {
            web.MapOAuthCallback("/oauth/callback", o => o.BrowserSecrets = _ => throw new TimeoutException("the cache did not answer"));
            web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
            {
                var login = await connector.BeginAsync(provider, SandboxFixture.Hint(user));
                logins[login.LoginId] = login;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            });
        });
        await using var web = app.Web;
        try
        {
            using var owner = sandbox.Browser();
            var (login, connect) = await ConnectAsync(app, owner, "alice");
            connect.Dispose();

            using var page = await ApproveAndReturnAsync(owner, login.AuthorizeUrl);

            Assert.Equal(HttpStatusCode.InternalServerError, page.StatusCode);
            Assert.Contains("ended before it could finish", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            // Still waiting a while later too: nothing ends it behind the page's back.
            await Assert.ThrowsAsync<TimeoutException>(() => login.Outcome.WaitAsync(TimeSpan.FromMilliseconds(500), ct));
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_app_that_keeps_the_binding_in_its_session_hands_it_back_through_MapOAuthCallback_options()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await StartAppAsync("o8-binding-session", (web, logins) =>
        {
            web.MapOAuthCallback("/oauth/callback", o => o.BrowserSecrets = SessionBindings.Read);
            web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
            {
                var login = await connector.BeginAsync(provider, SandboxFixture.Hint(user));
                Assert.Equal(43, login.BrowserBinding.Length);
                SessionBindings.Keep(context, login);
                logins[login.LoginId] = login;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            });
        });
        await using var web = app.Web;
        try
        {
            using var owner = sandbox.Browser();
            using var stranger = sandbox.Browser();

            // The owner's session holds the secret; no binding cookie is set in this mode.
            var (login, connect) = await ConnectAsync(app, owner, "alice");
            Assert.DoesNotContain(connect.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [],
                c => c.StartsWith("__Host-o8-login-", StringComparison.Ordinal));
            // The binding is then only as strong as the session cookie: as the docs ask, __Host- (so a sibling subdomain
            // cannot plant a session of its own holding an attacker's binding), Secure, HttpOnly, SameSite=Lax.
            var session = Assert.Single(cookies!);
            Assert.StartsWith($"{ServerModeWebApp.SessionCookieName}=", session, StringComparison.Ordinal);
            Assert.StartsWith("__Host-", ServerModeWebApp.SessionCookieName, StringComparison.Ordinal);
            foreach (var attribute in new[] { "secure", "httponly", "samesite=lax", "path=/" })
                Assert.Contains(attribute, session, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("domain=", session, StringComparison.OrdinalIgnoreCase);
            connect.Dispose();
            using var landing = await ApproveAndReturnAsync(owner, login.AuthorizeUrl);
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));

            // Another browser (no session) following a forwarded URL is refused, and the code is not redeemed.
            var (forwarded, connect2) = await ConnectAsync(app, owner, "alice");
            connect2.Dispose();
            var tokenRequestsBefore = sandbox.Server.Counters.TokenRequests;
            using var refused = await ApproveAndReturnAsync(stranger, forwarded.AuthorizeUrl);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(await forwarded.Outcome.WaitAsync(Wait, ct)).Failure);
            Assert.Equal(tokenRequestsBefore, sandbox.Server.Counters.TokenRequests);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }
}
