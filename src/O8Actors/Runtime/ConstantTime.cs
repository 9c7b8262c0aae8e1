using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace O8Actors.Runtime;

/// <summary>
/// Compares a secret someone presents (a client secret, a browser-binding cookie, an ID token's <c>nonce</c>) with the
/// one expected, in a time that tells nothing of how much of a guess was right: an ordinary string compare stops at the
/// first wrong character, which lets a guesser find a secret one character at a time.
/// </summary>
internal static class ConstantTime
{
    /// <summary>
    /// Whether <paramref name="expected"/> and <paramref name="presented"/> are the same text (ordinal: char for char);
    /// null equals nothing, not even null. The time taken depends on the lengths only; texts of different lengths are
    /// unequal at once (a secret's length is no secret).
    /// </summary>
    public static bool AreEqual(string? expected, string? presented) =>
        expected is not null && presented is not null &&
        // The UTF-16 code units themselves, not an encoding of them: no copy, and no two different texts become the same
        // bytes (UTF-8 would turn every lone surrogate into the one replacement character).
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(expected.AsSpan()), MemoryMarshal.AsBytes(presented.AsSpan()));
}
