using System.Buffers;

namespace O8Actors.Cluster;

/// <summary>
/// Upper bounds on the bytes a serializer writes for strings and numbers, from their lengths alone: a cheap pass over
/// the characters, so an outcome can be checked against the remoting frame without being serialized
/// (<see cref="OutcomeFrame"/>).
/// </summary>
/// <remarks>
/// The bound holds for JSON in any of Newtonsoft's escape modes and for serializers that write strings as UTF-8: a
/// character that is printable ASCII and not one JSON or HTML-safe escaping rewrites (<c>&lt; &gt; &amp; ' +</c>) is one byte; <c>"</c> and <c>\</c> at
/// most two; any other (a control character, an HTML-escaped one, a non-ASCII UTF-16 unit) at most six (<c>\uXXXX</c>;
/// UTF-8 needs three at most, four for a surrogate pair's two units).
/// </remarks>
internal static class WireSize
{
    // Per string: its quotes and the separator after it. Per number: an int's 11 characters and a separator.
    private const int StringFrame = 3;
    private const int NumberBytes = 12;

    private static readonly SearchValues<char> OneByte = SearchValues.Create(
        Enumerable.Range(0x20, 0x7F - 0x20).Select(c => (char)c).Where(c => c is not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+')).ToArray());

    /// <summary>At most how many bytes <paramref name="value"/> takes (<c>null</c>: four).</summary>
    public static long Of(string? value)
    {
        if (value is null) return 4;
        long size = value.Length + StringFrame;
        var rest = value.AsSpan();
        int at;
        while ((at = rest.IndexOfAnyExcept(OneByte)) >= 0)
        {
            size += rest[at] is '"' or '\\' ? 1 : 5;
            rest = rest[(at + 1)..];
        }

        return size;
    }

    /// <summary>At most how many bytes <paramref name="values"/> take, one after another.</summary>
    public static long Of(IEnumerable<string?> values) => values.Sum(Of);

    /// <summary>At most how many bytes <paramref name="count"/> integers take.</summary>
    public static long OfNumbers(int count) => (long)count * NumberBytes;
}
