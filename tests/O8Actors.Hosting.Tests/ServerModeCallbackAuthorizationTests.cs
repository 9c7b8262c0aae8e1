using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// An app that requires a signed-in user everywhere (a fallback authorization policy) and signs its users in with
/// O8Actors: the browser coming back from the provider is not signed in yet. Before, the app challenged the callback
/// (302 to its login page, the code and state in that page's ReturnUrl) and the login waited out its deadline.
/// </summary>
public sealed class ServerModeCallbackAuthorizationTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task The_callback_reaches_O8Actors_in_an_app_that_requires_a_signed_in_user_everywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-callback-fallback-policy");
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        var appUri = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOAuthCallback("/oauth/callback");
        PendingLogin? begun = null;
        app.MapPost("/signin/{provider}", async (string provider, HttpContext context, IOAuthConnector connector) =>
        {
            begun = await connector.BeginAsync(context, provider);
            return Results.Redirect(begun.AuthorizeUrl.ToString());
        }).AllowAnonymous();
        app.MapGet("/private", () => "signed-in users only");
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            // The policy is in force: any other page sends an anonymous caller to the login page.
            using (var other = await browser.GetAsync(new Uri(appUri, "/private"), ct))
                Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);

            using var signIn = await browser.PostAsync(new Uri(appUri, "/signin/sandbox"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            using var authorize = await browser.GetAsync(signIn.Headers.Location, ct);
            Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
            using var callback = await browser.GetAsync(authorize.Headers.Location, ct);

            Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
            Assert.IsType<LoginSucceeded>(await begun!.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
