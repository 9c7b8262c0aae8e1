using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Hostile DPoP proofs (RFC 9449) sent over HTTP to the sandbox's token endpoint and <c>/userinfo</c>: each is refused
/// as <c>invalid_dpop_proof</c> (400 at the token endpoint, 401 with a DPoP challenge at the resource), never a 500, and a
/// well-formed proof sent next still gets through. Each proof is signed properly by its own key, so only the tampered
/// value is wrong.
/// </summary>
public sealed class MalformedDpopProofTests : DpopSandboxEndpointTest
{
    private ECDsa Key => Probe.Key;

    /// <summary>Changes one value of an otherwise valid proof: the name says which, and to what.</summary>
    private void Tamper(string attack, JsonObject header, JsonObject claims)
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var jwk = header["jwk"]!.AsObject();
        switch (attack)
        {
            case "iat in milliseconds": claims["iat"] = now * 1000; break;
            case "iat in microseconds": claims["iat"] = now * 1_000_000; break;
            case "iat long.MaxValue": claims["iat"] = long.MaxValue; break;
            case "iat long.MinValue": claims["iat"] = long.MinValue; break;
            case "iat hugely negative": claims["iat"] = -now * 1_000_000; break;
            case "iat beyond any integer": claims["iat"] = JsonNode.Parse("1e400"); break;
            case "iat a word": claims["iat"] = "soon"; break;
            case "iat an object": claims["iat"] = new JsonObject { ["seconds"] = now }; break;
            case "jwk x a number": jwk["x"] = 12345; break;
            case "jwk y null": jwk["y"] = null; break;
            case "jwk without x and y": jwk.Remove("x"); jwk.Remove("y"); break;
            case "jwk x not base64url": jwk["x"] = "!!not*base64~~"; break;
            case "jwk x too short": jwk["x"] = "AAAA"; break;
            case "jwk x huge": jwk["x"] = new string('A', 12_000); break;
            case "jwk a point off the curve": jwk["y"] = jwk["x"]!.GetValue<string>(); break;
            case "jwk kty a number": jwk["kty"] = 2; break;
            case "jwk crv an object": jwk["crv"] = new JsonObject { ["name"] = "P-256" }; break;
            case "jwk an array": header["jwk"] = new JsonArray(1, 2); break;
            case "jwk a string": header["jwk"] = "{\"kty\":\"EC\"}"; break;
            case "typ a number": header["typ"] = 7; break;
            case "alg an object": header["alg"] = new JsonObject(); break;
            case "jti a number": claims["jti"] = 42; break;
            case "jti an object": claims["jti"] = new JsonObject(); break;
            case "jti a lone surrogate": claims["jti"] = HandMadeJwt.LoneSurrogate; break;
            case "htm an array": claims["htm"] = new JsonArray("POST"); break;
            case "htu a number": claims["htu"] = 443; break;
            default: throw new ArgumentOutOfRangeException(nameof(attack), attack, "Unknown attack.");
        }
    }

    public static TheoryData<string> Attacks => new()
    {
        "iat in milliseconds", "iat in microseconds", "iat long.MaxValue", "iat long.MinValue", "iat hugely negative",
        "iat beyond any integer", "iat a word", "iat an object",
        "jwk x a number", "jwk y null", "jwk without x and y", "jwk x not base64url", "jwk x too short", "jwk x huge",
        "jwk a point off the curve", "jwk kty a number", "jwk crv an object", "jwk an array", "jwk a string",
        "typ a number", "alg an object", "jti a number", "jti an object", "jti a lone surrogate", "htm an array", "htu a number",
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task A_tampered_proof_at_the_token_endpoint_is_invalid_dpop_proof_and_the_next_good_proof_passes(string attack)
    {
        var nonce = await NonceAsync();

        var refused = await TokenRequestAsync(HandMadeJwt.Proof(Key, Server.TokenEndpoint, Time.GetUtcNow(), nonce, (h, c) => Tamper(attack, h, c)));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("invalid_dpop_proof", refused.Error);
        await AssertAGoodProofPassesAsync(nonce);
    }

    public static TheoryData<string> NotJwts => new()
    {
        "only.two", "a.b.c", "e30.e30", "W10.e30.AAAA", "IkVTMjU2Ig.e30.AAAA", "e30.W10.AAAA", "....", new string('x', 20_000),
    };

    [Theory]
    [MemberData(nameof(NotJwts))]
    public async Task A_proof_that_is_not_a_JWT_is_invalid_dpop_proof(string proof)
    {
        var nonce = await NonceAsync();

        var refused = await TokenRequestAsync(proof);

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("invalid_dpop_proof", refused.Error);
        await AssertAGoodProofPassesAsync(nonce);
    }

    [Fact]
    public async Task A_proof_whose_signature_is_not_base64url_is_invalid_dpop_proof()
    {
        var nonce = await NonceAsync();
        var proof = HandMadeJwt.Proof(Key, Server.TokenEndpoint, Time.GetUtcNow(), nonce);

        var refused = await TokenRequestAsync(proof[..proof.LastIndexOf('.')] + ".!!*~");

        Assert.Equal("invalid_dpop_proof", refused.Error);
    }

    [Theory]
    [InlineData("iat long.MaxValue")]
    [InlineData("iat in microseconds")]
    [InlineData("jwk x a number")]
    [InlineData("jwk without x and y")]
    [InlineData("jwk a point off the curve")]
    public async Task A_tampered_proof_at_userinfo_gets_a_401_DPoP_challenge(string attack)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Server.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", "some-token");
        var claims = HandMadeJwt.ProofClaims(Server.UserInfoEndpoint, Time.GetUtcNow(), await NonceAsync(), "GET");
        claims["ath"] = "unused";
        var header = HandMadeJwt.ProofHeader(Key);
        Tamper(attack, header, claims);
        request.Headers.TryAddWithoutValidation("DPoP", HandMadeJwt.Sign(Key, header, claims));

        using var response = await Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("DPoP error=\"invalid_dpop_proof\"", response.Headers.WwwAuthenticate.ToString());
    }

    private Task<string> NonceAsync() => Probe.NonceAsync();

    private async Task<TokenReply> TokenRequestAsync(string proof) => (await Probe.SendAsync(proof)).Reply;

    /// <summary>The hostile request disturbed nothing: a good proof gets past the DPoP check (and fails on the unknown refresh token).</summary>
    private async Task AssertAGoodProofPassesAsync(string nonce) => Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(nonce));
}
