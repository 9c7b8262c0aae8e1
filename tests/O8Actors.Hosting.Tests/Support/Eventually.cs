using System.Diagnostics;

namespace O8Actors.Hosting.Tests.Support;

/// <summary>Retries an assertion until it passes or the (bounded) time is up, like TestKit's AwaitAssert.</summary>
public static class Eventually
{
    /// <summary>Runs <paramref name="assertion"/> until it stops throwing; rethrows its last failure after <paramref name="within"/>.</summary>
    public static async Task AssertAsync(Func<Task> assertion, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (clock.Elapsed < within)
            {
                await Task.Delay(25);
            }
        }
    }

    /// <summary>Synchronous form of <see cref="AssertAsync(Func{Task}, TimeSpan)"/>.</summary>
    public static Task AssertAsync(Action assertion, TimeSpan within) =>
        AssertAsync(() =>
        {
            assertion();
            return Task.CompletedTask;
        }, within);
}
