using System.Text.RegularExpressions;
using O8Actors.Examples.ParallelLogins;
using O8Actors.TestKit.Sandbox;
using Spectre.Console;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary>The README's first command, <c>dotnet run --project examples/ParallelLogins</c>, run in-process with few logins.</summary>
public sealed class ParallelLoginsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_small_mixed_run_exits_0_with_every_login_accounted_for()
    {
        var (exit, text) = await RunAsync("--logins", "30", "--concurrency", "10", "--deny-share", "0.2", "--abandon-share", "0.1", "--fault-rate", "0.1", "--timeout", "1");

        Assert.True(exit == 0, text);
        Assert.Contains("All 30 logins accounted for; every one ended as its script chose.", text);
        Assert.Equal(18, Row(text, "succeeded"));
        Assert.Equal(6, Row(text, "denied"));
        Assert.Equal(3, Row(text, "timed out"));
        Assert.Equal(3, Row(text, "failed"));
        Assert.Equal(0, Row(text, "cancelled"));
        Assert.Equal(30, Row(text, "total"));
        Assert.Matches(@"logins per second\s*│\s*\d+(\.\d)?", text);
        Assert.Matches(@"p50 / p95 / p99 \(succeeded\)\s*│\s*\d+ ms / \d+ ms / \d+ ms", text);
        Assert.Contains("redirect URI:  https://localhost:", text);
        Assert.Matches("certificate:   (development CA|mkcert)", text);
        Assert.Contains("10 logins are open in scripted browsers at once", text);
        // Redirected, the progress bar's last line comes before the outcomes and agrees with them.
        var lastProgress = text[..text.IndexOf("Outcomes", StringComparison.Ordinal)].TrimEnd().Split('\n')[^1];
        Assert.Equal("succeeded 18  denied 6  timed out 3  failed 3  cancelled 0: all ended", lastProgress.Trim());
        // Redirected output stays plain text: no ANSI escape sequences.
        Assert.DoesNotContain("\u001b[", text);
    }

    [Fact]
    public async Task Plain_http_serves_the_callback_without_a_certificate()
    {
        var (exit, text) = await RunAsync("--logins", "8", "--concurrency", "4", "--http", "--deny-share", "0", "--abandon-share", "0", "--fault-rate", "0");

        Assert.True(exit == 0, text);
        Assert.Contains("redirect URI:  http://localhost:", text);
        Assert.Contains("certificate:   none (plain http)", text);
        Assert.Equal(8, Row(text, "succeeded"));
    }

    [Theory]
    [InlineData(new[] { "--deny-share", "0.8", "--abandon-share", "0.5" }, "add up to more than 1")]
    [InlineData(new[] { "--logins", "0" }, "--logins must be at least 1")]
    [InlineData(new[] { "--timeout", "-1" }, "--timeout must be a positive number of seconds")]
    [InlineData(new[] { "--timeout", "NaN" }, "--timeout must be a positive number of seconds")]
    [InlineData(new[] { "--timeout", "Infinity" }, "--timeout must be a positive number of seconds")]
    [InlineData(new[] { "--timeout", "1e15" }, "--timeout must be a positive number of seconds")]
    [InlineData(new[] { "--browser", "chrome" }, "chrome")]
    public async Task Bad_options_exit_non_zero_with_a_clear_error(string[] args, string message)
    {
        var (exit, text) = await RunAsync(args);

        Assert.NotEqual(0, exit);
        Assert.Contains(message, text);
        Assert.DoesNotContain("Outcomes", text);
    }

    [Fact]
    public void The_mix_deals_exact_counts_in_a_reproducible_order()
    {
        var settings = new DemoSettings(200, 50, 0.1, 0.05, 0.05, TimeSpan.FromSeconds(3), SystemBrowser: false, PlainHttp: false, Seed: 8);

        var first = LoginMix.Deal(settings);
        var again = LoginMix.Deal(settings);

        Assert.Equal(first, again);
        Assert.Equal(20, first.Count(s => s.Fate == LoginFate.Deny));
        Assert.Equal(10, first.Count(s => s.Fate == LoginFate.Abandon));
        Assert.Equal(10, first.Count(s => s.Fate == LoginFate.TokenFault));
        Assert.Equal(160, first.Count(s => s.Fate == LoginFate.Approve));
        Assert.False(first.Take(20).All(s => s.Fate == LoginFate.Deny), "the fates are shuffled, not dealt in blocks");
        Assert.Equal(3, first.Where(s => s.Fate == LoginFate.TokenFault).Select(s => s.Fault!.Kind).Distinct().Count());
        Assert.All(LoginMix.Deal(settings with { SystemBrowser = true }), s => Assert.Equal(LoginFate.Consent, s.Fate));
    }

    [Fact]
    public void A_login_that_did_not_end_as_scripted_makes_the_exit_code_non_zero()
    {
        var settings = new DemoSettings(2, 2, 0, 0, 0, TimeSpan.FromSeconds(3), SystemBrowser: false, PlainHttp: false, Seed: 8);
        var ok = new ScriptedLoginResult("a", LoginScript.Approve(), LoginOutcomeKind.Succeeded, new LoginSucceeded("f1", new TokenSet("at", "Bearer")), TimeSpan.FromMilliseconds(10));
        var wrong = new ScriptedLoginResult("b", LoginScript.Approve(), LoginOutcomeKind.Succeeded, new LoginDenied("f2", "access_denied", null), TimeSpan.FromMilliseconds(30));

        Assert.Equal(0, DemoReport.From(settings, [ok, ok with { Tag = "c" }], TimeSpan.FromSeconds(1)).ExitCode);
        Assert.Equal(1, DemoReport.From(settings, [ok, wrong], TimeSpan.FromSeconds(1)).ExitCode);
        Assert.Equal(1, DemoReport.From(settings, [ok], TimeSpan.FromSeconds(1)).ExitCode);
        var report = DemoReport.From(settings, [ok, wrong], TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(10), report.Latency(50));
        Assert.Equal(TimeSpan.FromMilliseconds(30), report.Latency(99));
        Assert.Equal(2.0, report.LoginsPerSecond);
    }

    /// <summary>
    /// In the system browser a timeout is a proper end (the human walked away), so a browser that refused the callback's
    /// certificate after every approval made a run that signed nobody in report success. A run whose every login timed
    /// out now fails, naming the certificate; one where somebody answered still passes.
    /// </summary>
    [Fact]
    public void In_the_system_browser_a_run_whose_every_login_timed_out_fails()
    {
        var settings = new DemoSettings(2, 2, 0, 0, 0, TimeSpan.FromSeconds(3), SystemBrowser: true, PlainHttp: false, Seed: 8);
        var timedOut = new ScriptedLoginResult("a", LoginScript.Consent, LoginOutcomeKind.TimedOut, new LoginTimedOut("f1", TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(3));
        var approved = new ScriptedLoginResult("b", LoginScript.Consent, LoginOutcomeKind.TimedOut, new LoginSucceeded("f2", new TokenSet("at", "Bearer")), TimeSpan.FromSeconds(1));

        var nobody = DemoReport.From(settings, [timedOut, timedOut with { Tag = "c" }], TimeSpan.FromSeconds(3));
        Assert.True(nobody.NoAnswerFromTheBrowser);
        Assert.Equal(1, nobody.ExitCode);
        Assert.Equal(0, DemoReport.From(settings, [timedOut, approved], TimeSpan.FromSeconds(3)).ExitCode);
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 400;
        nobody.Render(console);
        Assert.Contains("mkcert -install", writer.ToString());
    }

    private static async Task<(int Exit, string Text)> RunAsync(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 160;
        var exit = await ParallelLoginsCommand.InvokeAsync(args, console, writer).WaitAsync(Wait);
        return (exit, writer.ToString());
    }

    /// <summary>The count in the outcomes table's row for <paramref name="label"/>.</summary>
    private static int Row(string text, string label)
    {
        var match = Regex.Match(text, $@"│ {Regex.Escape(label)}\s*│\s*(\d+) │");
        Assert.True(match.Success, $"No '{label}' row in:\n{text}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
