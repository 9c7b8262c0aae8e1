using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// End to end with ID token validation on: the harness signs in against the sandbox (OpenID Connect discovery, an
/// ES256 ID token signed by the key it publishes at <c>/jwks</c>), through the real listener and the scripted browser.
/// </summary>
public sealed class IdTokenValidationFlowTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_login_sends_a_fresh_nonce_and_returns_the_validated_claims_of_the_sandboxs_id_token()
    {
        var nonces = new List<string?>();
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureSandbox = s => s.TokenFaults = TokenFaultPlan.PerLogin(info =>
        {
            lock (nonces) nonces.Add(info.Nonce);
            return null;
        }));

        var first = await o8.AuthorizeAsync(LoginScript.Approve("alice")).WaitAsync(Wait);
        var second = await o8.AuthorizeAsync(LoginScript.Approve("bob")).WaitAsync(Wait);

        var claims = Assert.IsType<IdTokenClaims>(first.IdTokenClaims);
        Assert.Equal("alice", claims.Subject);
        Assert.Equal(o8.Sandbox.IssuerString, claims.Issuer);
        Assert.Contains(o8.Client.ClientId, claims.Audiences);
        Assert.Equal("bob", second.IdTokenClaims?.Subject);

        // The nonce on each authorize URL is the one the sandbox saw and echoed into that login's ID token.
        var sent = o8.Browser!.Visits.Select(v => (string?)QueryHelpers.ParseQuery(v.AuthorizeUrl.Query)["nonce"].ToString()).ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, n => Assert.Equal(43, n!.Length));
        Assert.NotEqual(sent[0], sent[1]);
        Assert.Equal(sent, nonces);
        Assert.Equal(sent[0], claims.All.Single(c => c.Type == "nonce").Value);
        Assert.Equal(sent[0], NonceIn(first.IdToken!));
        Assert.DoesNotContain(sent[0]!, first.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_id_token_ends_the_login_as_IdTokenInvalid_without_tokens()
    {
        // The sandbox's clock runs two hours behind: its one-hour ID token has expired by ours.
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureSandbox = s => s.TimeProvider = new BehindTimeProvider(TimeSpan.FromHours(2)));

        var result = await o8.RunAsync(LoginScript.Approve("alice")).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(result.Outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("(expired)", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(1, o8.Sandbox.Counters.TokensIssued);
        var landed = await Assert.Single(o8.Browser!.Visits).Completion.WaitAsync(Wait);
        Assert.Equal(502, landed.LandingStatus);

        var thrown = await Assert.ThrowsAsync<IdTokenValidationException>(() => o8.AuthorizeAsync(LoginScript.Approve("bob")).WaitAsync(Wait));
        Assert.Contains("(expired)", thrown.Message, StringComparison.Ordinal);
        Assert.NotNull(thrown.LoginId);
    }

    private static string? NonceIn(string jwt)
    {
        var payload = System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[1]);
        return JsonDocument.Parse(payload).RootElement.GetProperty("nonce").GetString();
    }

    private sealed class BehindTimeProvider(TimeSpan behind) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() - behind;
    }
}
