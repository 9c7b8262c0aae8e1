using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace O8Actors.Accounts;

/// <summary>
/// How a token store reads back a record it wrote as JSON encrypted by Data Protection: the rule of
/// <see cref="ITokenStore"/>, kept once for <see cref="FileTokenStore"/> and the persistence store.
/// </summary>
internal static class ProtectedRecords
{
    /// <summary>
    /// The record in <paramref name="payload"/>; null when it does not decrypt (its key ring is gone, or it is damaged:
    /// as good as absent, the account signs in again). A key ring that cannot be loaded throws its cause instead.
    /// </summary>
    /// <param name="protector">The protector the record was written with.</param>
    /// <param name="payload">The encrypted record.</param>
    /// <param name="record">Which record, for the exception's message (a name, never data).</param>
    /// <param name="isReadable">
    /// Whether a record that parsed is of a format this version reads (its format number); null when the record has none.
    /// A newer format whose fields happen to parse is as unreadable as one that does not.
    /// </param>
    /// <exception cref="StoredTokensUnreadableException">
    /// It decrypts but is not a record of this format. Data Protection authenticates the payload, so this is no damage but
    /// a record a newer version wrote: read as absent, the account would look signed out and its next save would go over
    /// the newer record, whose refresh token nobody would then revoke.
    /// </exception>
    /// <exception cref="Exception">The key ring could not be loaded: its repository's own exception (an
    /// <see cref="IOException"/>, a database's or a cache's), not taken for a record that does not decrypt.</exception>
    public static T? Open<T>(IDataProtector protector, byte[] payload, string record, Func<T, bool>? isReadable = null) where T : class
    {
        byte[] json;
        try
        {
            json = protector.Unprotect(payload);
        }
        // Data Protection says "does not decrypt" (a key not in the ring, a payload tampered with or cut short, a key the
        // ring cannot decrypt) with no inner exception or a cryptographic one: as good as absent.
        catch (CryptographicException e) when (e.InnerException is null or CryptographicException)
        {
            return null;
        }
        // Anything else inside is the key ring failing to load (its repository unreachable: a Redis or database restart, a
        // share not mounted yet, a disk error; PrivateKeyRing's own refusal), or one key of a ring that loads being unusable
        // for good (its decryptor's type missing, its Key Vault key deleted). The first fails the store with its cause:
        // read as absent, every account looked signed out for the outage, and a sign-out erased tokens it never revoked.
        // The second is a record that does not decrypt, as a lost key is: absent, so a sign-in can save over it.
        catch (CryptographicException) when (RingLoads(protector))
        {
            return null;
        }
        catch (CryptographicException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
            throw;
        }

        T? read;
        try
        {
            read = JsonSerializer.Deserialize<T>(json);
        }
        catch (JsonException)
        {
            // Not chained: a JsonException's message may quote the text it stopped at, which is the tokens.
            throw Unreadable(record);
        }

        return read is not null && isReadable?.Invoke(read) != false ? read : throw Unreadable(record);
    }

    /// <summary>Whether the key ring loads (it protects with its current key): then a failure to open one record is that record's key's.</summary>
    private static bool RingLoads(IDataProtector protector)
    {
        try
        {
            protector.Protect([]);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or IOException or KeyRingKeyUnreadableException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static StoredTokensUnreadableException Unreadable(string record) => new(
        $"The stored tokens of {record} decrypt but are not in a format this version of O8Actors reads (written by a newer " +
        "version?). They are kept, not overwritten; signing the account out clears them.");
}
