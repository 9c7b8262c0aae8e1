namespace O8Actors.Accounts;

/// <summary>
/// The validated ID token claims as a token store keeps them (inside its encryption): the named fields only. The full
/// claim list is read back from the stored ID token, which was validated when it was issued, rather than stored twice.
/// Shared by the file store and the database store so both read and write the same shape.
/// </summary>
internal sealed record StoredClaims(string Subject, string Issuer, IReadOnlyList<string> Audiences, DateTimeOffset ExpiresAt,
    DateTimeOffset IssuedAt, string? Email, string? Name)
{
    /// <summary>The stored form of <paramref name="claims"/>, or null.</summary>
    public static StoredClaims? From(IdTokenClaims? claims) => claims is { } c
        ? new StoredClaims(c.Subject, c.Issuer, c.Audiences, c.ExpiresAt, c.IssuedAt, c.Email, c.Name)
        : null;

    /// <summary>The claims again, with every claim of <paramref name="idToken"/>.</summary>
    public IdTokenClaims ToClaims(string? idToken) => new(Subject, Issuer, Audiences, ExpiresAt, IssuedAt, Email, Name, AllClaims(idToken));

    private static IReadOnlyList<System.Security.Claims.Claim> AllClaims(string? idToken)
    {
        if (string.IsNullOrEmpty(idToken)) return [];
        try
        {
            return new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(idToken).Claims.ToList();
        }
        catch (ArgumentException)
        {
            return [];
        }
    }
}
