using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace O8Actors.Binding;

/// <summary>
/// Binds a server-mode login to the browser that started it (RFC 9700 section 4.7.1, RFC 6749 section 10.12): mints
/// the secret the browser keeps (in a cookie, or in the app's own session) and checks, in constant time, the secret a
/// callback presents. The login stores only a <see cref="BrowserBindingHash"/>.
/// </summary>
/// <remarks>
/// The per-login key is protected with ASP.NET Core Data Protection, not kept in this process's memory, so the check
/// works on any node that shares the key ring (a cluster, a restarted process with a persisted ring) and on no other.
/// </remarks>
internal sealed class BrowserBindingVerifier
{
    /// <summary>The Data Protection purpose of the per-login keys.</summary>
    public const string Purpose = "O8Actors.BrowserBinding.v1";

    /// <summary>Bytes of entropy in a secret and in a key.</summary>
    public const int SecretBytes = 32;

    // A genuine secret is 43 characters; anything much longer is not one of ours and is not worth hashing.
    internal const int MaxPresentedLength = 256;

    private readonly IDataProtector _protector;

    /// <summary>A verifier whose keys are protected by <paramref name="dataProtection"/>.</summary>
    public BrowserBindingVerifier(IDataProtectionProvider dataProtection)
    {
        ArgumentNullException.ThrowIfNull(dataProtection);
        _protector = dataProtection.CreateProtector(Purpose);
    }

    /// <summary>A fresh secret for the browser (32 random bytes, base64url) and what the login keeps of it.</summary>
    public (string Secret, BrowserBindingHash Hash) Create()
    {
        var secret = Flows.FlowSecrets.RandomToken(SecretBytes);
        var key = RandomNumberGenerator.GetBytes(SecretBytes);
        try
        {
            return (secret, new BrowserBindingHash(_protector.Protect(key), Mac(key, secret)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is the secret <paramref name="hash"/> was made from. False for a missing,
    /// malformed or wrong secret, and for a key protected by another key ring. Never throws for bad input.
    /// </summary>
    public bool Verify(BrowserBindingHash hash, string? presented) => Check(hash, presented) == BrowserBindingCheck.Matches;

    /// <summary>
    /// As <see cref="Verify"/>, telling a secret that does not match from a login's key this node cannot read (the login
    /// was begun where another Data Protection key ring is in use: an operator's mistake, not an attacker's browser).
    /// </summary>
    public BrowserBindingCheck Check(BrowserBindingHash hash, string? presented)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (string.IsNullOrEmpty(presented) || presented.Length > MaxPresentedLength) return BrowserBindingCheck.DoesNotMatch;
        byte[] key;
        try
        {
            key = _protector.Unprotect(hash.ProtectedKey);
        }
        catch (CryptographicException)
        {
            // Another key ring, or a tampered key: nothing here can vouch for this browser.
            return BrowserBindingCheck.KeyUnreadable;
        }

        try
        {
            return CryptographicOperations.FixedTimeEquals(Mac(key, presented), hash.Mac)
                ? BrowserBindingCheck.Matches
                : BrowserBindingCheck.DoesNotMatch;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] Mac(byte[] key, string secret) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(secret));

    /// <inheritdoc />
    public override string ToString() => "BrowserBindingVerifier";
}

/// <summary>What <see cref="BrowserBindingVerifier.Check"/> found.</summary>
internal enum BrowserBindingCheck
{
    /// <summary>The secret is the one the login's binding was made from.</summary>
    Matches,

    /// <summary>Missing, malformed or another secret.</summary>
    DoesNotMatch,

    /// <summary>The login's key does not open with this node's key ring (or was tampered with).</summary>
    KeyUnreadable,
}
