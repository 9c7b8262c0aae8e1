using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Accounts;

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
    /// <exception cref="IOException">The key ring folder the app named holds a key this process may not read (said with the folder and key).</exception>
    public byte[] Protect(OAuthAccount account, TokenSet tokens) =>
        _protector.Protect(JsonSerializer.SerializeToUtf8Bytes(Payload.From(account, tokens)));

    /// <summary>The tokens in <paramref name="payload"/>, or null when it does not decrypt (key ring lost) or is another account's.</summary>
    /// <exception cref="StoredTokensUnreadableException">It decrypts but is of a format this version does not read (a newer one).</exception>
    public TokenSet? Unprotect(OAuthAccount account, byte[] payload)
    {
        var read = ProtectedRecords.Open<Payload>(_protector, payload, $"account '{account.Id}'", p => p.Format == Payload.CurrentFormat);
        return read is not null && read.Account == account.Id ? read.ToTokens() : null;
    }

    /// <summary>Format 1 of the payload (inside the encryption); <c>DpopKey</c> is absent in payloads written before DPoP.</summary>
    private sealed record Payload(
        int Format, string Account, string AccessToken, string TokenType, DateTimeOffset? ExpiresAt, string? RefreshToken,
        string? Scope, string? IdToken, StoredClaims? Claims, string? DpopKey = null)
    {
        /// <summary>The format this version writes and reads.</summary>
        public const int CurrentFormat = 1;

        public static Payload From(OAuthAccount account, TokenSet t) => new(
            CurrentFormat, account.Id, t.AccessToken, t.TokenType, t.ExpiresAt, t.RefreshToken, t.Scope, t.IdToken, StoredClaims.From(t.IdTokenClaims),
            t.DpopKey?.ToJwk());

        public TokenSet ToTokens() => new(AccessToken, TokenType, ExpiresAt, RefreshToken, Scope, IdToken)
        {
            IdTokenClaims = Claims?.ToClaims(IdToken),
            DpopKey = DpopKey is null ? null : Dpop.DpopKey.FromJwk(DpopKey),
        };
    }
}
