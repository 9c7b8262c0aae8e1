using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Many web apps require a signed-in user everywhere (a fallback authorization policy). Neither the browser coming back
/// from the provider (not signed in to the app yet: the login is how it signs in) nor the provider's back-channel post
/// carries such a user. Before, the app challenged both: the callback's code and state went to the login page's
/// ReturnUrl and the login timed out; every back-channel logout was lost.
/// </summary>
[Collection(BackChannelLogoutPosters.Name)]
public sealed class ServerModeFallbackPolicyTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    /// <summary>
    /// Starts a server-mode app whose fallback policy requires an authenticated user, with the endpoints <paramref name="map"/>
    /// adds, and checks that the policy is in force: any other page sends an anonymous caller to the login page.
    /// </summary>
    private async Task<(WebApplication App, Uri Root)> StartAppRequiringSignedInUsersAsync(string systemName, Action<WebApplication> map)
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp(systemName);
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        var root = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        map(app);
        app.MapGet("/private", () => "signed-in users only");
        await app.StartAsync(ct);
        using var browser = sandbox.Browser();
        using var other = await browser.GetAsync(new Uri(root, "/private"), ct);
        Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);
        return (app, root);
    }

    [Fact]
    public async Task The_callback_reaches_O8Actors_in_an_app_that_requires_a_signed_in_user_everywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        PendingLogin? begun = null;
        var (app, root) = await StartAppRequiringSignedInUsersAsync("o8-callback-fallback-policy", web =>
        {
            web.MapOAuthCallback("/oauth/callback");
            web.MapPost("/signin/{provider}", async (string provider, HttpContext context, IOAuthConnector connector) =>
            {
                begun = await connector.BeginAsync(context, provider);
                return Results.Redirect(begun.AuthorizeUrl.ToString());
            }).AllowAnonymous();
        });
        await using var _ = app;
        try
        {
            using var browser = sandbox.Browser();
            using var signIn = await browser.PostAsync(new Uri(root, "/signin/sandbox"), null, ct);
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

    [Fact]
    public async Task The_providers_post_reaches_the_endpoint_in_an_app_that_requires_a_signed_in_user_everywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var (app, root) = await StartAppRequiringSignedInUsersAsync("o8-backchannel-fallback-policy", web => web.MapOAuthBackChannelLogout());
        await using var _ = app;
        try
        {
            using var provider = sandbox.Browser();
            // The endpoint itself judges the post: a malformed logout token gets its 400 (a 302 before).
            using var post = await provider.PostAsync(new Uri(root, "/oauth/backchannel-logout/sandbox"),
                new FormUrlEncodedContent([new("logout_token", "not-a-jwt")]), ct);
            Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
            Assert.Equal("application/json", post.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
