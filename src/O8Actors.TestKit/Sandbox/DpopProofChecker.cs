using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.TestKit.Sandbox;

/// <summary>What checking a request's DPoP proof found: the key's thumbprint, or why the proof is refused.</summary>
/// <param name="Thumbprint">The proof key's RFC 7638 thumbprint (its <c>jkt</c>) when the proof is good.</param>
/// <param name="Error"><c>invalid_dpop_proof</c> or <c>use_dpop_nonce</c> when it is not.</param>
/// <param name="Description">Why, for the error description (never a token).</param>
internal sealed record DpopCheck(string? Thumbprint, string? Error, string? Description)
{
    /// <summary>No proof, and none needed.</summary>
    public static DpopCheck None { get; } = new(null, null, null);

    public static DpopCheck Good(string thumbprint) => new(thumbprint, null, null);

    public static DpopCheck Refused(string description) => new(null, "invalid_dpop_proof", description);
}

/// <summary>
/// Checks DPoP proofs as RFC 9449 section 4.3 asks: one <c>DPoP</c> header holding a <c>dpop+jwt</c> signed with ES256 by
/// the public P-256 key in its <c>jwk</c> header; <c>htm</c> and <c>htu</c> naming this request; an <c>iat</c> within five
/// minutes of the sandbox's clock; a <c>jti</c> never seen before; the server's current nonce when nonces are required
/// (section 8); and for a protected resource the access token's hash in <c>ath</c> (section 7). Thread-safe.
/// </summary>
internal sealed class DpopProofChecker(SandboxOptions options)
{
    /// <summary>The header a proof travels in, and the response header that gives the nonce.</summary>
    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";

    private static readonly TimeSpan IatWindow = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, byte> _seenJti = new(StringComparer.Ordinal);
    private readonly string _nonce = SandboxHttp.NewSecret();

    /// <summary>Whether DPoP is on at all.</summary>
    public bool Enabled => options.Dpop != SandboxDpop.Off;

    /// <summary>Whether <paramref name="request"/> carries a proof (a header named <c>DPoP</c>).</summary>
    public static bool HasProof(HttpRequest request) => request.Headers.ContainsKey(Header);

    /// <summary>Gives the client the nonce to put in its next proof (every answer of a DPoP-enabled endpoint carries it).</summary>
    public void OfferNonce(HttpResponse response)
    {
        if (Enabled && options.RequireDpopNonce) response.Headers[NonceHeader] = _nonce;
    }

    /// <summary>Checks the proof of <paramref name="request"/> for <paramref name="endpoint"/>; <paramref name="accessToken"/> for a resource call.</summary>
    public async Task<DpopCheck> CheckAsync(HttpRequest request, Uri endpoint, string? accessToken, DateTimeOffset now)
    {
        var values = request.Headers[Header];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0])) return DpopCheck.Refused("Exactly one DPoP header is required.");
        JsonWebToken proof;
        try
        {
            proof = new JsonWebToken(values[0]);
        }
        catch (ArgumentException)
        {
            return DpopCheck.Refused("The DPoP proof is not a JWT.");
        }

        if (proof.Typ != "dpop+jwt") return DpopCheck.Refused("The DPoP proof's typ must be dpop+jwt.");
        if (proof.Alg != SecurityAlgorithms.EcdsaSha256) return DpopCheck.Refused("The DPoP proof must be signed with ES256.");
        if (!proof.TryGetHeaderValue<JsonElement>("jwk", out var jwkElement) || jwkElement.ValueKind != JsonValueKind.Object)
            return DpopCheck.Refused("The DPoP proof has no jwk header.");
        var jwk = new JsonWebKey(jwkElement.GetRawText());
        if (jwk.D is not null) return DpopCheck.Refused("The DPoP proof's jwk holds a private key.");
        if (jwk.Kty != "EC" || jwk.Crv != "P-256") return DpopCheck.Refused("The DPoP proof's jwk must be a P-256 key.");

        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(proof.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = jwk,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            ValidTypes = ["dpop+jwt"],
        }).ConfigureAwait(false);
        if (!validation.IsValid) return DpopCheck.Refused("The DPoP proof's signature does not verify with its jwk.");

        if (!Claim(proof, "htm", out var htm) || htm != request.Method) return DpopCheck.Refused("The DPoP proof's htm is not this request's method.");
        if (!Claim(proof, "htu", out var htu) || !SameTarget(htu, endpoint)) return DpopCheck.Refused("The DPoP proof's htu is not this endpoint.");
        if (!Claim(proof, "iat", out var iatText) || !long.TryParse(iatText, out var iat)
            || (DateTimeOffset.FromUnixTimeSeconds(iat) - now).Duration() > IatWindow)
            return DpopCheck.Refused("The DPoP proof's iat is missing or too far from the server's time.");
        if (accessToken is not null)
        {
            var hash = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            if (!Claim(proof, "ath", out var ath) || ath != hash) return DpopCheck.Refused("The DPoP proof's ath is not the access token's hash.");
        }

        if (options.RequireDpopNonce && (!Claim(proof, "nonce", out var nonce) || nonce != _nonce))
            return new DpopCheck(null, "use_dpop_nonce", "Use the server's DPoP-Nonce in the proof.");
        if (string.IsNullOrEmpty(proof.Id) || !_seenJti.TryAdd(proof.Id, 0)) return DpopCheck.Refused("The DPoP proof was used before (its jti).");
        return DpopCheck.Good(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()));
    }

    private static bool Claim(JsonWebToken proof, string name, out string value)
    {
        value = proof.TryGetClaim(name, out var claim) ? claim.Value : "";
        return value.Length > 0;
    }

    // htu is the target URI without query and fragment (section 4.2), compared as a URI: scheme and host in any case.
    private static bool SameTarget(string htu, Uri endpoint) =>
        Uri.TryCreate(htu, UriKind.Absolute, out var target) && string.IsNullOrEmpty(target.Query) && string.IsNullOrEmpty(target.Fragment)
        && Uri.Compare(target, endpoint, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped, StringComparison.Ordinal) == 0;
}
