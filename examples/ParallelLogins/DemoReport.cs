using O8Actors.TestKit;
using Spectre.Console;

namespace O8Actors.Examples.ParallelLogins;

/// <summary>The summary of a run: outcomes, throughput, latency percentiles, and whether every login went as scripted.</summary>
public sealed class DemoReport
{
    private static readonly LoginOutcomeKind[] Kinds =
        [LoginOutcomeKind.Succeeded, LoginOutcomeKind.Denied, LoginOutcomeKind.TimedOut, LoginOutcomeKind.Failed, LoginOutcomeKind.Cancelled];

    private DemoReport(DemoSettings settings, IReadOnlyList<ScriptedLoginResult> results, TimeSpan wall)
    {
        Settings = settings;
        Results = results;
        Wall = wall;
        Counts = Kinds.ToDictionary(k => k, k => results.Count(r => r.Outcome.Kind == k));
        Matching = results.Count(Matches);
    }

    /// <summary>The run's settings.</summary>
    public DemoSettings Settings { get; }

    /// <summary>One result per login that ended.</summary>
    public IReadOnlyList<ScriptedLoginResult> Results { get; }

    /// <summary>Wall-clock time of the whole run.</summary>
    public TimeSpan Wall { get; }

    /// <summary>Logins per outcome.</summary>
    public IReadOnlyDictionary<LoginOutcomeKind, int> Counts { get; }

    /// <summary>Logins that ended as their script chose.</summary>
    public int Matching { get; }

    /// <summary>Whether every login ended and each as scripted (in the system browser: not every one by its timeout).</summary>
    public bool AllAccountedFor => Results.Count == Settings.Logins && Matching == Settings.Logins && !NoAnswerFromTheBrowser;

    /// <summary>
    /// In the system browser, every login waited out its timeout: nobody approved or refused one. A human may walk away
    /// from each, but so does a browser that refuses the listener's certificate (mkcert's CA installed before the
    /// browser's own store existed, or a browser with a store of its own), on the callback page after every approval: a
    /// run that reported success then had signed nobody in.
    /// </summary>
    public bool NoAnswerFromTheBrowser =>
        Settings.SystemBrowser && Results.Count > 0 && Results.All(r => r.Outcome.Kind == LoginOutcomeKind.TimedOut);

    /// <summary>0 when every login is accounted for and matches its script, 1 otherwise.</summary>
    public int ExitCode => AllAccountedFor ? 0 : 1;

    /// <summary>Logins per second over the whole run.</summary>
    public double LoginsPerSecond => Wall > TimeSpan.Zero ? Results.Count / Wall.TotalSeconds : 0;

    /// <summary>Builds the report.</summary>
    public static DemoReport From(DemoSettings settings, IReadOnlyList<ScriptedLoginResult> results, TimeSpan wall) => new(settings, results, wall);

    /// <summary>The <paramref name="percentile"/>th latency (nearest rank) of <paramref name="kind"/> logins, or of all when <c>null</c>.</summary>
    public TimeSpan? Latency(double percentile, LoginOutcomeKind? kind = null)
    {
        var sorted = Results.Where(r => kind is null || r.Outcome.Kind == kind).Select(r => r.Elapsed).Order().ToArray();
        if (sorted.Length == 0) return null;
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Writes the summary tables and the verdict.</summary>
    public void Render(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var outcomes = new Table().Title("Outcomes").AddColumn("Outcome").AddColumn(new TableColumn("Logins").RightAligned()).AddColumn(new TableColumn("Share").RightAligned());
        foreach (var kind in Kinds)
        {
            outcomes.AddRow(Label(kind), Counts[kind].ToString(), $"{Share(Counts[kind]):P1}");
        }

        outcomes.AddRow("[bold]total[/]", $"[bold]{Results.Count}[/]", $"{Share(Results.Count):P0}");
        console.Write(outcomes);

        var timing = new Table().Title("Throughput and latency").AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        timing.AddRow("wall time", $"{Wall.TotalSeconds:F2} s");
        timing.AddRow("logins per second", $"{LoginsPerSecond:F1}");
        foreach (var (label, kind) in new (string, LoginOutcomeKind?)[] { ("succeeded", LoginOutcomeKind.Succeeded), ("all logins", null) })
        {
            timing.AddRow($"latency p50 / p95 / p99 ({label})", $"{Ms(Latency(50, kind))} / {Ms(Latency(95, kind))} / {Ms(Latency(99, kind))}");
        }

        console.Write(timing);
        var verdict = AllAccountedFor
            ? $"[green]All {Settings.Logins} logins accounted for; every one ended as its script chose.[/]"
            : NoAnswerFromTheBrowser
                ? "[red]Every login timed out: none was approved or refused in the browser. If you approved, the browser may have refused the " +
                  "callback page's certificate: run `mkcert -install` (after the browser has run once, so its certificate store exists), or add --http.[/]"
                : $"[red]{Results.Count} of {Settings.Logins} logins ended; {Matching} ended as scripted.[/]";
        console.MarkupLine(verdict);
        foreach (var miss in Results.Where(r => !Matches(r)).Take(5))
        {
            console.MarkupLineInterpolated($"  [red]{miss.Tag}[/]: expected {miss.Expected}, got {miss.Outcome.Kind} {Reason(miss.Outcome)}");
        }
    }

    private bool Matches(ScriptedLoginResult result) =>
        Settings.SystemBrowser
            // A human on the consent page may approve, refuse or walk away; each is a proper end.
            ? result.Outcome.Kind is LoginOutcomeKind.Succeeded or LoginOutcomeKind.Denied or LoginOutcomeKind.TimedOut
            : result.MatchesScript;

    private double Share(int count) => Settings.Logins == 0 ? 0 : (double)count / Settings.Logins;

    private static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:F0} ms" : "-";

    private static string Reason(LoginOutcome outcome) => outcome switch
    {
        LoginFailed f => f.Reason,
        LoginDenied d => d.Error,
        _ => "",
    };

    /// <summary>The outcome's name as the summary and the progress line show it.</summary>
    public static string Label(LoginOutcomeKind kind) => kind switch
    {
        LoginOutcomeKind.Succeeded => "[green]succeeded[/]",
        LoginOutcomeKind.Denied => "[yellow]denied[/]",
        LoginOutcomeKind.TimedOut => "[blue]timed out[/]",
        LoginOutcomeKind.Failed => "[red]failed[/]",
        _ => "[grey]cancelled[/]",
    };
}
