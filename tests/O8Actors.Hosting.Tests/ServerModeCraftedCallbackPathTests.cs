using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// The path check (mix-up defence) runs before the browser binding, so whoever holds a live state of his own can send
/// anyone a callback URL under the callback path with words of his choosing in the path. The failure page quoted that
/// path: the sender's text on the app's own origin, in the victim's browser (HTML-encoded, so text, not script).
/// </summary>
public sealed class ServerModeCraftedCallbackPathTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task A_crafted_path_under_the_callback_is_refused_with_a_fixed_page_that_does_not_quote_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await ServerModeWebApp.StartAsync(sandbox, "o8-crafted-path", (web, logins) =>
        {
            web.MapOAuthCallback("/oauth/callback");
            web.MapPost("/connect/{provider}", async (string provider, HttpContext context, IOAuthConnector connector) =>
            {
                var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint("mallory"));
                logins[login.LoginId] = login;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            });
        });
        await using var web = app.Web;
        try
        {
            // The attacker's own login gives him a live state.
            using var attacker = sandbox.Browser();
            using var connect = await attacker.PostAsync(new Uri(app.Root, "/connect/sandbox"), null, ct);
            var login = Assert.Single(app.Logins.Values);
            var state = System.Web.HttpUtility.ParseQueryString(connect.Headers.Location!.Query)["state"];
            var crafted = new Uri(app.Root,
                "/oauth/callback/Your%20account%20is%20locked.%20Call%20+1-555-0100%20now?state=" + Uri.EscapeDataString(state!) + "&code=x");

            using var victim = sandbox.Browser();
            using var page = await victim.GetAsync(crafted, ct);

            Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            var body = await page.Content.ReadAsStringAsync(ct);
            Assert.DoesNotContain("locked", body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("555-0100", body, StringComparison.Ordinal);
            Assert.Contains("not the provider&#39;s callback address", body, StringComparison.Ordinal);
            // The app (and its log) still learn where the response arrived.
            var failed = Assert.IsType<LoginFailed>(await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Equal(LoginFailure.RedirectMismatch, failed.Failure);
            Assert.Contains("Your account is locked. Call +1-555-0100 now", failed.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await app.Web.StopAsync(CancellationToken.None);
        }
    }
}
