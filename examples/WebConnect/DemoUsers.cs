using System.Security.Cryptography;
using System.Text;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The demo's user list, from configuration (<c>Demo:Users:{name}</c> = demo password). It stands in for the app's
/// real user store: demo passwords only, never a real one in a repository. A real app checks password hashes (ASP.NET Core Identity) or signs users in with OpenID Connect.
/// </summary>
internal sealed class DemoUsers(IConfiguration configuration)
{
    /// <summary>Whether <paramref name="password"/> is <paramref name="user"/>'s demo password (compared in constant time).</summary>
    public bool Check(string user, string password)
    {
        var expected = configuration[$"Demo:Users:{user}"];
        if (string.IsNullOrEmpty(expected) || string.IsNullOrEmpty(password)) return false;
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(password)));
    }
}
