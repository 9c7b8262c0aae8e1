using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Server mode receives the provider's back-channel logout (OpenID Connect Back-Channel Logout 1.0) at
/// <c>MapOAuthBackChannelLogout</c>: a user signs in through the app in a browser, then the sandbox posts a logout token
/// server to server, and the account is gone and the app told. Every malformed or refused request gets its 4xx and a
/// JSON error, and signs nobody out; a logout this side could not carry out gets a 500, so the provider posts it again.
/// </summary>
[Collection(BackChannelLogoutPosters.Name)]
public sealed class ServerModeBackChannelLogoutTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TaskCompletionSource<Task<LoginOutcome>> _login = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<BackChannelLogoutResult> _appSessionsEnded = new();
    private string _clientId = "";
    // 1: the app's OnSignedOut throws once (its session store is down).
    private int _appFailsOnce;
    // Set: the app's OnSignedOut tells when it is reached, then waits for the gate (its session store is slow).
    private AppHold? _appHold;

    private sealed record AppHold(TaskCompletionSource Reached, TaskCompletionSource Gate);

    private WebApplication App(string systemName, bool captureLogs = false, Uri? jwksUri = null)
    {
        // The provider validates ID tokens (its key set), so the account is the ID token's sub and logout tokens can be checked.
        var builder = sandbox.ServerModeApp(systemName, new Dictionary<string, string?>
        {
            ["O8:Providers:sandbox:JwksUri"] = (jwksUri ?? sandbox.Server.JwksUri).ToString(),
            ["O8:Providers:sandbox:RevocationEndpoint"] = sandbox.Server.RevocationEndpoint.ToString(),
        });
        if (captureLogs)
        {
            builder.Logging.AddFakeLogging();
            builder.Logging.AddFilter("O8Actors.BackChannelLogout", LogLevel.Debug);
        }
        var app = builder.Build();
        _clientId = app.Configuration["O8:Providers:sandbox:ClientId"]!;
        app.MapOAuthCallback("/oauth/callback");
        app.MapOAuthBackChannelLogout("/oauth/backchannel-logout", o => o.OnSignedOut = async (result, _) =>
        {
            if (Interlocked.Exchange(ref _appHold, null) is { } hold)
            {
                hold.Reached.TrySetResult();
                await hold.Gate.Task;
            }
            if (Interlocked.Exchange(ref _appFailsOnce, 0) == 1) throw new InvalidOperationException("The app's session store is down.");
            _appSessionsEnded.Enqueue(result);
        });
        app.MapPost("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint("alice"));
            _login.TrySetResult(login.Outcome);
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        return app;
    }

    private async Task<(OAuthAccount Account, TokenSet Tokens)> ConnectAsync(HttpClient browser, Uri appUri)
    {
        using var connect = await browser.PostAsync(new Uri(appUri, "/connect"), null);
        using var authorize = await browser.GetAsync(connect.Headers.Location);
        using var landing = await browser.GetAsync(authorize.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        var succeeded = Assert.IsType<LoginSucceeded>(await (await _login.Task.WaitAsync(Wait)).WaitAsync(Wait));
        return (succeeded.Account!, succeeded.Tokens);
    }

    /// <summary>Alice signed in through the app; the app's back-channel logout endpoint and the provider's logout token of her session.</summary>
    private async Task<(OAuthAccount Account, Uri Endpoint, string LogoutToken)> SignedInWithLogoutTokenAsync(WebApplication app)
    {
        using var browser = sandbox.Browser();
        var (account, tokens) = await ConnectAsync(browser, AppUri(app));
        var sid = tokens.IdTokenClaims!.All.Single(c => c.Type == "sid").Value;
        return (account, new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox"), sandbox.Server.CreateLogoutToken(_clientId, "alice", sid));
    }

    private static Uri AppUri(WebApplication app) => new(new Uri(app.Configuration["O8:Listener:ExternalRedirectUri"]!).GetLeftPart(UriPartial.Authority));

    /// <summary>The endpoint's latest log line (the app's are captured with <c>captureLogs</c>).</summary>
    private static string LastEndpointLine(WebApplication app) =>
        app.Services.GetFakeLogCollector().GetSnapshot().Last(r => r.Category == "O8Actors.BackChannelLogout").Message;

    private static async Task<(HttpStatusCode Status, string? Error, string? Description)> ReadRefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("error").GetString(), json.RootElement.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task The_providers_logout_token_signs_the_account_out_and_tells_the_app()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel");
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var (account, tokens) = await ConnectAsync(browser, AppUri(app));
            Assert.Equal(new OAuthAccount("sandbox", "alice"), account);
            var sid = tokens.IdTokenClaims!.All.Single(c => c.Type == "sid").Value;
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");

            // The provider's server, not the user's browser: no cookies.
            using var provider = sandbox.Browser();
            using var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, sandbox.Server.CreateLogoutToken(_clientId, "alice", sid), ct);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Empty(await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
            Assert.False(sandbox.Server.IsActive(tokens.AccessToken));
            var told = Assert.Single(_appSessionsEnded);
            Assert.Equal([(account, RevocationOutcome.Revoked)], told.SignedOut.Select(r => (r.Account, r.Revocation)));
            Assert.Equal(sid, told.Token.SessionId);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// A user whose session the app still holds (its cookie outlived a restart that emptied an in-memory token store)
    /// while O8Actors holds no tokens of it: nothing is signed out here, and the app is still told, with the token's
    /// subject and session, to end its own session (the README's example ended only the accounts O8Actors signed out,
    /// so this user stayed signed in to the app after logging out at the provider).
    /// </summary>
    [Fact]
    public async Task A_logout_of_a_user_whose_tokens_this_app_no_longer_holds_still_tells_the_app_who_logged_out()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-no-tokens");
        await app.StartAsync(ct);
        try
        {
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");
            using var provider = sandbox.Browser();

            using var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint,
                sandbox.Server.CreateLogoutToken(_clientId, "bob", "bobs-session"), ct);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var told = Assert.Single(_appSessionsEnded);
            Assert.Empty(told.SignedOut);
            Assert.Equal(("bob", "bobs-session"), (told.Token.Subject, told.Token.SessionId));
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The app's part failed: the 500 tells the provider to post the token again (Back-Channel Logout 1.0 sections 2.7-2.8).
    /// That retry used to be refused as a replay (the jti was already accepted), and would have reported no account anyway
    /// (the first attempt had signed it out). Now it is carried out and the app hears of the account.
    /// </summary>
    [Fact]
    public async Task When_the_apps_OnSignedOut_fails_the_providers_retry_of_the_same_token_completes_with_the_account()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-retry", captureLogs: true);
        await app.StartAsync(ct);
        try
        {
            var (account, endpoint, logoutToken) = await SignedInWithLogoutTokenAsync(app);
            using var provider = sandbox.Browser();
            Volatile.Write(ref _appFailsOnce, 1);

            using (var failed = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct))
            {
                // Answered by the endpoint as every other answer (no-store, a JSON error), not left to the server's bare
                // 500, which had neither; the app's exception stays in the log, at Warning, without the token.
                var refusal = await ReadRefusalAsync(failed);
                Assert.Equal((HttpStatusCode.InternalServerError, "server_error"), (refusal.Status, refusal.Error));
                Assert.DoesNotContain("session store", refusal.Description, StringComparison.Ordinal);
            }
            var warning = Assert.Single(app.Services.GetFakeLogCollector().GetSnapshot(),
                r => r.Category == "O8Actors.BackChannelLogout" && r.Level == LogLevel.Warning);
            Assert.Equal("The app's session store is down.", warning.Exception?.Message);
            Assert.DoesNotContain(logoutToken, warning.Message, StringComparison.Ordinal);
            Assert.Empty(_appSessionsEnded);
            using var retried = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);

            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            var told = Assert.Single(_appSessionsEnded);
            Assert.Equal([account], told.SignedOut.Select(r => r.Account));
            Assert.Empty(await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
            // Carried out now: a third post is a replay.
            using var replay = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);
            var (status, _, description) = await ReadRefusalAsync(replay);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("replay", description, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The provider posts the token again while its first post is still being carried out (its own timeout passed). That
    /// post used to get a final 400 "replayed"; when the first then failed, its 500 went to a connection nobody listened on,
    /// and the logout was lost. It gets a 503 now (retry later), and the post after the failure is carried out.
    /// </summary>
    [Fact]
    public async Task A_token_posted_again_while_its_first_post_is_still_running_gets_a_503_and_a_later_retry_completes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-in-progress");
        await app.StartAsync(ct);
        var (reached, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            var (account, endpoint, logoutToken) = await SignedInWithLogoutTokenAsync(app);
            using var provider = sandbox.Browser();
            _appHold = new AppHold(reached, gate);
            Volatile.Write(ref _appFailsOnce, 1);

            var first = SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);
            await reached.Task.WaitAsync(Wait, ct);
            using (var again = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct))
            {
                var (status, error, description) = await ReadRefusalAsync(again);
                Assert.Equal((HttpStatusCode.ServiceUnavailable, "temporarily_unavailable"), (status, error));
                Assert.NotNull(again.Headers.RetryAfter);
                Assert.DoesNotContain(logoutToken, description, StringComparison.Ordinal);
            }
            gate.SetResult();
            using (var failed = await first.WaitAsync(Wait, ct))
                Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);

            using var retried = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);

            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            Assert.Equal([account], Assert.Single(_appSessionsEnded).SignedOut.Select(r => r.Account));
            // Carried out now: a post of it is a replay, refused for good.
            using var replay = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);
            Assert.Equal(HttpStatusCode.BadRequest, (await ReadRefusalAsync(replay)).Status);
        }
        finally
        {
            gate.TrySetResult(); // a failed assertion must not leave the first post holding the app's stop
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The provider's request goes away while the app's part of an accepted logout runs (its session store is slow), and
    /// the app is stopped. The logout goes on without its caller; the stop used to go on without it too: the accounts and
    /// the actor system stopped under it, and its token was never recorded as spent. The stop waits for it now.
    /// </summary>
    [Fact]
    public async Task Stopping_the_app_waits_for_a_logout_whose_request_went_away()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-stop");
        await app.StartAsync(ct);
        var (reached, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var stopping = Task.CompletedTask;
        try
        {
            var (account, endpoint, logoutToken) = await SignedInWithLogoutTokenAsync(app);
            using var provider = sandbox.Browser();
            _appHold = new AppHold(reached, gate);
            using var request = CancellationTokenSource.CreateLinkedTokenSource(ct);

            var posted = SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, request.Token);
            await reached.Task.WaitAsync(Wait, ct);
            await request.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => posted.WaitAsync(Wait, ct));
            stopping = app.StopAsync(ct);
            // Long enough for a stop that does not wait to have ended (it takes a fraction of it); one that waits never does.
            var stoppedFirst = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(2), ct)) == stopping;
            gate.SetResult();
            await stopping.WaitAsync(Wait, ct);

            Assert.False(stoppedFirst, "the app stopped before the logout it had accepted was carried out");
            Assert.Equal([account], Assert.Single(_appSessionsEnded).SignedOut.Select(r => r.Account));
        }
        finally
        {
            gate.TrySetResult();
            await stopping;
        }
    }

    /// <summary>
    /// The provider's key set cannot be read (its endpoint answers 404), so a well-formed logout token cannot be checked:
    /// the fault is this side's. It used to be answered 400 invalid_request, which tells the provider its request was bad
    /// and not to post it again, so the user stayed signed in; a 500 server_error asks for the retry.
    /// </summary>
    [Fact]
    public async Task A_logout_token_that_cannot_be_checked_because_the_key_set_cannot_be_read_is_answered_500_so_the_provider_retries()
    {
        var ct = TestContext.Current.CancellationToken;
        using var rejected = new CounterRecorder("o8.backchannel_logouts.rejected");
        await using var app = App("o8-backchannel-no-keys", captureLogs: true, jwksUri: new Uri(sandbox.Server.JwksUri, "/jwks-gone"));
        await app.StartAsync(ct);
        try
        {
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");
            using var provider = sandbox.Browser();
            var logoutToken = sandbox.Server.CreateLogoutToken(_clientId, "alice");

            using var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, logoutToken, ct);

            var (status, error, description) = await ReadRefusalAsync(response);
            Assert.Equal((HttpStatusCode.InternalServerError, "server_error"), (status, error));
            Assert.DoesNotContain(logoutToken, description, StringComparison.Ordinal);
            // Why goes to the app's log, not to whoever posted.
            Assert.Contains(app.Services.GetFakeLogCollector().GetSnapshot(),
                r => r.Category == "O8Actors.BackChannelLogout" && r.Message.Contains("key set could not be read", StringComparison.Ordinal));
            Assert.Equal(["1 reason=failed"], rejected.Measurements);
            Assert.Empty(_appSessionsEnded);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task Forged_logout_tokens_are_logged_at_debug_not_warning_and_counted_by_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        using var rejected = new CounterRecorder("o8.backchannel_logouts.rejected");
        await using var app = App("o8-backchannel-quiet", captureLogs: true);
        await app.StartAsync(ct);
        try
        {
            var logs = app.Services.GetFakeLogCollector();
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");
            using var anyone = sandbox.Browser();

            // Anyone who can reach the endpoint can post these as fast as they like: a Warning each would flood the log.
            for (var i = 0; i < 3; i++)
                using (var response = await anyone.PostAsync(endpoint, new FormUrlEncodedContent([new("logout_token", "x")]), ct))
                    Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using (var response = await anyone.PostAsync(endpoint, new FormUrlEncodedContent([new("token", "x")]), ct))
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

            var lines = logs.GetSnapshot().Where(r => r.Category == "O8Actors.BackChannelLogout").ToList();
            Assert.Equal(3, lines.Count(r => r.Level == LogLevel.Debug && r.Message.Contains("InvalidToken", StringComparison.Ordinal)));
            Assert.DoesNotContain(lines, r => r.Level >= LogLevel.Warning);
            Assert.Equal(["1 reason=invalid_token", "1 reason=invalid_token", "1 reason=invalid_token", "1 reason=malformed"], rejected.Measurements);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// A provider without a key set (the GitHub preset, a generic provider without <c>JwksUri</c>) refuses every logout
    /// token as NotSupported, and anyone could post <c>logout_token=x</c> to it: each post wrote a Warning line.
    /// </summary>
    [Fact]
    public async Task Anonymous_posts_for_a_provider_without_a_key_set_write_one_warning_and_the_rest_at_debug()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-backchannel-no-key-set");
        builder.Logging.AddFakeLogging();
        builder.Logging.AddFilter("O8Actors.BackChannelLogout", LogLevel.Debug);
        await using var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback");
        app.MapOAuthBackChannelLogout("/oauth/backchannel-logout");
        await app.StartAsync(ct);
        try
        {
            using var anyone = sandbox.Browser();
            for (var i = 0; i < 5; i++)
                using (var response = await anyone.PostAsync(new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox"),
                           new FormUrlEncodedContent([new("logout_token", "x")]), ct))
                    Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

            var lines = app.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "O8Actors.BackChannelLogout").ToList();
            Assert.Equal(5, lines.Count(r => r.Message.Contains("NotSupported", StringComparison.Ordinal)));
            Assert.Single(lines, r => r.Level == LogLevel.Warning);
            Assert.Equal(4, lines.Count(r => r.Level == LogLevel.Debug));
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>While the provider's key set cannot be read, every well-formed post is Failed (a 500): one Warning, not one each.</summary>
    [Fact]
    public async Task Posts_while_the_key_set_cannot_be_read_write_one_warning_and_the_rest_at_debug()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-no-keys-quiet", captureLogs: true, jwksUri: new Uri(sandbox.Server.JwksUri, "/jwks-gone"));
        await app.StartAsync(ct);
        try
        {
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");
            using var anyone = sandbox.Browser();
            for (var i = 0; i < 3; i++)
                using (var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(anyone, endpoint, sandbox.Server.CreateLogoutToken(_clientId, "alice"), ct))
                    Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

            var lines = app.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "O8Actors.BackChannelLogout").ToList();
            Assert.Equal(3, lines.Count(r => r.Message.Contains("(Failed)", StringComparison.Ordinal)));
            Assert.Single(lines, r => r.Level == LogLevel.Warning);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    /// <summary>
    /// The answer told an anonymous caller the refusal's whole message: one post of a token with an unknown key id got
    /// back the key set's URL; a Failed one the host and port that did not answer. Now each reason has a fixed text.
    /// </summary>
    [Fact]
    public async Task A_refusal_tells_an_anonymous_caller_a_fixed_text_per_reason_and_not_the_key_sets_address()
    {
        var ct = TestContext.Current.CancellationToken;
        var gone = new Uri(sandbox.Server.JwksUri, "/jwks-gone");
        await using var app = App("o8-backchannel-fixed-text", captureLogs: true);
        await using var broken = App("o8-backchannel-fixed-text-failed", jwksUri: gone);
        await app.StartAsync(ct);
        await broken.StartAsync(ct);
        try
        {
            static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var unknownKey = B64("{\"alg\":\"RS256\",\"kid\":\"nope\"}") + "." + B64("{\"iss\":\"x\"}") + ".AAAA";
            using var anyone = sandbox.Browser();

            using (var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(anyone, new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox"), unknownKey, ct))
            {
                var (status, _, description) = await ReadRefusalAsync(response);
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Equal("The logout token failed validation. No account was signed out.", description);
            }
            // The app's log still says why.
            Assert.Contains(sandbox.Server.JwksUri.ToString(), LastEndpointLine(app), StringComparison.Ordinal);

            using (var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(anyone, new Uri(AppUri(broken), "/oauth/backchannel-logout/sandbox"),
                       sandbox.Server.CreateLogoutToken(_clientId, "alice"), ct))
            {
                var (status, _, description) = await ReadRefusalAsync(response);
                Assert.Equal(HttpStatusCode.InternalServerError, status);
                Assert.Equal("The logout could not be completed; the logout token may be posted again.", description);
            }
        }
        finally
        {
            await app.StopAsync(ct);
            await broken.StopAsync(ct);
        }
    }

    [Fact]
    public async Task Every_bad_request_gets_its_4xx_and_a_JSON_error_and_the_user_stays_signed_in()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = App("o8-backchannel-refusals", captureLogs: true);
        await app.StartAsync(ct);
        try
        {
            using var browser = sandbox.Browser();
            var (account, _) = await ConnectAsync(browser, AppUri(app));
            var endpoint = new Uri(AppUri(app), "/oauth/backchannel-logout/sandbox");
            using var provider = sandbox.Browser();
            var good = sandbox.Server.CreateLogoutToken(_clientId, "alice");
            var form = (string token) => new FormUrlEncodedContent([new("logout_token", token)]);

            // The check that failed is the log's to name (at Debug: anyone may post), not the answer's.
            string LastLogLine() => LastEndpointLine(app);
            // For another client of the same provider.
            using (var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint, sandbox.Server.CreateLogoutToken("another", "alice"), ct))
            {
                var (status, error, description) = await ReadRefusalAsync(response);
                Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (status, error));
                Assert.Contains("(audience)", LastLogLine(), StringComparison.Ordinal);
            }
            // Signed by the provider for this client but shaped like an ID token: no logout event, a nonce.
            using (var response = await SandboxAuthorizationServer.PostLogoutTokenAsync(provider, endpoint,
                       sandbox.Server.CreateLogoutToken(_clientId, "alice", change: c => { c.Remove("events"); c["nonce"] = "n"; }), ct))
            {
                Assert.Equal(HttpStatusCode.BadRequest, (await ReadRefusalAsync(response)).Status);
                Assert.Contains("(events)", LastLogLine(), StringComparison.Ordinal);
            }
            // Not a form.
            using (var response = await provider.PostAsync(endpoint, new StringContent($"{{\"logout_token\":\"{good}\"}}", Encoding.UTF8, "application/json"), ct))
                Assert.Equal(HttpStatusCode.BadRequest, (await ReadRefusalAsync(response)).Status);
            // logout_token twice, or not at all.
            using (var response = await provider.PostAsync(endpoint, new FormUrlEncodedContent([new("logout_token", good), new("logout_token", good)]), ct))
                Assert.Contains("more than once", (await ReadRefusalAsync(response)).Description, StringComparison.Ordinal);
            using (var response = await provider.PostAsync(endpoint, new FormUrlEncodedContent([new("token", good)]), ct))
                Assert.Contains("no logout_token", (await ReadRefusalAsync(response)).Description, StringComparison.Ordinal);
            // Too large.
            using (var response = await provider.PostAsync(endpoint, form(new string('a', BackChannelLogoutEndpoint.MaxRequestBytes + 1)), ct))
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await ReadRefusalAsync(response)).Status);
            // Too large without a Content-Length (chunked): stopped at the same size (the form's own limits alone let up to
            // 16 values of 16 KiB each through, and this one's token signed alice out).
            var chunked = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(
                string.Join('&', Enumerable.Range(0, 3).Select(i => $"v{i}={new string('a', 8 * 1024)}")) + "&logout_token=" + good)));
            chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
            using (var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = chunked })
            {
                request.Headers.TransferEncodingChunked = true;
                using var response = await provider.SendAsync(request, ct);
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await ReadRefusalAsync(response)).Status);
            }
            // A provider the app does not have.
            using (var response = await provider.PostAsync(new Uri(AppUri(app), "/oauth/backchannel-logout/nobody"), form(good), ct))
                Assert.Equal(HttpStatusCode.NotFound, (await ReadRefusalAsync(response)).Status);
            // Not a POST.
            using (var response = await provider.GetAsync(endpoint, ct))
                Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);

            Assert.Equal([account], await app.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
            Assert.Empty(_appSessionsEnded);

            // The good token still works, once; its replay is refused.
            using (var response = await provider.PostAsync(endpoint, form(good), ct))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using (var response = await provider.PostAsync(endpoint, form(good), ct))
                Assert.Contains("replay", (await ReadRefusalAsync(response)).Description, StringComparison.Ordinal);
            Assert.Single(_appSessionsEnded);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
