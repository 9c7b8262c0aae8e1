using System.Security.Claims;

namespace O8Actors;

/// <summary>
/// The claims of an ID token that O8Actors validated (signature against the provider's key set, <c>iss</c>,
/// <c>aud</c>/<c>azp</c>, <c>exp</c>/<c>iat</c> and <c>nonce</c>; OpenID Connect Core 1.0 section 3.1.3.7).
/// </summary>
/// <param name="Subject">The <c>sub</c> claim: the user's stable id at the provider.</param>
/// <param name="Issuer">The <c>iss</c> claim; a spelling the provider documents as an alias (<see cref="Providers.GenericOAuthOptions.IdTokenIssuerAliases"/>) reads as the issuer, and <see cref="All"/> keeps it as issued.</param>
/// <param name="Audiences">The <c>aud</c> claim's values (the client id among them).</param>
/// <param name="ExpiresAt">The <c>exp</c> claim.</param>
/// <param name="IssuedAt">The <c>iat</c> claim.</param>
/// <param name="Email">The <c>email</c> claim, when present.</param>
/// <param name="Name">The <c>name</c> claim, when present.</param>
/// <param name="All">Every claim of the token, as issued (claim types are the JWT names, not mapped).</param>
/// <remarks><see cref="ToString"/> prints no personal data: records print every property by default.</remarks>
public sealed record IdTokenClaims(
    string Subject,
    string Issuer,
    IReadOnlyList<string> Audiences,
    DateTimeOffset ExpiresAt,
    DateTimeOffset IssuedAt,
    string? Email,
    string? Name,
    IReadOnlyList<Claim> All)
{
    /// <summary>The claims as a principal (authentication type <c>oidc</c>, name claim <c>name</c>), for code that expects one.</summary>
    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(All, "oidc", "name", "role"));

    /// <inheritdoc />
    public override string ToString() =>
        $"IdTokenClaims {{ Issuer = {Issuer}, ExpiresAt = {ExpiresAt:O}, Claims = {All.Count} }}";
}
