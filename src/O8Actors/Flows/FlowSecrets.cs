using System.Security.Cryptography;
using System.Text;

namespace O8Actors.Flows;

/// <summary>
/// The per-login secrets: the <c>state</c> (RFC 6749 section 10.12) and the PKCE pair (RFC 7636).
/// </summary>
/// <param name="State">32 bytes from <see cref="RandomNumberGenerator"/>, base64url (43 characters).</param>
/// <param name="CodeVerifier">32 bytes from the CSPRNG, base64url (43 characters, the RFC's minimum length and 256 bits).</param>
/// <param name="CodeChallenge">BASE64URL(SHA256(ASCII(verifier))), the S256 method.</param>
internal sealed record FlowSecrets(string State, string CodeVerifier, string CodeChallenge)
{
    /// <summary>Fresh secrets for one login.</summary>
    public static FlowSecrets Create()
    {
        var verifier = RandomToken(32);
        return new FlowSecrets(RandomToken(32), verifier, ChallengeFor(verifier));
    }

    /// <summary>The S256 challenge for <paramref name="verifier"/>.</summary>
    public static string ChallengeFor(string verifier) =>
        Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>A URL-safe random token of <paramref name="bytes"/> bytes of entropy.</summary>
    public static string RandomToken(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url(buffer);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <inheritdoc />
    public override string ToString() => "FlowSecrets { *** }";
}
