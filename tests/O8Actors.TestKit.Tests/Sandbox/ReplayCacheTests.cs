using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox's replay caches (DPoP proof and client assertion <c>jti</c>s): an identifier is refused a second time for
/// as long as what carried it could still be accepted, and forgotten after, so a long-running test host does not keep
/// every identifier it ever saw.
/// </summary>
public sealed class ReplayCacheTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z");

    [Fact]
    public void An_identifier_is_refused_until_its_carrier_can_no_longer_be_accepted_then_forgotten()
    {
        var cache = new ReplayCache();
        var acceptableUntil = Start.AddMinutes(10);

        Assert.True(cache.TryUse("a", acceptableUntil, Start));
        Assert.False(cache.TryUse("a", acceptableUntil, Start.AddMinutes(5)));
        Assert.False(cache.TryUse("a", acceptableUntil, acceptableUntil));         // the last instant it could be accepted

        Assert.True(cache.TryUse("b", Start.AddMinutes(20), acceptableUntil.AddTicks(1)));

        Assert.Equal(1, cache.Count);                                                 // "a" is forgotten, "b" kept
        Assert.False(cache.TryUse("b", Start.AddMinutes(20), Start.AddMinutes(19)));
    }

    [Fact]
    public void Thousands_of_identifiers_are_forgotten_once_their_time_has_passed_and_the_later_ones_kept()
    {
        var cache = new ReplayCache();
        for (var i = 0; i < 10_000; i++)
            Assert.True(cache.TryUse($"early-{i}", Start.AddMinutes(5), Start));
        for (var i = 0; i < 100; i++)
            Assert.True(cache.TryUse($"late-{i}", Start.AddMinutes(15), Start.AddMinutes(1)));
        Assert.Equal(10_100, cache.Count);

        Assert.True(cache.TryUse("now", Start.AddMinutes(16), Start.AddMinutes(6)));

        Assert.Equal(101, cache.Count);
        Assert.False(cache.TryUse("late-7", Start.AddMinutes(15), Start.AddMinutes(6)));
    }
}
