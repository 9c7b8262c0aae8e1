using System.Buffers;
using System.Globalization;
using System.Text;

namespace O8Actors.Callback;

/// <summary>
/// Makes text that arrives from outside (a callback's <c>error</c>, <c>error_description</c> and <c>iss</c>, a provider's
/// error text) safe to carry into log lines, events, exception messages and pages: every character that <see cref="Hides"/>
/// (CR, LF, NUL, ANSI escapes, the Unicode line separators, bidirectional overrides, zero-width characters, half a
/// surrogate pair) becomes U+FFFD, so a forged value cannot start a fake log line, steer a terminal or show itself
/// reversed, and the length is capped. Characters are replaced, never removed, so a cleaned <c>iss</c> can never become
/// equal to a real issuer.
/// </summary>
internal static class ExternalText
{
    /// <summary>Longest <c>error</c> kept; RFC 6749 error codes are short ASCII words.</summary>
    public const int MaxErrorLength = 128;

    /// <summary>Longest <c>error_description</c> or <c>iss</c> kept.</summary>
    public const int MaxTextLength = 512;

    private const char Replacement = '\uFFFD';
    private const char Ellipsis = '\u2026';

    /// <summary><paramref name="value"/> with hiding characters replaced and cut to <paramref name="maxLength"/> (ending in "…").</summary>
    public static string? Clean(string? value, int maxLength)
    {
        if (value is null) return null;
        var tooLong = value.Length > maxLength;
        if (!tooLong && !HasHiding(value)) return value;

        var kept = tooLong ? value.AsSpan(0, CutLength(value, maxLength - 1)) : value.AsSpan();
        var cleaned = Replaced(kept, Replacement);
        return tooLong ? cleaned + Ellipsis : cleaned;
    }

    /// <summary>
    /// How much of <paramref name="text"/> to keep for at most <paramref name="maxLength"/> characters: the cut never leaves
    /// half of a character behind (which would itself read as a lone surrogate).
    /// </summary>
    public static int CutLength(string text, int maxLength) =>
        text.Length <= maxLength ? text.Length : char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;

    /// <summary>
    /// Whether <paramref name="c"/> changes how text is read without showing itself: a control character (a line break
    /// forges a log line, an escape steers a terminal), a bidirectional override or isolate (text shown reversed), a
    /// zero-width or other formatting character (text that looks like other text), a Unicode line or paragraph
    /// separator (a line break to the viewers that honour it).
    /// </summary>
    public static bool Hides(Rune c) => Rune.IsControl(c) || Rune.GetUnicodeCategory(c) is
        UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary><paramref name="text"/> with each character that <see cref="Hides"/>, and each half surrogate pair, as <paramref name="replacement"/>.</summary>
    public static string Replaced(ReadOnlySpan<char> text, char replacement)
    {
        var builder = new StringBuilder(text.Length);
        for (var at = IndexOfHiding(text, out var width); at >= 0; at = IndexOfHiding(text, out width))
        {
            builder.Append(text[..at]).Append(replacement);
            text = text[(at + width)..];
        }
        return builder.Append(text).ToString();
    }

    /// <summary>Whether <paramref name="text"/> holds a character that <see cref="Hides"/>, or half a surrogate pair.</summary>
    public static bool HasHiding(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            // Printable ASCII, the whole of most values, needs no decoding; what precedes the first other char is whole
            // characters, so decoding can start there.
            if (text[i] is >= ' ' and < '\u007F') continue;
            return IndexOfHiding(text[i..], out _) >= 0;
        }
        return false;
    }

    /// <summary>
    /// Where the first character that <see cref="Hides"/>, or the first half surrogate pair, starts in
    /// <paramref name="text"/> (-1: none), and in <paramref name="width"/> how many chars it takes: two for a hiding
    /// character outside the BMP, one for a lone surrogate, which is one char that is no character.
    /// </summary>
    private static int IndexOfHiding(ReadOnlySpan<char> text, out int width)
    {
        for (var at = 0; at < text.Length; at += width)
        {
            if (Rune.DecodeFromUtf16(text[at..], out var rune, out width) != OperationStatus.Done || Hides(rune)) return at;
        }
        width = 0;
        return -1;
    }
}
