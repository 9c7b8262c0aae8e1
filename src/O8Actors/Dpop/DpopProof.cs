using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Dpop;

/// <summary>Makes DPoP proofs (RFC 9449 section 4.2): a fresh signed JWT for one HTTP request.</summary>
internal static class DpopProof
{
    /// <summary>The request header that carries a proof (RFC 9449 section 4.1).</summary>
    public const string HeaderName = "DPoP";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// A proof for <paramref name="method"/> <paramref name="target"/>: a new <c>jti</c>, <c>htm</c>, <c>htu</c> (the
    /// target without query and fragment), <c>iat</c>; the server's <c>nonce</c> when it gave one; and <c>ath</c>, the
    /// hash of the access token, when the request carries one (calls to resource servers).
    /// </summary>
    public static string Create(DpopKey key, HttpMethod method, Uri target, DateTimeOffset now, string? nonce = null, string? accessToken = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            ["htm"] = method.Method,
            ["htu"] = TargetUri(target),
            ["iat"] = now.ToUnixTimeSeconds(),
        };
        if (nonce is not null) claims["nonce"] = nonce;
        if (accessToken is not null) claims["ath"] = AccessTokenHash(accessToken);
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = "dpop+jwt",
            SigningCredentials = new SigningCredentials(key.SigningKey, SecurityAlgorithms.EcdsaSha256),
            AdditionalHeaderClaims = new Dictionary<string, object>(StringComparer.Ordinal) { ["jwk"] = key.PublicJwk() },
        });
    }

    /// <summary>The <c>htu</c> of a target: scheme, authority and path, without query and fragment (section 4.2).</summary>
    public static string TargetUri(Uri target) => target.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>The <c>ath</c> of an access token: base64url of the SHA-256 of its ASCII bytes (section 4.2).</summary>
    public static string AccessTokenHash(string accessToken) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
}
