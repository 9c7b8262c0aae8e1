using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The orchestrator (real HTTPS listener with a development-CA certificate), the sandbox authorization server and the
/// scripted browser, wired by <see cref="O8TestHarness"/>: every fate a test can choose ends in its own outcome.
/// </summary>
public sealed class HarnessFlowTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Approve_returns_tokens_the_sandbox_issued_for_the_scripted_user()
    {
        await using var o8 = await O8TestHarness.StartAsync();

        var tokens = await o8.AuthorizeAsync(LoginScript.Approve("alice")).WaitAsync(Wait);

        Assert.True(o8.Sandbox.IsActive(tokens.AccessToken));
        Assert.NotNull(tokens.IdToken);
        Assert.True(o8.Sandbox.VerifyIdTokenSignature(tokens.IdToken!));
        Assert.Contains("\"sub\":\"alice\"", DecodeJwtPayload(tokens.IdToken!));
        Assert.True(tokens.CanRefresh);
        Assert.Equal(1, o8.Sandbox.Counters.CodesIssued);
        Assert.Equal(1, o8.Sandbox.Counters.TokensIssued);
        Assert.True(o8.UsesDevelopmentCa);
        Assert.Equal("https", o8.RedirectUri.Scheme);

        var visit = Assert.Single(o8.Browser!.Visits);
        var landed = await visit.Completion.WaitAsync(Wait);
        Assert.Equal(ScriptedVisitOutcome.Landed, landed.Outcome);
        Assert.Equal(200, landed.LandingStatus);
        Assert.Equal(o8.Sandbox.IssuerString, landed.CallbackParameter("iss"));
    }

    [Fact]
    public async Task Deny_raises_AuthorizationDeniedException_with_the_sandboxs_error()
    {
        await using var o8 = await O8TestHarness.StartAsync();

        var denied = await Assert.ThrowsAsync<AuthorizationDeniedException>(
            () => o8.AuthorizeAsync(LoginScript.Deny("Not today.")).WaitAsync(Wait));

        Assert.Equal("access_denied", denied.Error);
        Assert.Equal("Not today.", denied.ErrorDescription);
        Assert.Equal(1, o8.Sandbox.Counters.Denials);
        Assert.Equal(0, o8.Sandbox.Counters.TokenRequests);
        var ended = await o8.Events.WaitForEndAsync(denied.LoginId!);
        Assert.Equal(LoginOutcomeKind.Denied, ended.Outcome);
    }

    [Fact]
    public async Task Abandon_times_out_when_virtual_time_passes_the_deadline()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.VirtualTime = true);

        var login = o8.RunAsync(LoginScript.Abandon, TimeSpan.FromMinutes(5));
        var visit = await (await o8.Browser!.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);
        Assert.Equal(ScriptedVisitOutcome.Abandoned, visit.Outcome);
        Assert.False(login.IsCompleted);

        o8.Scheduler.Advance(TimeSpan.FromMinutes(5));

        var result = await login.WaitAsync(Wait);
        var timedOut = Assert.IsType<LoginTimedOut>(result.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(5), timedOut.Timeout);
        Assert.True(result.MatchesScript);
        Assert.Equal(1, o8.Sandbox.Counters.CodesIssued);
        Assert.Equal(0, o8.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_hanging_authorization_server_times_out_and_the_browser_gives_up_with_the_login()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.VirtualTime = true);

        var login = o8.RunAsync(LoginScript.NeverAnswer, TimeSpan.FromSeconds(90));
        await AwaitAsync(() => o8.Sandbox.Counters.NeverAnswered == 1, "the sandbox holds the authorize request");
        o8.Scheduler.Advance(TimeSpan.FromSeconds(90));

        var result = await login.WaitAsync(Wait);
        Assert.IsType<LoginTimedOut>(result.Outcome);
        var visit = await o8.Browser!.Visits[0].Completion.WaitAsync(Wait);
        Assert.Equal(ScriptedVisitOutcome.Cancelled, visit.Outcome);
    }

    [Fact]
    public async Task A_token_endpoint_fault_fails_the_login_with_the_reason()
    {
        await using var o8 = await O8TestHarness.StartAsync();

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.ServerError(503))).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(result.Outcome);
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Equal("server_error", failed.ProviderError);
        Assert.Contains("HTTP 503", failed.Reason);
        Assert.Contains(o8.ProviderName, failed.Reason);
        Assert.True(result.MatchesScript);
        Assert.Equal(1, o8.Sandbox.Counters.Faults(TokenFaultKind.ServerError));
        Assert.Equal(0, o8.Sandbox.Counters.TokensIssued);
    }

    [Theory]
    [InlineData(TokenFaultKind.MalformedJson, "not a token response")]
    [InlineData(TokenFaultKind.DropConnection, "failed before the token endpoint answered")]
    public async Task Malformed_and_dropped_token_responses_fail_the_login(TokenFaultKind kind, string reason)
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var fault = kind == TokenFaultKind.MalformedJson ? TokenFault.MalformedJson() : TokenFault.DropConnection();

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(fault)).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(result.Outcome);
        Assert.Contains(reason, failed.Reason);
        Assert.Equal(1, o8.Sandbox.Counters.Faults(kind));
    }

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_a_replayed_one_is_refused()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var first = await o8.AuthorizeAsync().WaitAsync(Wait);

        var second = await o8.RefreshAsync(first.RefreshToken!).WaitAsync(Wait);

        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.False(o8.Sandbox.IsRefreshTokenActive(first.RefreshToken!));
        Assert.True(o8.Sandbox.IsRefreshTokenActive(second.RefreshToken!));
        Assert.True(o8.Sandbox.IsActive(second.AccessToken));
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);

        var replay = await Assert.ThrowsAsync<TokenExchangeException>(() => o8.RefreshAsync(first.RefreshToken!).WaitAsync(Wait));
        Assert.Equal("invalid_grant", replay.ProviderError);
        Assert.DoesNotContain(first.RefreshToken!, replay.Message);
        // Replaying a rotated token revokes the whole family (RFC 9700 section 4.14.2).
        Assert.False(o8.Sandbox.IsRefreshTokenActive(second.RefreshToken!));
        Assert.False(o8.Sandbox.IsActive(second.AccessToken));
    }

    [Theory]
    [InlineData(ClientAuthMethod.Basic, false)]
    [InlineData(ClientAuthMethod.Post, false)]
    [InlineData(ClientAuthMethod.None, true)]
    public async Task Every_client_authentication_and_plain_http_work(ClientAuthMethod method, bool plainHttp)
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.ClientAuthentication = method;
            o.PlainHttp = plainHttp;
        });

        var result = await o8.RunAsync(LoginScript.Approve()).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(result.Outcome);
        Assert.Equal(plainHttp ? "http" : "https", o8.RedirectUri.Scheme);
        Assert.Equal(method, o8.Client.AuthMethod);
        Assert.Equal(0, o8.Sandbox.Counters.Errors("invalid_client"));
    }

    [Fact]
    public async Task The_harness_tags_logins_so_the_fate_follows_the_script_not_the_order()
    {
        await using var o8 = await O8TestHarness.StartAsync();

        var request = o8.Request(LoginScript.Deny());
        var outcome = await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait);

        Assert.StartsWith("o8tk-", request.Parameters["login_hint"]);
        Assert.Equal(o8.Options.LoginTimeout, request.Timeout);
        Assert.Equal(o8.Options.AbandonTimeout, o8.Request(LoginScript.Abandon).Timeout);
        Assert.IsType<LoginDenied>(outcome);
    }

    [Fact]
    public async Task Using_the_harness_before_it_started_says_how_to_start_it()
    {
        await using var o8 = new O8TestHarness();

        var error = Assert.Throws<InvalidOperationException>(() => o8.Logins);

        Assert.Contains("StartAsync", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new O8TestHarness(new O8TestHarnessOptions { LoginTimeout = TimeSpan.Zero }));
    }

    private static string DecodeJwtPayload(string jwt) =>
        System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[1]));

    private static Task AwaitAsync(Func<bool> condition, string because) => Eventually.TrueAsync(condition, because);
}
