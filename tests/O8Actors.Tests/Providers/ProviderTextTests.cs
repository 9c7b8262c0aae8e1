using System.Text.Json.Nodes;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A hostile server's <c>error</c> reaches exception messages (and so log lines) only cleaned, on every endpoint a
/// strategy calls, as on the token endpoint: no control characters (a newline would start a forged log line), and
/// capped. A real server and the real strategy, so Duende's parsing is part of it.
/// </summary>
public sealed class ProviderTextTests : IAsyncLifetime
{
    private const string Forged = "x\n[WARN] forged\r\u001b[31m";
    private static readonly string Long = "invalid_request" + new string('A', 5000);

    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;
    private string _error = Forged;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, _) => RecordingServer.Respond(context, 400, "application/json", new JsonObject { ["error"] = _error }.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy() => EveryEndpointOn(_server);

    public static TheoryData<string> Endpoints => ["par", "revoke", "device"];

    private Task Call(string endpoint) => endpoint switch
    {
        "par" => Strategy().BuildAuthorizeUrlAsync(AuthorizeContext(), _http, CancellationToken.None),
        "revoke" => Strategy().RevokeAsync(new RevocationContext(RefreshToken, "refresh_token"), _http, CancellationToken.None),
        _ => Strategy().RequestDeviceAuthorizationAsync(new DeviceAuthorizationContext([], new Dictionary<string, string>()), _http, CancellationToken.None),
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task An_error_with_control_characters_or_of_any_length_is_cleaned_before_it_reaches_a_message(string endpoint)
    {
        var forged = await Assert.ThrowsAsync<TokenExchangeException>(() => Call(endpoint));
        Assert.DoesNotContain(forged.Message, char.IsControl);
        Assert.DoesNotContain(forged.ProviderError!, char.IsControl);
        Assert.Contains("x [WARN] forged", forged.Message, StringComparison.Ordinal);

        _error = Long;
        var tooLong = await Assert.ThrowsAsync<TokenExchangeException>(() => Call(endpoint));
        Assert.InRange(tooLong.ProviderError!.Length, 16, 310);
        Assert.InRange(tooLong.Message.Length, 16, 600);
        AssertNoSecrets(tooLong);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task An_error_with_unicode_line_separators_or_bidirectional_overrides_is_cleaned_before_it_reaches_a_message(string endpoint)
    {
        _error = "x\u2028[WARN] forged\u202Edesrever\u200B";

        var forged = await Assert.ThrowsAsync<TokenExchangeException>(() => Call(endpoint));

        foreach (var text in new[] { forged.Message, forged.ProviderError! })
        {
            Assert.DoesNotContain('\u2028', text);
            Assert.DoesNotContain('\u202E', text);
            Assert.DoesNotContain('\u200B', text);
        }
        Assert.Contains("x [WARN] forged desrever", forged.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A token response's scope is printed with the tokens (TokenSet, AccessToken, a dead letter's line); a malicious
    /// provider's line break or escape in it would forge a log line there.
    /// </summary>
    [Fact]
    public async Task A_granted_scope_with_control_characters_is_cleaned_before_the_tokens_are_printed()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", new JsonObject
        {
            ["access_token"] = "at-1",
            ["token_type"] = "Bearer",
            ["scope"] = "openid\n2026-12-06 [WARN] forged\u001b[2J profile",
        }.ToJsonString());

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.DoesNotContain(tokens.ToString(), char.IsControl);
        Assert.DoesNotContain(tokens.Scope!, char.IsControl);
        Assert.StartsWith("openid", tokens.Scope, StringComparison.Ordinal);
        Assert.EndsWith("profile", tokens.Scope, StringComparison.Ordinal);
    }

    [Fact]
    public void An_accounts_printed_form_replaces_control_characters_its_id_keeps_them_escaped()
    {
        var account = new OAuthAccount("p", "alice\r\n[WARN] forged");

        Assert.DoesNotContain(account.ToString(), char.IsControl);
        Assert.Equal("p/alice%0D%0A%5BWARN%5D%20forged", account.Id);
    }

    [Fact]
    public void Provider_text_cut_at_its_cap_never_ends_in_half_a_character()
    {
        // An emoji (two UTF-16 halves) straddling the cap.
        var text = new string('e', TokenResponseReader.MaxProviderTextLength - 1) + "\U0001F600" + "tail";

        var cleaned = TokenResponseReader.Clean(text, []);

        Assert.False(O8Actors.Callback.ExternalText.HasHiding(cleaned));
        Assert.EndsWith("e...", cleaned, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> EndpointNames => new()
    {
        { "par", "pushed authorization request endpoint" },
        { "revoke", "revocation endpoint" },
        { "device", "device authorization endpoint" },
    };

    [Theory]
    [MemberData(nameof(EndpointNames))]
    public async Task An_http_failure_names_the_endpoint_and_its_status_but_not_the_body(string endpoint, string name)
    {
        // A proxy's error page that echoes the request (the refresh token among it): none of it may reach the message.
        _server.Handler = (context, _) => RecordingServer.Respond(context, 503, "text/html", $"<p>Unavailable: {RefreshToken}</p>");
        var error = await Assert.ThrowsAsync<TokenExchangeException>(() => Call(endpoint));
        Assert.Contains($"the {name} answered HTTP 503", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unavailable", error.Message, StringComparison.Ordinal);
        AssertNoSecrets(error);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_server_that_never_answers_ends_in_a_timed_out_exchange_error_not_a_cancellation(string endpoint)
    {
        var never = new TaskCompletionSource();
        _server.Handler = (_, _) => never.Task;
        _http.Timeout = TimeSpan.FromMilliseconds(300);
        var error = await Assert.ThrowsAsync<TokenExchangeException>(() => Call(endpoint));
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
        never.SetResult();
    }
}
