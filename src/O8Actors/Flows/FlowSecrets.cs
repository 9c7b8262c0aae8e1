using System.Security.Cryptography;
using System.Text;

namespace O8Actors.Flows;

/// <summary>
/// The per-login secrets: the <c>state</c> (RFC 6749 section 10.12), the PKCE pair (RFC 7636) and the OpenID Connect
/// <c>nonce</c> (OpenID Connect Core 1.0 section 3.1.2.1) that binds the ID token to this login.
/// </summary>
/// <param name="State">32 bytes from <see cref="RandomNumberGenerator"/>, base64url (43 characters).</param>
/// <param name="CodeVerifier">32 bytes from the CSPRNG, base64url (43 characters, the RFC's minimum length and 256 bits).</param>
/// <param name="Nonce">32 bytes from the CSPRNG, base64url; sent only to OpenID Connect providers, never logged.</param>
/// <remarks>The challenge is derived when the authorize URL is built (<see cref="ChallengeFor"/>), not kept: a login
/// holds only what it still needs while it waits.</remarks>
internal sealed record FlowSecrets(string State, string CodeVerifier, string Nonce)
{
    /// <summary>Fresh secrets for one login.</summary>
    public static FlowSecrets Create() => new(RandomToken(32), RandomToken(32), RandomToken(32));

    /// <summary>
    /// Fresh secrets whose state is <c>{statePrefix}.{256-bit secret}</c> (cluster server mode: the prefix is the login's
    /// routing id, which every node can read to find the login; the secret part is what makes the state unguessable).
    /// Without a prefix, exactly <see cref="Create()"/>.
    /// </summary>
    public static FlowSecrets Create(string? statePrefix) =>
        statePrefix is null ? Create() : new(statePrefix + "." + RandomToken(32), RandomToken(32), RandomToken(32));

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

    /// <summary>
    /// Whether <paramref name="value"/> has the shape of a <see cref="RandomToken"/> of <paramref name="bytes"/> bytes:
    /// exactly as many base64url characters as that token has (<c>(bytes * 8 + 5) / 6</c>, no padding). The one place
    /// that knows the shape, so a check of a state or an id cannot drift from what mints it.
    /// </summary>
    public static bool IsToken(ReadOnlySpan<char> value, int bytes)
    {
        if (value.Length != TokenLength(bytes)) return false;
        foreach (var c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return true;
    }

    /// <summary>The length of a <see cref="RandomToken"/> of <paramref name="bytes"/> bytes: base64url without padding.</summary>
    public static int TokenLength(int bytes) => (bytes * 8 + 5) / 6;

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <inheritdoc />
    public override string ToString() => "FlowSecrets { *** }";
}
