using System.Diagnostics;
using O8Actors.TestKit.Sandbox;
using Xunit.Abstractions;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// 500 logins at once through the one listener, with a mix of fates: each must end in exactly the outcome its own
/// script chose, and the sandbox must have seen exactly the traffic those scripts imply.
/// </summary>
public sealed class ConcurrentScriptedLoginsTests(ITestOutputHelper output)
{
    private const int Logins = 500;

    [Fact]
    public async Task Five_hundred_concurrent_logins_each_end_as_their_script_chose()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.LoginTimeout = TimeSpan.FromSeconds(45);
            o.AbandonTimeout = TimeSpan.FromSeconds(2);
        });
        var scripts = Enumerable.Range(0, Logins).Select(Script).ToArray();
        var clock = Stopwatch.StartNew();

        var results = await o8.RunManyAsync(scripts, concurrency: Logins).WaitAsync(TimeSpan.FromSeconds(90));

        clock.Stop();
        output.WriteLine($"{Logins} logins in {clock.Elapsed.TotalSeconds:F1} s; sandbox: {o8.Sandbox.Counters}");
        Assert.Equal(Logins, results.Count);
        var mismatches = results.Where(r => !r.MatchesScript).ToArray();
        Assert.True(mismatches.Length == 0,
            $"{mismatches.Length} logins did not end as scripted, for example: {string.Join("; ", mismatches.Take(5).Select(m => $"{m} {Reason(m.Outcome)}"))}");
        for (var i = 0; i < Logins; i++) Assert.Same(scripts[i], results[i].Script);

        int Count(LoginFate fate) => scripts.Count(s => s.Fate == fate);
        var succeeded = results.Select(r => r.Outcome).OfType<LoginSucceeded>().ToArray();
        Assert.Equal(Count(LoginFate.Approve), succeeded.Length);
        Assert.Equal(succeeded.Length, succeeded.Select(s => s.Tokens.AccessToken).Distinct().Count());
        Assert.All(succeeded, s => Assert.True(o8.Sandbox.IsActive(s.Tokens.AccessToken)));
        Assert.Equal(Count(LoginFate.Deny), results.Count(r => r.Outcome is LoginDenied));
        Assert.Equal(Count(LoginFate.Abandon) + Count(LoginFate.NeverAnswer), results.Count(r => r.Outcome is LoginTimedOut));
        Assert.Equal(Count(LoginFate.TokenFault), results.Count(r => r.Outcome is LoginFailed));

        // The sandbox saw what the scripts imply, no more. An abandoned login gets a code that is never redeemed, unless
        // its short deadline passed before the browser reached the authorize page at all.
        var counters = o8.Sandbox.Counters;
        Assert.InRange(counters.CodesIssued, Count(LoginFate.Approve) + Count(LoginFate.TokenFault),
            Count(LoginFate.Approve) + Count(LoginFate.TokenFault) + Count(LoginFate.Abandon));
        Assert.Equal(Count(LoginFate.Approve), counters.TokensIssued);
        Assert.Equal(Count(LoginFate.Deny), counters.Denials);
        Assert.Equal(Count(LoginFate.TokenFault), counters.Faults(TokenFaultKind.ServerError));
        Assert.Equal(Count(LoginFate.Approve) + Count(LoginFate.TokenFault), counters.TokenRequests);
        Assert.Empty(counters.ErrorsByKind);

        // Every login's end was published exactly once.
        await Eventually.TrueAsync(() => o8.Events.Ended.Count == Logins, "every login's end event arrived");
        Assert.Equal(Logins, o8.Events.Ended.Select(e => e.LoginId).Distinct().Count());
    }

    /// <summary>A fixed, interleaved mix: half approve, a fifth deny, the rest abandon, hang or hit a token fault.</summary>
    private static LoginScript Script(int i) => (i % 20) switch
    {
        < 10 => LoginScript.Approve($"user-{i}"),
        < 14 => LoginScript.Deny(),
        < 16 => LoginScript.Abandon,
        < 17 => LoginScript.NeverAnswer,
        _ => LoginScript.TokenEndpointFault(TokenFault.ServerError(503)),
    };

    private static string Reason(LoginOutcome outcome) => outcome switch
    {
        LoginFailed f => f.Reason,
        LoginDenied d => d.Error,
        _ => "",
    };
}
