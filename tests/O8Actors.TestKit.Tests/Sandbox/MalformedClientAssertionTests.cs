using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Hostile <c>private_key_jwt</c> client assertions (RFC 7523) sent over HTTP to the sandbox: each is signed properly by
/// the client's registered key, with one value tampered; each gets 401 <c>invalid_client</c>, never a 500, and the
/// client's next genuine assertion is still accepted.
/// </summary>
public sealed class MalformedClientAssertionTests : SandboxEndpointTest, IDisposable
{
    private const string ClientId = "jwt-app";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    protected override void Configure(SandboxOptions options) =>
        options.Clients.Add(new SandboxClient(ClientId, null, [RawOAuthClient.RedirectUri], ClientAuthMethod.PrivateKeyJwt)
        {
            PublicKey = ECDsa.Create(_key.ExportParameters(includePrivateParameters: false)),
        });

    public void Dispose() => _key.Dispose();

    private void Tamper(string attack, JsonObject header, JsonObject claims)
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        switch (attack)
        {
            case "exp long.MaxValue": claims["exp"] = long.MaxValue; break;
            case "exp long.MinValue": claims["exp"] = long.MinValue; break;
            case "exp in milliseconds": claims["exp"] = (now + 60) * 1000; break;
            case "exp in microseconds": claims["exp"] = (now + 60) * 1_000_000; break;
            case "exp hugely negative": claims["exp"] = -now * 1_000_000; break;
            case "exp beyond any integer": claims["exp"] = JsonNode.Parse("1e400"); break;
            case "exp a huge fraction": claims["exp"] = 1e300; break;
            case "exp a word": claims["exp"] = "later"; break;
            case "exp the last second a date holds": claims["exp"] = DateTimeOffset.MaxValue.ToUnixTimeSeconds(); break;
            case "exp missing": claims.Remove("exp"); break;
            case "nbf long.MaxValue": claims["nbf"] = long.MaxValue; break;
            case "nbf long.MinValue": claims["nbf"] = long.MinValue; break;
            case "nbf in microseconds": claims["nbf"] = now * 1_000_000; break;
            case "nbf an hour ahead": claims["nbf"] = now + 3600; break;
            case "nbf a word": claims["nbf"] = "now"; break;
            case "iat long.MaxValue": claims["iat"] = long.MaxValue; break;
            case "iat long.MinValue": claims["iat"] = long.MinValue; break;
            case "iat in microseconds": claims["iat"] = now * 1_000_000; break;
            case "iat an hour ahead": claims["iat"] = now + 3600; break;
            case "iat an object": claims["iat"] = new JsonObject(); break;
            case "iss a number": claims["iss"] = 7; break;
            case "sub an object": claims["sub"] = new JsonObject { ["id"] = ClientId }; break;
            case "aud a number": claims["aud"] = 443; break;
            case "aud an array of numbers": claims["aud"] = new JsonArray(1, 2); break;
            case "jti a number": claims["jti"] = 42; break;
            case "jti an array": claims["jti"] = new JsonArray("a", "b"); break;
            case "iss a lone surrogate": claims["iss"] = HandMadeJwt.LoneSurrogate; break;
            case "alg an object": header["alg"] = new JsonObject(); break;
            case "alg none": header["alg"] = "none"; break;
            default: throw new ArgumentOutOfRangeException(nameof(attack), attack, "Unknown attack.");
        }
    }

    public static TheoryData<string> Attacks => new()
    {
        "exp long.MaxValue", "exp long.MinValue", "exp in milliseconds", "exp in microseconds", "exp hugely negative",
        "exp beyond any integer", "exp a huge fraction", "exp a word", "exp the last second a date holds", "exp missing",
        "nbf long.MaxValue", "nbf long.MinValue", "nbf in microseconds", "nbf an hour ahead", "nbf a word",
        "iat long.MaxValue", "iat long.MinValue", "iat in microseconds", "iat an hour ahead", "iat an object",
        "iss a number", "sub an object", "aud a number", "aud an array of numbers", "jti a number", "jti an array", "iss a lone surrogate",
        "alg an object", "alg none",
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task A_tampered_assertion_is_invalid_client_and_the_next_genuine_one_is_accepted(string attack)
    {
        var (status, error) = await IntrospectAsync(Assertion((h, c) => Tamper(attack, h, c)));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", error);
        Assert.Equal(HttpStatusCode.OK, (await IntrospectAsync(Assertion())).Status);
    }

    [Fact]
    public async Task A_genuine_assertion_with_nbf_and_iat_now_is_accepted()
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();

        var (status, _) = await IntrospectAsync(Assertion((_, c) =>
        {
            c["nbf"] = now;
            c["iat"] = now;
        }));

        Assert.Equal(HttpStatusCode.OK, status);
    }

    /// <summary>An assertion by the client's key for this server, valid a minute, after <paramref name="tamper"/>.</summary>
    private string Assertion(Action<JsonObject, JsonObject>? tamper = null)
    {
        var header = new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT" };
        var claims = new JsonObject
        {
            ["iss"] = ClientId, ["sub"] = ClientId, ["aud"] = Server.IssuerString, ["jti"] = Guid.NewGuid().ToString("N"),
            ["exp"] = Time.GetUtcNow().AddMinutes(1).ToUnixTimeSeconds(),
        };
        tamper?.Invoke(header, claims);
        return HandMadeJwt.Sign(_key, header, claims);
    }

    private async Task<(HttpStatusCode Status, string? Error)> IntrospectAsync(string assertion)
    {
        using var response = await Client.Http.PostAsync(Server.IntrospectionEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = "unknown-token",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        }));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null);
    }
}
