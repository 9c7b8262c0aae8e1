using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace O8Actors.Persistence;

/// <summary>
/// Turns an account's <see cref="TokenSet"/> into the opaque payload the journal keeps, and back: JSON (a schema of
/// our own, below), encrypted and authenticated by ASP.NET Core Data Protection under
/// <see cref="Purpose"/>. The account's id is inside the encryption, so a payload moved to another account's row
/// does not read as that account's tokens.
/// </summary>
internal sealed class TokenPayloads(IDataProtectionProvider provider)
{
    /// <summary>The Data Protection purpose: payloads of this store decrypt under no other purpose (and vice versa).</summary>
    public const string Purpose = "O8Actors.Persistence.Tokens.v1";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>The encrypted payload of <paramref name="account"/>'s <paramref name="tokens"/>.</summary>
    public byte[] Protect(OAuthAccount account, TokenSet tokens) =>
        _protector.Protect(JsonSerializer.SerializeToUtf8Bytes(Payload.From(account, tokens)));

    /// <summary>The tokens in <paramref name="payload"/>, or null when it does not decrypt (key ring lost) or is another account's.</summary>
    public TokenSet? Unprotect(OAuthAccount account, byte[] payload)
    {
        try
        {
            var read = JsonSerializer.Deserialize<Payload>(_protector.Unprotect(payload));
            return read is not null && read.Account == account.Id ? read.ToTokens() : null;
        }
        catch (Exception e) when (e is CryptographicException or JsonException)
        {
            // As good as absent: the account signs in again.
            return null;
        }
    }

    /// <summary>Format 1 of the payload (inside the encryption).</summary>
    private sealed record Payload(
        int Format, string Account, string AccessToken, string TokenType, DateTimeOffset? ExpiresAt, string? RefreshToken,
        string? Scope, string? IdToken, Claims? Claims)
    {
        public static Payload From(OAuthAccount account, TokenSet t) => new(
            1, account.Id, t.AccessToken, t.TokenType, t.ExpiresAt, t.RefreshToken, t.Scope, t.IdToken,
            t.IdTokenClaims is { } c ? new Claims(c.Subject, c.Issuer, c.Audiences, c.ExpiresAt, c.IssuedAt, c.Email, c.Name) : null);

        public TokenSet ToTokens() => new(AccessToken, TokenType, ExpiresAt, RefreshToken, Scope, IdToken)
        {
            IdTokenClaims = Claims is { } c
                ? new IdTokenClaims(c.Subject, c.Issuer, c.Audiences, c.ExpiresAt, c.IssuedAt, c.Email, c.Name, AllClaims(IdToken))
                : null,
        };

        /// <summary>The ID token was validated when it was issued; its claims are read back from it rather than stored twice.</summary>
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

    private sealed record Claims(string Subject, string Issuer, IReadOnlyList<string> Audiences, DateTimeOffset ExpiresAt,
        DateTimeOffset IssuedAt, string? Email, string? Name);
}
