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
    /// Signs with each <see cref="DpopKey"/> instance's own ECDSA key. The default factory caches one signer per key
    /// thumbprint, holding the key object that signed first: several copies of one account's key live in a process (a
    /// cluster node's answer, an app's <see cref="DpopKey.FromJwk"/>), and once the copy in the cache was disposed every
    /// proof of the account failed.
    /// </summary>
    private static readonly CryptoProviderFactory PerInstanceSigners = new() { CacheSignatureProviders = false };

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
            SigningCredentials = new SigningCredentials(key.SigningKey, SecurityAlgorithms.EcdsaSha256) { CryptoProviderFactory = PerInstanceSigners },
            AdditionalHeaderClaims = new Dictionary<string, object>(StringComparer.Ordinal) { ["jwk"] = key.PublicJwk() },
        });
    }

    /// <summary>
    /// The <c>htu</c> of a target: scheme, authority and path, without query and fragment (section 4.2); an international
    /// host in its ASCII (punycode) form, the one the request's Host header carries and a server builds its own URL from.
    /// </summary>
    public static string TargetUri(Uri target)
    {
        var port = target.IsDefaultPort ? "" : ":" + target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var host = target.HostNameType == UriHostNameType.IPv6 ? target.Host : target.IdnHost;
        return $"{target.Scheme}://{host}{port}{target.AbsolutePath}";
    }

    /// <summary>The <c>ath</c> of an access token: base64url of the SHA-256 of its ASCII bytes (section 4.2).</summary>
    public static string AccessTokenHash(string accessToken) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
}
