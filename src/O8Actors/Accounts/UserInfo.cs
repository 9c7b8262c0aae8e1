using System.Security.Claims;
using System.Text.Json;

namespace O8Actors;

/// <summary>
/// The claims the provider's UserInfo endpoint returned for an account (OpenID Connect Core 1.0 section 5.3), after
/// O8Actors checked that they are about the account's user: their <c>sub</c> is the one of the account's validated ID
/// token (section 5.3.4).
/// </summary>
/// <param name="Account">Whose claims these are.</param>
/// <param name="Subject">The <c>sub</c> claim (equal to the ID token's).</param>
/// <param name="Email">The <c>email</c> claim, when present (with the <c>email</c> scope).</param>
/// <param name="Name">The <c>name</c> claim, when present (with the <c>profile</c> scope).</param>
/// <param name="All">
/// Every claim, named as in the response: strings, numbers and booleans as their text with their
/// <see cref="ClaimValueTypes"/>, an array as one claim per scalar element, an object (such as <c>address</c>) as its JSON
/// with the value type <c>JSON</c>.
/// </param>
/// <remarks><see cref="ToString"/> prints no personal data.</remarks>
public sealed record UserInfo(OAuthAccount Account, string Subject, string? Email, string? Name, IReadOnlyList<Claim> All)
{
    /// <summary>The response as sent (a JSON object), for claims whose structure matters.</summary>
    public JsonElement Json { get; init; }

    /// <summary>The claims as a principal (authentication type <c>oidc</c>, name claim <c>name</c>), for code that expects one.</summary>
    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(All, "oidc", "name", "role"));

    /// <inheritdoc />
    public override string ToString() => $"UserInfo {{ Account = {Account}, Claims = {All.Count} }}";
}
