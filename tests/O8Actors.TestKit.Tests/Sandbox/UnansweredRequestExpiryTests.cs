using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// What a client starts and never finishes expires and is forgotten, on the sandbox's clock: a pushed request's
/// <c>request_uri</c> after its <c>expires_in</c> (RFC 9126 section 2.2; then <c>invalid_request_uri</c>, section 4), and a
/// consent page after <see cref="SandboxOptions.ConsentLifetime"/> (then a 400 page). Each is answerable until then.
/// </summary>
public sealed class UnansweredRequestExpiryTests : SandboxEndpointTest
{
    private static readonly TimeSpan ConsentLifetime = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    protected override void Configure(SandboxOptions options)
    {
        options.PushedAuthorization = SandboxPushedAuthorization.Optional;
        options.ConsentLifetime = ConsentLifetime;
    }

    [Fact]
    public async Task A_request_uri_past_its_expires_in_is_invalid_request_uri_and_every_expired_one_is_forgotten()
    {
        var (late, expiresIn) = await PushAsync();
        var (inTime, _) = await PushAsync();
        await PushAsync();                                                           // never redeemed
        Assert.Equal(60, expiresIn.TotalSeconds);
        Assert.Equal(3, Server.HeldPushedRequests);

        using var refused = await InTimeThenLateAsync(expiresIn, RedeemAsync, inTime, late);

        Assert.Null(refused.Headers.Location);
        Assert.Contains("invalid_request_uri", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, Server.Counters.Errors("invalid_request_uri"));
        Assert.Equal(0, Server.HeldPushedRequests);
    }

    [Fact]
    public async Task A_consent_answered_after_its_lifetime_gets_a_400_page_and_unanswered_pages_are_forgotten()
    {
        var inTime = await ConsentIdAsync();
        var late = await ConsentIdAsync();
        await ConsentIdAsync();                                                      // never answered
        Assert.Equal(3, Server.HeldConsents);

        using var refused = await InTimeThenLateAsync(ConsentLifetime, AnswerAsync, inTime, late);

        Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("expired", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, Server.Counters.Errors("invalid_consent"));
        Assert.Equal(1, Server.Counters.CodesIssued);
        Assert.Equal(0, Server.HeldConsents);
    }

    [Fact]
    public async Task A_consent_lifetime_that_is_not_positive_is_refused_at_start()
    {
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            SandboxAuthorizationServer.StartAsync(new SandboxOptions { ConsentLifetime = TimeSpan.Zero }));

        Assert.Equal(nameof(SandboxOptions.ConsentLifetime), refused.ParamName);
    }

    [Fact]
    public async Task A_consent_lifetime_of_TimeSpan_MaxValue_never_expires_and_never_overflows()
    {
        await using var server = await Sandboxes.StartAsync(o => o.ConsentLifetime = TimeSpan.MaxValue);
        using var client = new RawOAuthClient(server);
        using var page = await client.AuthorizeAsync(client.AuthorizeUrl(Sandboxes.PublicClient,
            extra: new Dictionary<string, string?> { ["login_hint"] = "consent-carol" }));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        Assert.Equal(1, server.HeldConsents);
    }

    /// <summary>
    /// Sends <paramref name="inTime"/> a second before <paramref name="lifetime"/> has passed, which must be accepted (a
    /// redirect with the code), then <paramref name="late"/> as it passes, which must be a 400; returns the latter.
    /// </summary>
    private async Task<HttpResponseMessage> InTimeThenLateAsync(TimeSpan lifetime, Func<string, Task<HttpResponseMessage>> send, string inTime, string late)
    {
        Time.Advance(lifetime - Second);
        using (var accepted = await send(inTime))
            Assert.Equal(HttpStatusCode.Found, accepted.StatusCode);
        Time.Advance(Second);
        var refused = await send(late);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        return refused;
    }

    private async Task<(string RequestUri, TimeSpan ExpiresIn)> PushAsync()
    {
        using var response = await Client.Http.PostAsync(Server.PushedAuthorizationEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = Sandboxes.PublicClient, ["response_type"] = "code", ["redirect_uri"] = RawOAuthClient.RedirectUri,
            ["state"] = "st-1", ["code_challenge"] = Pkce.Create().Challenge, ["code_challenge_method"] = "S256",
        }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("request_uri").GetString()!, TimeSpan.FromSeconds(json.RootElement.GetProperty("expires_in").GetInt64()));
    }

    private Task<HttpResponseMessage> RedeemAsync(string requestUri) =>
        Client.Http.GetAsync(new Uri(Server.AuthorizationEndpoint, $"?client_id={Sandboxes.PublicClient}&request_uri={Uri.EscapeDataString(requestUri)}"));

    private async Task<string> ConsentIdAsync()
    {
        using var page = await Client.AuthorizeAsync(Client.AuthorizeUrl(Sandboxes.PublicClient,
            extra: new Dictionary<string, string?> { ["login_hint"] = "consent-carol" }));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"consent_id\" value=\"([^\"]+)\"").Groups[1].Value;
    }

    private Task<HttpResponseMessage> AnswerAsync(string consentId) =>
        Client.Http.PostAsync(new Uri(Server.Issuer, SandboxEndpoints.ConsentPath),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["consent_id"] = consentId, ["decision"] = "approve" }));
}
