using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Dpop;

namespace O8Actors.Tests.Dpop;

public sealed class DpopKeyTests
{
    [Fact]
    public void The_thumbprint_is_RFC_7638s_as_an_independent_implementation_computes_it()
    {
        using var key = DpopKey.Create();
        var jwk = new JsonWebKey(key.ToJwk());

        Assert.Equal(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()), key.Thumbprint);
    }

    [Fact]
    public async Task A_key_read_back_from_its_JWK_is_the_same_key_and_signs_proofs_the_old_public_key_verifies()
    {
        using var original = DpopKey.Create();
        using var restored = DpopKey.FromJwk(original.ToJwk());
        Assert.Equal(original.Thumbprint, restored.Thumbprint);

        var proof = new JsonWebToken(DpopProof.Create(restored, HttpMethod.Post, new Uri("https://as.example/token"), DateTimeOffset.UtcNow));
        var publicKey = new JsonWebKey(JsonSerializer.Serialize(new { kty = "EC", crv = "P-256", x = original.X, y = original.Y }));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(proof.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = publicKey, ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false, ValidTypes = ["dpop+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    /// <summary>
    /// A copy of a key (what a cluster node's answer carries, or an app's own <see cref="DpopKey.FromJwk"/>) that the app
    /// disposes after use leaves the account's own copy signing. Before, the signing library cached one signer per key
    /// thumbprint, holding the first copy's key: every later proof of the account failed with ObjectDisposedException.
    /// </summary>
    [Fact]
    public void Disposing_a_copy_of_a_key_leaves_the_other_copies_signing()
    {
        using var accounts = DpopKey.Create();
        var target = new Uri("https://as.example/token");
        using (var copy = DpopKey.FromJwk(accounts.ToJwk()))
            DpopProof.Create(copy, HttpMethod.Post, target, DateTimeOffset.UtcNow);

        var proof = new JsonWebToken(DpopProof.Create(accounts, HttpMethod.Post, target, DateTimeOffset.UtcNow));

        Assert.Equal("dpop+jwt", proof.Typ);
    }

    [Fact]
    public void Two_keys_are_different_keys()
    {
        using var a = DpopKey.Create();
        using var b = DpopKey.Create();
        Assert.NotEqual(a.Thumbprint, b.Thumbprint);
    }

    [Fact]
    public void ToString_shows_the_thumbprint_and_never_the_private_part()
    {
        using var key = DpopKey.Create();
        var d = JsonDocument.Parse(key.ToJwk()).RootElement.GetProperty("d").GetString()!;

        Assert.Contains(key.Thumbprint, key.ToString());
        Assert.DoesNotContain(d, key.ToString());
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"kty":"RSA","n":"secret-n","e":"AQAB","d":"secret-d"}""")]
    [InlineData("""{"kty":"EC","crv":"P-384","x":"AA","y":"AA","d":"secret-d"}""")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}""")]
    public void A_text_that_is_not_a_private_P256_JWK_is_refused_without_repeating_it(string text)
    {
        var e = Assert.Throws<FormatException>(() => DpopKey.FromJwk(text));
        Assert.DoesNotContain("secret", e.Message);
        Assert.DoesNotContain(text, e.Message);
    }
}
