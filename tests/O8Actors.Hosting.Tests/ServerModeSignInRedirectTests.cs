using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// In a web app the callback's tab is the app: <c>SignedInRedirect</c> and <c>SignInFailedRedirect</c> send the user back
/// into it (303, the login's id as <c>o8_login</c>, the reason never in the URL) instead of the "you can close this tab"
/// page, which left a web app's user on a dead end.
/// </summary>
public sealed class ServerModeSignInRedirectTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task A_sign_in_that_succeeds_or_is_denied_sends_the_user_back_into_the_app_with_the_logins_id()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-server-signin-redirect");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        var logins = new Dictionary<string, PendingLogin>();
        app.MapOAuthCallback("/oauth/callback", o =>
        {
            // A fragment stays last: the login's id goes into the query, which the browser sends (it never sends a fragment).
            o.SignedInRedirect = "/welcome#done";
            o.SignInFailedRedirect = "/sorry?from=o8#why";
        });
        app.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint(user));
            lock (logins) logins[user] = login;
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(ct);
        try
        {
            async Task<HttpResponseMessage> ConnectAsync(string user)
            {
                using var browser = sandbox.Browser();
                using var connect = await browser.PostAsync($"https://127.0.0.1:{callback.Port}/connect/sandbox?user={user}", null, ct);
                using var authorize = await browser.GetAsync(connect.Headers.Location, ct);
                return await browser.GetAsync(authorize.Headers.Location, ct);
            }

            using (var landing = await ConnectAsync("alice"))
            {
                Assert.Equal(HttpStatusCode.SeeOther, landing.StatusCode);
                Assert.Equal($"/welcome?o8_login={logins["alice"].LoginId}#done", landing.Headers.Location!.OriginalString);
                Assert.Equal("no-store", landing.Headers.CacheControl?.ToString());
            }
            Assert.IsType<LoginSucceeded>(await logins["alice"].Outcome.WaitAsync(TimeSpan.FromSeconds(10), ct));

            using (var landing = await ConnectAsync("deny-bob"))
            {
                Assert.Equal(HttpStatusCode.SeeOther, landing.StatusCode);
                Assert.Equal($"/sorry?from=o8&o8_login={logins["deny-bob"].LoginId}#why", landing.Headers.Location!.OriginalString);
            }
            Assert.IsType<LoginDenied>(await logins["deny-bob"].Outcome.WaitAsync(TimeSpan.FromSeconds(10), ct));

            // Anything that is not a login's answer keeps its page: a callback no login waits for.
            using var stray = await sandbox.Browser().GetAsync(new Uri(callback, "?state=gone&code=x"), ct);
            Assert.Equal(HttpStatusCode.BadRequest, stray.StatusCode);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/café")]
    [InlineData("~//evil.example/")]
    [InlineData("~/\\evil.example/")]
    [InlineData("~evil")]
    public void A_sign_in_redirect_off_the_app_is_refused_when_the_callback_is_mapped(string redirect)
    {
        var app = sandbox.ServerModeApp("o8-server-signin-redirect-bad").Build();

        Assert.Contains("SignedInRedirect", Assert.Throws<ArgumentException>(() =>
            app.MapOAuthCallback("/oauth/callback", o => o.SignedInRedirect = redirect)).Message, StringComparison.Ordinal);
        Assert.Contains("SignInFailedRedirect", Assert.Throws<ArgumentException>(() =>
            app.MapOAuthCallback("/oauth/callback", o => o.SignInFailedRedirect = redirect)).Message, StringComparison.Ordinal);
    }
}
