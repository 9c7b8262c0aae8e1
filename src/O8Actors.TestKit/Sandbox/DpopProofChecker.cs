using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

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
/// minutes of the sandbox's clock; a <c>jti</c> not seen while its proof could be accepted; a current server nonce when
/// nonces are required (section 8, rotated every <see cref="SandboxOptions.DpopNonceLifetime"/>); and for a protected
/// resource the access token's hash in <c>ath</c> (section 7). Every value is read as the JSON type the RFC gives it, so a
/// malformed proof is refused, never a server error. Thread-safe.
/// </summary>
internal sealed class DpopProofChecker(SandboxOptions options)
{
    /// <summary>The header a proof travels in, and the response header that gives the nonce.</summary>
    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";

    private static readonly TimeSpan IatWindow = TimeSpan.FromMinutes(5);
    private readonly ReplayCache _seenJti = new();
    private readonly RotatingDpopNonce _nonce = new(options.DpopNonceLifetime, options.TimeProvider.GetUtcNow());

    /// <summary>Whether DPoP is on at all.</summary>
    public bool Enabled => options.Dpop != SandboxDpop.Off;

    /// <summary>Whether <paramref name="request"/> carries a proof (a header named <c>DPoP</c>).</summary>
    public static bool HasProof(HttpRequest request) => request.Headers.ContainsKey(Header);

    /// <summary>Gives the client the nonce to put in its next proof (every answer of a DPoP-enabled endpoint carries it).</summary>
    public void OfferNonce(HttpResponse response, DateTimeOffset now)
    {
        if (Enabled && options.RequireDpopNonce) response.Headers[NonceHeader] = _nonce.Current(now);
    }

    /// <summary>Checks the proof of <paramref name="request"/> for <paramref name="endpoint"/>; <paramref name="accessToken"/> for a resource call.</summary>
    public DpopCheck Check(HttpRequest request, Uri endpoint, string? accessToken, DateTimeOffset now)
    {
        var values = request.Headers[Header];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0])) return DpopCheck.Refused("Exactly one DPoP header is required.");
        if (UntrustedJwt.TryParse(values[0]) is not { } proof) return DpopCheck.Refused("The DPoP proof is not a JWT.");
        if (proof.HeaderString("typ") != "dpop+jwt") return DpopCheck.Refused("The DPoP proof's typ must be dpop+jwt.");
        if (proof.HeaderString("alg") != "ES256") return DpopCheck.Refused("The DPoP proof must be signed with ES256.");
        using var key = DpopProofKey.TryRead(proof.HeaderValue("jwk"), out var keyProblem);
        if (key is null) return DpopCheck.Refused(keyProblem!);
        if (!proof.IsSignedBy(key.Key)) return DpopCheck.Refused("The DPoP proof's signature does not verify with its jwk.");

        if (proof.ClaimString("htm") != request.Method) return DpopCheck.Refused("The DPoP proof's htm is not this request's method.");
        if (proof.ClaimString("htu") is not { } htu || !SameTarget(htu, endpoint)) return DpopCheck.Refused("The DPoP proof's htu is not this endpoint.");
        if (!proof.TryGetDate("iat", out var iat) || iat is not { } issuedAt || (issuedAt - now).Duration() > IatWindow)
            return DpopCheck.Refused("The DPoP proof's iat is missing or too far from the server's time.");
        if (accessToken is not null)
        {
            var hash = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            if (proof.ClaimString("ath") != hash) return DpopCheck.Refused("The DPoP proof's ath is not the access token's hash.");
        }

        if (options.RequireDpopNonce && !_nonce.Accepts(proof.ClaimString("nonce"), now))
            return new DpopCheck(null, "use_dpop_nonce", "Use the server's current DPoP-Nonce in the proof.");
        // Kept while the proof's iat is in the window: a later replay is refused for its age.
        if (proof.ClaimString("jti") is not { Length: > 0 } jti || !_seenJti.TryUse(jti, issuedAt + IatWindow, now))
            return DpopCheck.Refused("The DPoP proof was used before (its jti).");
        return DpopCheck.Good(key.Thumbprint);
    }

    // htu is the target URI without query and fragment (section 4.2), compared as a URI: scheme and host in any case.
    private static bool SameTarget(string htu, Uri endpoint) =>
        Uri.TryCreate(htu, UriKind.Absolute, out var target) && string.IsNullOrEmpty(target.Query) && string.IsNullOrEmpty(target.Fragment)
        && Uri.Compare(target, endpoint, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped, StringComparison.Ordinal) == 0;
}
