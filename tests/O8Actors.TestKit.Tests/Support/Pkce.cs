using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>A PKCE pair for tests (RFC 7636 §4.1-4.2).</summary>
public sealed record Pkce(string Verifier, string Challenge)
{
    public static Pkce Create()
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, ChallengeOf(verifier));
    }

    public static string ChallengeOf(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public override string ToString() => "Pkce { (hidden) }";
}
