using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Pushed authorization requests (RFC 9126) against the sandbox: O8Actors discovers <c>/par</c>, pushes each login's
/// parameters and opens a URL with only <c>client_id</c> and <c>request_uri</c>; the sandbox refuses plain requests when
/// it requires pushing, and a request_uri is single use.
/// </summary>
public sealed class PushedAuthorizationSandboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Task<O8TestHarness> StartAsync(SandboxPushedAuthorization mode) =>
        O8TestHarness.StartAsync(o => o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = mode);

    [Theory]
    [InlineData(SandboxPushedAuthorization.Optional)]
    [InlineData(SandboxPushedAuthorization.Required)]
    public async Task Logins_push_their_request_and_open_a_url_with_only_client_id_and_request_uri(SandboxPushedAuthorization mode)
    {
        await using var o8 = await StartAsync(mode);

        var approved = await o8.RunAsync(LoginScript.Approve("alice")).WaitAsync(Wait);
        var denied = await o8.RunAsync(LoginScript.Deny("Not today.")).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(approved.Outcome);
        Assert.Equal("alice", succeeded.Tokens.IdTokenClaims?.Subject); // the pushed login_hint and nonce were used
        Assert.Equal("access_denied", Assert.IsType<LoginDenied>(denied.Outcome).Error);
        Assert.Equal(2, o8.Sandbox.Counters.PushedRequests);
        // The events reach the recorder after the outcome reaches the caller: each login's last one first, then read both URLs.
        await o8.Events.WaitForEndAsync(succeeded.LoginId, Wait);
        await o8.Events.WaitForEndAsync(denied.Outcome.LoginId, Wait);
        var urls = o8.Events.Events.OfType<AuthorizeUrlReadyEvent>().ToList();
        Assert.Equal(2, urls.Count);
        foreach (var ready in urls)
        {
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(ready.AuthorizeUrl.Query);
            Assert.Equal(["client_id", "request_uri"], query.Keys.Order());
            Assert.Equal(o8.Sandbox.AuthorizationEndpoint.AbsoluteUri, ready.AuthorizeUrl.GetLeftPart(UriPartial.Path));
        }
    }

    [Fact]
    public async Task A_refused_push_fails_the_login_at_once_and_opens_no_browser()
    {
        // The sandbox checks the push as /authorize would (RFC 9126 section 2.1): prompt=none with another value is refused.
        await using var o8 = await StartAsync(SandboxPushedAuthorization.Required);
        var request = o8.Request(LoginScript.Approve("alice"));
        request = request with { ExtraParameters = new Dictionary<string, string>(request.ExtraParameters!) { ["prompt"] = "none login" } };

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("pushed authorization request (RFC 9126)", failed.Reason);
        Assert.Contains("invalid_request", failed.Reason);
        Assert.Empty(o8.Browser!.Visits);
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
        Assert.Equal(0, o8.Sandbox.Counters.PushedRequests);
        Assert.Equal(0, o8.Sandbox.HeldPushedRequests);
    }

    [Fact]
    public async Task An_abandoned_pushed_login_is_abandoned_by_the_browser_and_times_out()
    {
        // The browser finds the login's script through the pushed login_hint: the URL it opens carries only request_uri.
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.VirtualTime = true;
            o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
        });

        var login = o8.RunAsync(LoginScript.Abandon, TimeSpan.FromMinutes(5));
        var visit = await (await o8.Browser!.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);
        Assert.Equal(ScriptedVisitOutcome.Abandoned, visit.Outcome);
        o8.Scheduler.Advance(TimeSpan.FromMinutes(5));

        var result = await login.WaitAsync(Wait);
        Assert.IsType<LoginTimedOut>(result.Outcome);
        Assert.True(result.MatchesScript);
        Assert.Equal(1, o8.Sandbox.Counters.PushedRequests);
        Assert.Equal(0, o8.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_sandbox_that_requires_pushing_refuses_a_plain_request_and_a_request_uri_is_single_use()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { PushedAuthorization = SandboxPushedAuthorization.Required });
        sandbox.RegisterClient("par-client", null, ["http://127.0.0.1:9/cb"], ClientAuthMethod.None);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var parameters = new Dictionary<string, string>
        {
            ["client_id"] = "par-client", ["response_type"] = "code", ["redirect_uri"] = "http://127.0.0.1:9/cb", ["state"] = "s1",
            ["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", ["code_challenge_method"] = "S256",
        };

        using var plain = await http.GetAsync(new Uri(sandbox.AuthorizationEndpoint, "?" + string.Join('&', parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"))));
        using var push = await http.PostAsync(sandbox.PushedAuthorizationEndpoint, new FormUrlEncodedContent(parameters));
        var requestUri = System.Text.Json.JsonDocument.Parse(await push.Content.ReadAsStringAsync()).RootElement.GetProperty("request_uri").GetString()!;
        var shortUrl = new Uri(sandbox.AuthorizationEndpoint, $"?client_id=par-client&request_uri={Uri.EscapeDataString(requestUri)}");
        using var first = await http.GetAsync(shortUrl);
        using var replay = await http.GetAsync(shortUrl);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, push.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Found, first.StatusCode);
        Assert.StartsWith("http://127.0.0.1:9/cb?code=", first.Headers.Location!.ToString());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, replay.StatusCode);
    }
}
