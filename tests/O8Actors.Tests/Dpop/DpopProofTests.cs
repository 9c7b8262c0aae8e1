using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Dpop;

namespace O8Actors.Tests.Dpop;

/// <summary>Proofs carry what RFC 9449 section 4.2 asks, and nothing secret.</summary>
public sealed class DpopProofTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_proof_is_a_dpop_jwt_signed_ES256_with_the_public_key_in_its_header_and_no_private_part()
    {
        using var key = DpopKey.Create();
        var proof = new JsonWebToken(DpopProof.Create(key, HttpMethod.Post, new Uri("https://as.example/token"), Now));

        Assert.Equal("dpop+jwt", proof.Typ);
        Assert.Equal("ES256", proof.Alg);
        Assert.True(proof.TryGetHeaderValue<JsonElement>("jwk", out var jwk));
        Assert.False(jwk.TryGetProperty("d", out _));
        Assert.Equal(key.Thumbprint, Base64UrlEncoder.Encode(new JsonWebKey(jwk.GetRawText()).ComputeJwkThumbprint()));
        Assert.False(proof.TryGetHeaderValue<string>("kid", out _));
    }

    [Fact]
    public void The_proof_names_the_method_the_target_without_query_or_fragment_and_the_time()
    {
        using var key = DpopKey.Create();
        var proof = new JsonWebToken(DpopProof.Create(key, HttpMethod.Get, new Uri("https://rs.example:8443/api/me?code=abc#frag"), Now));

        Assert.Equal("GET", proof.GetClaim("htm").Value);
        Assert.Equal("https://rs.example:8443/api/me", proof.GetClaim("htu").Value);
        Assert.Equal(Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), proof.GetClaim("iat").Value);
        Assert.False(proof.TryGetClaim("exp", out _));
        Assert.False(proof.TryGetClaim("nonce", out _));
        Assert.False(proof.TryGetClaim("ath", out _));
    }

    /// <summary>
    /// The <c>htu</c> is the URI the request goes to: an international host in its ASCII form, as the server sees it in
    /// its Host header (a server that builds its own URL from it refused the Unicode form as <c>invalid_dpop_proof</c>).
    /// </summary>
    [Theory]
    [InlineData("https://bücher.example/token", "https://xn--bcher-kva.example/token")]
    [InlineData("https://BÜCHER.example:8443/a%20b/c?x=1", "https://xn--bcher-kva.example:8443/a%20b/c")]
    [InlineData("https://AS.Example:443/Token", "https://as.example/Token")]
    [InlineData("http://[::1]:8080/token", "http://[::1]:8080/token")]
    [InlineData("https://127.0.0.1/token", "https://127.0.0.1/token")]
    public void The_target_is_named_as_the_request_sends_it(string target, string htu)
    {
        Assert.Equal(htu, DpopProof.TargetUri(new Uri(target)));
    }

    [Fact]
    public void A_proof_for_a_resource_call_carries_the_access_tokens_hash_and_not_the_token()
    {
        using var key = DpopKey.Create();
        const string token = "access-token-value";
        var encoded = DpopProof.Create(key, HttpMethod.Get, new Uri("https://rs.example/api"), Now, nonce: "n1", accessToken: token);
        var proof = new JsonWebToken(encoded);

        Assert.Equal(Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(token))), proof.GetClaim("ath").Value);
        Assert.Equal("n1", proof.GetClaim("nonce").Value);
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(encoded.Split('.')[1])));
    }

    [Fact]
    public void Every_proof_has_its_own_jti()
    {
        using var key = DpopKey.Create();
        var ids = Enumerable.Range(0, 100)
            .Select(_ => new JsonWebToken(DpopProof.Create(key, HttpMethod.Post, new Uri("https://as.example/token"), Now)).Id)
            .ToHashSet();
        Assert.Equal(100, ids.Count);
    }
}
