using System.Security.Cryptography;
using System.Text;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The demo's user list, from configuration (<c>Demo:Users:{name}</c> = demo password). It stands in for the app's
/// real user store: demo passwords only, never a real one in a repository. A real app checks password hashes (ASP.NET Core Identity) or signs users in with OpenID Connect.
/// </summary>
internal sealed class DemoUsers(IConfiguration configuration)
{
    /// <summary>
    /// The user's name as the user list spells it when <paramref name="password"/> is <paramref name="user"/>'s demo
    /// password (compared in constant time), else null. Configuration keys ignore case, so "ALICE" finds alice: the
    /// name signed in is the list's, or each spelling would be a user of its own, with its own rate limit and its own
    /// share of the pending logins (the per-user limits multiplied by the spellings of a name).
    /// </summary>
    public string? SignIn(string user, string password)
    {
        var entry = configuration.GetSection("Demo:Users").GetChildren()
            .FirstOrDefault(c => string.Equals(c.Key, user, StringComparison.OrdinalIgnoreCase));
        if (entry?.Value is not { Length: > 0 } expected || string.IsNullOrEmpty(password)) return null;
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(password)))
            ? entry.Key
            : null;
    }
}
