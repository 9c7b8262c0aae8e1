using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox's store of what expires (pushed requests, consent pages, used identifiers): a value is taken out until
/// its expiry and not from then on, and everything expired is forgotten at the next access, whichever key it names.
/// </summary>
public sealed class ExpiringEntriesTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z");

    [Fact]
    public void A_value_is_taken_out_before_its_expiry_only_and_expired_ones_are_forgotten_at_the_next_access()
    {
        var entries = new ExpiringEntries<int>();
        Assert.True(entries.TryAdd("a", 1, Start.AddMinutes(1), Start));
        Assert.True(entries.TryAdd("b", 2, Start.AddMinutes(1), Start));
        Assert.True(entries.TryAdd("c", 3, Start.AddMinutes(5), Start));
        Assert.False(entries.TryAdd("c", 4, Start.AddMinutes(5), Start));            // kept already

        Assert.True(entries.TryRemove("a", Start.AddMinutes(1).AddTicks(-1), out var a));
        Assert.Equal(1, a);
        Assert.False(entries.TryRemove("b", Start.AddMinutes(1), out _));            // its expiry: gone

        Assert.Equal(1, entries.Count);
        Assert.True(entries.TryRemove("c", Start.AddMinutes(2), out var c));
        Assert.Equal(3, c);
    }

    [Fact]
    public void A_key_taken_out_and_kept_again_lives_to_its_new_expiry_not_its_old_one()
    {
        var entries = new ExpiringEntries<string>();
        Assert.True(entries.TryAdd("k", "first", Start.AddMinutes(1), Start));
        Assert.True(entries.TryRemove("k", Start, out _));
        Assert.True(entries.TryAdd("k", "second", Start.AddMinutes(10), Start));

        Assert.True(entries.TryAdd("other", "x", Start.AddMinutes(10), Start.AddMinutes(2)));  // the old expiry has passed

        Assert.True(entries.TryRemove("k", Start.AddMinutes(3), out var value));
        Assert.Equal("second", value);
    }
}
