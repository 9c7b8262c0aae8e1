namespace O8Actors.Examples.ParallelLogins;

/// <summary>What one demo run does, after the command line was parsed and checked.</summary>
/// <param name="Logins">How many logins.</param>
/// <param name="Concurrency">Logins in flight at once.</param>
/// <param name="DenyShare">Share of logins the user refuses (0..1).</param>
/// <param name="AbandonShare">Share of logins whose tab is closed before the redirect (0..1); they end by timeout.</param>
/// <param name="FaultRate">Share of logins whose token request fails (503, malformed JSON or a dropped connection).</param>
/// <param name="Timeout">How long an abandoned login waits (scripted mode), or every login (system browser).</param>
/// <param name="SystemBrowser">Open real browser tabs on the sandbox's consent page instead of scripting the user.</param>
/// <param name="PlainHttp">Serve the callback on plain http://localhost (no certificate).</param>
/// <param name="Seed">Seed of the order in which fates are dealt.</param>
public sealed record DemoSettings(
    int Logins,
    int Concurrency,
    double DenyShare,
    double AbandonShare,
    double FaultRate,
    TimeSpan Timeout,
    bool SystemBrowser,
    bool PlainHttp,
    int Seed)
{
    /// <summary>How long logins that will come back may take: long enough that load never fails them.</summary>
    public static readonly TimeSpan ScriptedLoginTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The first problem with these settings, or <c>null</c>.</summary>
    public string? Problem() =>
        Logins < 1 ? "--logins must be at least 1."
        : Concurrency < 1 ? "--concurrency must be at least 1."
        : !IsShare(DenyShare) ? "--deny-share must be between 0 and 1."
        : !IsShare(AbandonShare) ? "--abandon-share must be between 0 and 1."
        : !IsShare(FaultRate) ? "--fault-rate must be between 0 and 1."
        : DenyShare + AbandonShare + FaultRate > 1 + 1e-9 ? "--deny-share, --abandon-share and --fault-rate add up to more than 1."
        : Timeout <= TimeSpan.Zero ? "--timeout must be a positive number of seconds, at most a day."
        : null;

    /// <summary>
    /// <paramref name="seconds"/> as a timeout; zero (which <see cref="Problem"/> refuses) for what is not a number of
    /// seconds up to a day: NaN, an infinity or a value past <see cref="TimeSpan"/>'s range would throw before that check.
    /// </summary>
    public static TimeSpan TimeoutOf(double seconds) =>
        double.IsFinite(seconds) && seconds is > 0 and <= 86_400 ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;

    private static bool IsShare(double value) => value is >= 0 and <= 1;
}
