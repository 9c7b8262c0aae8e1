namespace O8Actors.Tests.Support;

/// <summary>How often a test's <c>AwaitCondition</c> checks its condition.</summary>
/// <remarks>
/// Without an interval, Akka.TestKit checks every tenth of the wait: a condition that holds after a few milliseconds
/// costs two seconds of a 20-second wait, in a class whose tests run one after another.
/// </remarks>
internal static class Polling
{
    /// <summary>The interval: the conditions checked are a field or two, cheap to read this often.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);
}
