using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// An app under a path base (<c>UsePathBase("/app")</c>, as behind a proxy that serves it at <c>/app</c>) maps its
/// callback without the base, while its redirect URI carries it. Before, <c>MapOAuthCallback("/oauth/callback")</c>
/// refused to start (the paths differed), and mapping the full path matched no request.
/// </summary>
public sealed class ServerModePathBaseTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task An_app_under_a_path_base_signs_its_user_in_through_the_callback_mapped_without_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-path-base", pathBase: "/app");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        app.UsePathBase("/app");
        app.UseRouting();
        PendingLogin? login = null;
        app.MapOAuthCallback("/oauth/callback");
        app.MapPost("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            login = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint("alice"));
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            using var connect = await browser.PostAsync(new Uri(callback, "/app/connect"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            using var authorize = await browser.GetAsync(connect.Headers.Location, ct);
            var back = authorize.Headers.Location!;
            Assert.StartsWith("/app/oauth/callback/sandbox?", back.PathAndQuery, StringComparison.Ordinal);

            using var landing = await browser.GetAsync(back, ct);

            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            Assert.IsType<LoginSucceeded>(await login!.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
            // The same callback without the base is not this app's redirect URI.
            using var bare = await browser.GetAsync(new Uri(callback, "/oauth/callback/sandbox?state=x&code=y"), ct);
            Assert.Equal(HttpStatusCode.NotFound, bare.StatusCode);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task A_mapping_that_is_neither_the_redirect_path_nor_its_end_is_refused_at_once()
    {
        var builder = sandbox.ServerModeApp("o8-path-base-wrong", pathBase: "/app");
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapOAuthCallback("/oauth/other"));

        Assert.Contains("UsePathBase", error.Message, StringComparison.Ordinal);
    }
}
