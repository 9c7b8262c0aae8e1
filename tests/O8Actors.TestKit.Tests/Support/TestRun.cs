namespace O8Actors.TestKit.Tests;

/// <summary>The running test's cancellation token: xUnit v3's, or none under xUnit 2 (the shared tests compile for both).</summary>
internal static class TestRun
{
#if XUNIT_V3
    public static CancellationToken Token => TestContext.Current.CancellationToken;
#else
    public static CancellationToken Token => CancellationToken.None;
#endif
}
