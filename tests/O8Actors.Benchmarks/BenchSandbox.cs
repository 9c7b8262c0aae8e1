using O8Actors.TestKit.Sandbox;

namespace O8Actors.Benchmarks;

/// <summary>The authorization server's options in both settings: it approves every login and forgets each one soon.</summary>
internal static class BenchSandbox
{
    /// <summary>
    /// Short lifetimes, so the server forgets each login's code and tokens within a minute of it (a login here redeems its
    /// code within a second and never refreshes): its heap stays flat over a million logins instead of growing by about
    /// 2 KB a login (220 MB over 56,000 logins, measured 2026-12-03), which would hand the measurement a growing share of
    /// the server's collections on the shared CPUs. <c>expires_in</c> is still sent.
    /// </summary>
    public static SandboxOptions Options() => new()
    {
        Decide = SandboxDecisions.AlwaysApprove,
        CodeLifetime = TimeSpan.FromSeconds(20),
        AccessTokenLifetime = TimeSpan.FromSeconds(20),
        RefreshTokenLifetime = TimeSpan.FromSeconds(20),
    };
}
