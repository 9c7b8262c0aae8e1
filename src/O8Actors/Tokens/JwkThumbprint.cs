using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Tokens;

/// <summary>
/// JWK SHA-256 thumbprints (RFC 7638 section 3): the key's required members in lexicographic order, no whitespace,
/// hashed with SHA-256 and base64url-encoded. A DPoP key's thumbprint is what its bound tokens' <c>cnf.jkt</c> holds; a
/// client key's is the <c>kid</c> a server computes for a public JWK registered without one.
/// </summary>
internal static class JwkThumbprint
{
    /// <summary>The thumbprint of a P-256 public key given by its base64url coordinates.</summary>
    public static string OfP256(string x, string y) => Hash($$"""{"crv":"P-256","kty":"EC","x":"{{x}}","y":"{{y}}"}""");

    /// <summary>The thumbprint of <paramref name="key"/>'s public part: RSA, or ECDSA on P-256.</summary>
    /// <exception cref="ArgumentException">The key is of another kind or curve.</exception>
    public static string Of(AsymmetricAlgorithm key)
    {
        switch (key)
        {
            case ECDsa ecdsa:
                var ec = ecdsa.ExportParameters(includePrivateParameters: false);
                if (ec.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                    throw new ArgumentException("Only a P-256 ECDSA key has a thumbprint here.", nameof(key));
                return OfP256(Base64UrlEncoder.Encode(ec.Q.X), Base64UrlEncoder.Encode(ec.Q.Y));
            case RSA rsa:
                var r = rsa.ExportParameters(includePrivateParameters: false);
                return Hash($$"""{"e":"{{Base64UrlEncoder.Encode(r.Exponent)}}","kty":"RSA","n":"{{Base64UrlEncoder.Encode(r.Modulus)}}"}""");
            default:
                throw new ArgumentException($"A {key.GetType().Name} has no JWK thumbprint here; use RSA or ECDSA P-256.", nameof(key));
        }
    }

    private static string Hash(string members) => Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(members)));
}
