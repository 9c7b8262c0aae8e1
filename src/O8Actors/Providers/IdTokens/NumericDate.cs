namespace O8Actors.Providers.IdTokens;

/// <summary>
/// A signed token's times (JWT NumericDate, seconds since 1970) read without throwing: a token may carry any 64-bit
/// number, and <see cref="DateTimeOffset"/> holds only years 1 to 9999, so every conversion and every sum with a clock
/// skew or a margin goes through here and ends at the range's edge instead of an <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
internal static class NumericDate
{
    /// <summary><see cref="DateTimeOffset.MinValue"/> in Unix seconds.</summary>
    public const long MinSeconds = -62_135_596_800;

    /// <summary><see cref="DateTimeOffset.MaxValue"/> in Unix seconds (rounded down).</summary>
    public const long MaxSeconds = 253_402_300_799;

    /// <summary>The time <paramref name="seconds"/> names; null when no <see cref="DateTimeOffset"/> holds it.</summary>
    public static DateTimeOffset? ToTime(long seconds) =>
        seconds is >= MinSeconds and <= MaxSeconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    /// <summary>
    /// An <c>exp</c>: past year 9999 it is "far future" (<see cref="DateTimeOffset.MaxValue"/>, not expired), before
    /// year 1 it is long past (<see cref="DateTimeOffset.MinValue"/>, expired).
    /// </summary>
    public static DateTimeOffset Expiry(long seconds) =>
        ToTime(seconds) ?? (seconds > 0 ? DateTimeOffset.MaxValue : DateTimeOffset.MinValue);

    /// <summary><paramref name="time"/> plus <paramref name="span"/> (UTC), held at the edges of the range.</summary>
    public static DateTimeOffset Plus(DateTimeOffset time, TimeSpan span)
    {
        var ticks = time.UtcTicks;
        if (span.Ticks >= 0)
            return span.Ticks > DateTimeOffset.MaxValue.UtcTicks - ticks ? DateTimeOffset.MaxValue : new DateTimeOffset(ticks + span.Ticks, TimeSpan.Zero);
        return span.Ticks < DateTimeOffset.MinValue.UtcTicks - ticks ? DateTimeOffset.MinValue : new DateTimeOffset(ticks + span.Ticks, TimeSpan.Zero);
    }

    /// <summary><paramref name="time"/> minus <paramref name="span"/> (a non-negative skew or age), held at the range's start.</summary>
    public static DateTimeOffset Minus(DateTimeOffset time, TimeSpan span) => Plus(time, -span);
}
