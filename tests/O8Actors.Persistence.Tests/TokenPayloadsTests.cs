using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// A payload that does not decrypt reads as absent; one that decrypts (Data Protection authenticated it: no damage) but
/// is not this version's format is unreadable, so an app downgraded after a newer version wrote it does not take the
/// account for signed out and save over the newer tokens.
/// </summary>
public sealed class TokenPayloadsTests
{
    private static readonly OAuthAccount Alice = new("sandbox", "alice");
    private readonly EphemeralDataProtectionProvider _keys = new();

    [Fact]
    public void A_payload_of_a_newer_format_is_unreadable_and_one_that_does_not_decrypt_is_absent()
    {
        var payloads = new TokenPayloads(_keys);
        var newer = _keys.CreateProtector(TokenPayloads.Purpose)
            .Protect(Encoding.UTF8.GetBytes("""{"Format":2,"Account":["sandbox","alice"],"AccessToken":{"v":"refresh-of-the-newer-version"}}"""));

        var error = Assert.Throws<StoredTokensUnreadableException>(() => payloads.Unprotect(Alice, newer));

        Assert.DoesNotContain("refresh-of-the-newer-version", error.ToString(), StringComparison.Ordinal);
        Assert.Null(payloads.Unprotect(Alice, new TokenPayloads(new EphemeralDataProtectionProvider()).Protect(Alice, new TokenSet("a", "Bearer"))));
        Assert.Equal("a", payloads.Unprotect(Alice, payloads.Protect(Alice, new TokenSet("a", "Bearer")))!.AccessToken);
    }

    [Fact]
    public void A_payload_of_a_newer_format_whose_fields_still_parse_is_unreadable_too()
    {
        var payloads = new TokenPayloads(_keys);
        // Every field this version needs, in its shape: only the format number says it is not this version's record.
        var newer = _keys.CreateProtector(TokenPayloads.Purpose).Protect(Encoding.UTF8.GetBytes(
            $$"""{"Format":2,"Account":"{{Alice.Id}}","AccessToken":"at-of-the-newer-version","TokenType":"Bearer"}"""));

        Assert.Throws<StoredTokensUnreadableException>(() => payloads.Unprotect(Alice, newer));
    }
}
