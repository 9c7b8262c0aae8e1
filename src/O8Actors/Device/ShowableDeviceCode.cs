using System.Text;
using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// A device authorization's text is put before the user (the console prompt, the app's own screen, its logs), so it is
/// checked before a device login shows it, whichever strategy produced it: a provider that sends control characters
/// (terminal escapes that rewrite the screen or the clipboard, a line break that forges a log line) or a code no one
/// could type is refused, never shown.
/// </summary>
internal static class ShowableDeviceCode
{
    /// <summary>Longest user code shown; RFC 8628 section 6.1 asks for short codes a user types (8 to 12 characters in practice).</summary>
    public const int MaxUserCodeLength = 64;

    /// <summary>
    /// <paramref name="authorization"/> as it may be shown (an unshowable complete URI left out, a lifetime that is not
    /// positive replaced by the default), or a <see cref="TokenExchangeException"/> saying what cannot be shown.
    /// </summary>
    public static DeviceAuthorization Checked(DeviceAuthorization authorization, string provider)
    {
        var code = authorization.UserCode;
        if (string.IsNullOrWhiteSpace(code) || code.Length > MaxUserCodeLength || Unshowable(code))
            throw new TokenExchangeException($"The device authorization response of provider '{provider}' has a user_code that cannot be shown " +
                $"(empty, over {MaxUserCodeLength} characters, or with control, invisible formatting or line separator characters); the device login was not started.");
        if (!Showable(authorization.VerificationUri))
            throw new TokenExchangeException($"The device authorization response of provider '{provider}' has a verification_uri with control characters; " +
                "the device login was not started.");
        // A custom strategy's lifetime that is not positive gets the built-in reader's default: the login's deadline is
        // set from it, and a scheduler refuses a negative delay (the login would end as an internal error).
        if (authorization.ExpiresIn <= TimeSpan.Zero)
            authorization = authorization with { ExpiresIn = DeviceAuthorization.DefaultLifetime };
        // The complete URI is optional: one that cannot be shown is left out, and the user types the code.
        return authorization.VerificationUriComplete is { } complete && !Showable(complete)
            ? authorization with { VerificationUriComplete = null }
            : authorization;
    }

    // As the prompt and an app print it: ToString keeps a raw control character (AbsoluteUri escapes it, the QR code uses that).
    private static bool Showable(Uri uri) => !Unshowable(uri.ToString());

    /// <summary>Whether <paramref name="text"/> holds a character <see cref="Unshowable(Rune)"/>, or half of a surrogate pair.</summary>
    /// <remarks>Read by code point: a character above U+FFFF (the invisible tag characters U+E0000-E007F among them) is two
    /// UTF-16 halves, each of which reads as a surrogate, never as what it is.</remarks>
    private static bool Unshowable(string text) => text.EnumerateRunes().Any(Unshowable);

    /// <summary>
    /// What external text may not hold anywhere (<see cref="Callback.ExternalText.Hides"/>: a code shown reversed is not the
    /// code the user types, one with zero-width characters looks like another), and the replacement character: a lone
    /// surrogate reads as it, and no provider's code holds it.
    /// </summary>
    private static bool Unshowable(Rune c) => c == Rune.ReplacementChar || Callback.ExternalText.Hides(c);
}
