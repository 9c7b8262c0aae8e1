namespace O8Actors.TestKit.Tests.Support;

/// <summary>Polls a condition with a bounded number of short waits (for state changed by another thread).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string because, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {because}.");
            await Task.Delay(10);
        }
    }
}
