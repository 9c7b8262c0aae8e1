using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Many web apps require a signed-in user everywhere (a fallback authorization policy). The provider's back-channel post
/// carries no user: before, such an app answered it with a redirect to its login page, and every logout was lost.
/// </summary>
public sealed class ServerModeBackChannelLogoutAuthorizationTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task The_providers_post_reaches_the_endpoint_in_an_app_that_requires_a_signed_in_user_everywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-backchannel-fallback-policy");
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        var appUri = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOAuthBackChannelLogout();
        app.MapGet("/private", () => "signed-in users only");
        await app.StartAsync(ct);
        try
        {
            using var provider = sandbox.Browser();
            // The policy is in force: any other page sends an anonymous caller to the login page.
            using (var other = await provider.GetAsync(new Uri(appUri, "/private"), ct))
                Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);

            // The endpoint itself judges the post: a malformed logout token gets its 400 (a 302 before).
            using var post = await provider.PostAsync(new Uri(appUri, "/oauth/backchannel-logout/sandbox"),
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
