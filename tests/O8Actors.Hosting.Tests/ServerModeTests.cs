using System.Collections.Concurrent;
using System.Net;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Server mode end to end: a minimal API app mounts the callback in its own pipeline (MapOAuthCallback); many users
/// connect at once through <c>POST /connect/{provider}</c> → 302 → sandbox → callback, each getting their own tokens.
/// Each user is a browser of its own (its own cookie jar, over https): the login's browser-binding cookie set by
/// <c>BeginAsync(HttpContext, ...)</c> must come back with that user's callback, and only with it.
/// </summary>
public sealed class ServerModeTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private const int Users = 100;

    [Fact]
    public async Task Hundred_users_connect_at_once_through_MapOAuthCallback()
    {
        var builder = sandbox.ServerModeApp("o8-server-mode");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        var port = callback.Port;
        await using var app = builder.Build();

        var connections = new ConcurrentDictionary<string, Task<LoginOutcome>>();
        app.MapOAuthCallback("/oauth/callback");
        app.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint(user));
            connections[user] = login.Outcome;
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            async Task<string> ConnectAsync(string user)
            {
                using var http = sandbox.Browser();
                using var connect = await http.PostAsync($"https://127.0.0.1:{port}/connect/sandbox?user={user}", null);
                Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
                using var authorize = await http.GetAsync(connect.Headers.Location);
                Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
                var back = authorize.Headers.Location!;
                Assert.StartsWith(callback.ToString(), back.ToString(), StringComparison.Ordinal);
                using var landing = await http.GetAsync(back);
                Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
                Assert.Equal("no-store", landing.Headers.CacheControl?.ToString());
                return user;
            }

            var users = Enumerable.Range(0, Users).Select(i => $"user{i:000}").ToArray();
            await Task.WhenAll(users.Select(ConnectAsync)).WaitAsync(TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken);

            var accessTokens = new HashSet<string>(StringComparer.Ordinal);
            foreach (var user in users)
            {
                var outcome = await connections[user].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
                var tokens = Assert.IsType<LoginSucceeded>(outcome).Tokens;
                Assert.Equal(user, SandboxFixture.Subject(tokens.IdToken!)); // the user's own login, not a neighbour's
                Assert.True(sandbox.Server.VerifyIdTokenSignature(tokens.IdToken!));
                Assert.True(sandbox.Server.IsActive(tokens.AccessToken));
                Assert.True(accessTokens.Add(tokens.AccessToken));
            }

            // A replayed callback finds no login.
            using var http = sandbox.Browser();
            using var replay = await http.GetAsync(new Uri(callback, "?state=gone&code=x"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// A client for "the provider's only account" picked whoever had connected first: in server mode every other user's
    /// request (or an anonymous visitor's) carried that user's token, until a second user connected.
    /// </summary>
    [Fact]
    public async Task A_client_for_the_providers_only_account_is_refused_in_server_mode_and_never_sends_the_first_users_token()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-server-mode-only-account");
        builder.Services.AddHttpClient("only").AddOAuthAccessToken("sandbox");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        Task<LoginOutcome>? alice = null;
        app.MapOAuthCallback("/oauth/callback");
        app.MapPost("/connect/{provider}", async (string provider, HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, provider, SandboxFixture.Hint("alice") with { AccountKey = "alice" });
            alice = login.Outcome;
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(ct);
        try
        {
            using (var browser = sandbox.Browser())
            {
                using var connect = await browser.PostAsync($"https://127.0.0.1:{callback.Port}/connect/sandbox", null, ct);
                using var authorize = await browser.GetAsync(connect.Headers.Location, ct);
                using var landing = await browser.GetAsync(authorize.Headers.Location, ct);
                Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            }
            Assert.IsType<LoginSucceeded>(await alice!.WaitAsync(TimeSpan.FromSeconds(10), ct));
            // Alice is the provider's only account.
            Assert.Single(await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct));
            var before = sandbox.Server.Counters.UserInfoRequests;

            // Bob's request, through the app's client for "the only account".
            var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("only");
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(sandbox.Server.UserInfoEndpoint, ct));

            Assert.Contains("server mode", refused.Message, StringComparison.Ordinal);
            Assert.Equal(before, sandbox.Server.Counters.UserInfoRequests);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task A_begin_on_a_node_whose_actor_system_stopped_under_the_running_host_fails_at_once_instead_of_waiting_forever()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = sandbox.ServerModeApp("o8-stopped-system").Build();
        await app.StartAsync(ct);
        try
        {
            var connector = app.Services.GetRequiredService<IOAuthConnector>();
            Assert.NotNull(await connector.BeginAsync("sandbox", cancellationToken: ct)); // it works while the system runs

            // The actor system ends while the web host goes on (as when a cluster node leaves and shuts its system down).
            await app.Services.GetRequiredService<Akka.Actor.ActorSystem>().Terminate();

            var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() =>
                connector.BeginAsync("sandbox", cancellationToken: ct).WaitAsync(TimeSpan.FromSeconds(10), ct));
            Assert.Equal(LoginFailure.ListenerUnavailable, error.Failure);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The load balancer goes on sending browsers back to a node whose actor system stopped (downed by split-brain
    /// resolution, or it left): each callback waited the whole browser wait (35 s) for a 504, and held up the host's drain.
    /// </summary>
    [Fact]
    public async Task A_callback_on_a_node_whose_actor_system_stopped_under_the_running_host_is_answered_shutting_down_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-stopped-system-callback");
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback");
        await app.StartAsync(ct);
        try
        {
            // A login waits for its browser when the node's actor system ends under the running web host.
            var login = await app.Services.GetRequiredService<IOAuthConnector>().BeginAsync("sandbox", cancellationToken: ct);
            var state = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(login.AuthorizeUrl.Query)["state"].ToString();
            await app.Services.GetRequiredService<Akka.Actor.ActorSystem>().Terminate();

            // Well under the 35 s the request waited: a bound on the whole request, not a measure of its speed.
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(TimeSpan.FromSeconds(10));
            using var browser = sandbox.Browser();
            using var page = await browser.GetAsync(new Uri(callback + "/sandbox?state=" + Uri.EscapeDataString(state) + "&code=c"), bounded.Token);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Contains("shutting down", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
