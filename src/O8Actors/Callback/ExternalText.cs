using System.Text;

namespace O8Actors.Callback;

/// <summary>
/// Makes text that arrives from outside (a callback's <c>error</c>, <c>error_description</c> and <c>iss</c>) safe to
/// carry into log lines, events, exception messages and pages: control characters (CR, LF, NUL, ANSI escapes...) become
/// U+FFFD, so a forged value cannot start a fake log line or steer a terminal, and the length is capped.
/// Characters are replaced, never removed, so a cleaned <c>iss</c> can never become equal to a real issuer.
/// </summary>
internal static class ExternalText
{
    /// <summary>Longest <c>error</c> kept; RFC 6749 error codes are short ASCII words.</summary>
    public const int MaxErrorLength = 128;

    /// <summary>Longest <c>error_description</c> or <c>iss</c> kept.</summary>
    public const int MaxTextLength = 512;

    private const char Replacement = '\uFFFD';
    private const char Ellipsis = '\u2026';

    /// <summary><paramref name="value"/> with control characters replaced and cut to <paramref name="maxLength"/> (ending in "…").</summary>
    public static string? Clean(string? value, int maxLength)
    {
        if (value is null) return null;
        var tooLong = value.Length > maxLength;
        if (!tooLong && !HasControl(value)) return value;

        var kept = tooLong ? value.AsSpan(0, maxLength - 1) : value.AsSpan();
        var builder = new StringBuilder(kept.Length + 1);
        foreach (var c in kept) builder.Append(char.IsControl(c) ? Replacement : c);
        if (tooLong) builder.Append(Ellipsis);
        return builder.ToString();
    }

    private static bool HasControl(string value)
    {
        foreach (var c in value)
            if (char.IsControl(c)) return true;
        return false;
    }
}
