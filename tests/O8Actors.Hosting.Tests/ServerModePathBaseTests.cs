using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestSupport;

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

    /// <summary>
    /// The redirect URI names '/app/oauth/callback', the callback is mapped at '/oauth/callback', and the app forgot
    /// <c>UsePathBase</c>: the map-time check takes '/app' for a path base, every redirect is answered 404 and every
    /// login times out, which used to leave only Debug lines. One Warning names the paths and the fix.
    /// </summary>
    [Fact]
    public async Task A_callback_whose_path_base_is_missing_is_answered_404_and_warned_about_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-path-base-missing", pathBase: "/app");
        builder.Logging.AddFakeLogging();
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback");
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            foreach (var attempt in new[] { "1", "2" })
            {
                var state = O8Actors.Flows.FlowSecrets.RandomToken(32);
                using var redirect = await browser.GetAsync(new Uri(callback, $"/oauth/callback/sandbox?state={state}&code=c{attempt}"), ct);
                Assert.Equal(HttpStatusCode.NotFound, redirect.StatusCode);
            }

            // Akka's log lines reach the app's logging under the actor system's category, their source in the message.
            IReadOnlyList<FakeLogRecord> Warnings() => app.Services.GetFakeLogCollector().GetSnapshot()
                .Where(r => r.Level == LogLevel.Warning && r.Message.Contains("[O8Actors.ServerModeCallback", StringComparison.Ordinal)).ToList();
            await Eventually.TrueAsync(() => Warnings().Count > 0, "the missing path base is warned about", TimeSpan.FromSeconds(30));
            var warning = Assert.Single(Warnings());
            Assert.Contains("UsePathBase", warning.Message, StringComparison.Ordinal);
            Assert.Contains("'/app/oauth/callback'", warning.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("c1", warning.Message, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// Only a request with a login's state counts as a provider's redirect that missed the path base: junk without one
    /// reaches a correctly configured app's callback route too (UsePathBase leaves a request without the prefix as it is).
    /// </summary>
    [Theory]
    [InlineData("", "/oauth/callback/sandbox", "LOGINSTATE", true)]
    [InlineData("", "/oauth/callback/sandbox", "node-1.LOGINSTATE", true)]
    [InlineData("", "/oauth/callback/sandbox", "junk", false)]
    [InlineData("", "/oauth/callback/sandbox", null, false)]
    [InlineData("/app", "/oauth/callback/sandbox", "LOGINSTATE", false)]
    public void A_redirect_misses_its_path_base_only_outside_the_redirect_path_and_with_a_logins_state(string pathBase, string path, string? state, bool misses)
    {
        var context = new DefaultHttpContext();
        context.Request.PathBase = pathBase;
        context.Request.Path = path;
        var login = O8Actors.Flows.FlowSecrets.RandomToken(32);
        if (state is not null) context.Request.QueryString = QueryString.Create("state", state.Replace("LOGINSTATE", login, StringComparison.Ordinal));

        Assert.Equal(misses, OAuthCallbackEndpoint.MissesItsPathBase(context.Request, "/app/oauth/callback"));
    }

    [Fact]
    public async Task A_mapping_that_is_neither_the_redirect_path_nor_its_end_is_refused_at_once()
    {
        var builder = sandbox.ServerModeApp("o8-path-base-wrong", pathBase: "/app");
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapOAuthCallback("/oauth/other"));

        Assert.Contains("UsePathBase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_relative_sign_in_redirect_takes_the_path_base_and_a_base_that_points_off_the_app_gets_no_redirect()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-path-base-redirect", pathBase: "/app");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        // As a proxy's X-Forwarded-Prefix would set it, trusted by the app: a base that a request can change.
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue("X-Test-Prefix", out var prefix)) context.Request.PathBase = new PathString(prefix.ToString());
            return next(context);
        });
        app.UsePathBase("/app");
        app.UseRouting();
        var logins = new Dictionary<string, PendingLogin>();
        app.MapOAuthCallback("/oauth/callback", o => o.SignedInRedirect = "~/welcome");
        app.MapPost("/connect", async (string user, HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint(user));
            lock (logins) logins[user] = login;
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(ct);
        try
        {
            async Task<HttpResponseMessage> ConnectAsync(string user, string? prefix)
            {
                using var browser = sandbox.Browser();
                using var connect = await browser.PostAsync(new Uri(callback, $"/app/connect?user={user}"), null, ct);
                using var authorize = await browser.GetAsync(connect.Headers.Location, ct);
                using var landing = new HttpRequestMessage(HttpMethod.Get, authorize.Headers.Location);
                if (prefix is not null) landing.Headers.Add("X-Test-Prefix", prefix);
                return await browser.SendAsync(landing, ct);
            }

            using (var landing = await ConnectAsync("alice", prefix: null))
            {
                Assert.Equal(HttpStatusCode.SeeOther, landing.StatusCode);
                Assert.Equal($"/app/welcome?o8_login={logins["alice"].LoginId}", landing.Headers.Location!.OriginalString);
            }
            Assert.IsType<LoginSucceeded>(await logins["alice"].Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));

            // A base of "//evil.example" would make "//evil.example/welcome", another host to a browser. Such a request
            // is no answer to this app's redirect URI (its base and path together are not the redirect path): 404, and the
            // login goes on waiting for its real answer.
            using (var landing = await ConnectAsync("bob", prefix: "//evil.example"))
            {
                Assert.Equal(HttpStatusCode.NotFound, landing.StatusCode);
                Assert.Null(landing.Headers.Location);
            }
            Assert.False(logins["bob"].Outcome.IsCompleted);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
