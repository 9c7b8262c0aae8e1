using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace O8Actors.Accounts;

/// <summary>
/// Tokens a server refused even though they had just been renewed for it, kept as SHA-256 hashes (never the tokens
/// themselves) and bounded: past <see cref="Capacity"/> the set starts over, which costs at most one more refresh per
/// token forgotten. Thread-safe. An <see cref="AccessTokenHandler"/> keeps one for the APIs it calls, and each
/// <see cref="IOAuthLogins"/> one for its UserInfo calls (see <see cref="RenewedToken.AfterRefusalAsync"/>).
/// </summary>
internal sealed class RefusedTokens
{
    /// <summary>How many hashes are kept before the set starts over.</summary>
    public const int Capacity = 256;

    private readonly ConcurrentDictionary<string, byte> _hashes = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="token"/> was refused after a renewal.</summary>
    public bool Contains(string token) => !_hashes.IsEmpty && _hashes.ContainsKey(Hash(token));

    /// <summary>Notes that <paramref name="token"/>, just renewed, was refused.</summary>
    public void Add(string token)
    {
        if (_hashes.Count >= Capacity) _hashes.Clear();
        _hashes.TryAdd(Hash(token), 0);
    }

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
