using System.CommandLine;
using Spectre.Console;

namespace O8Actors.Examples.ParallelLogins;

/// <summary>The command line of the demo (System.CommandLine); the test suite calls <see cref="InvokeAsync"/> directly.</summary>
public static class ParallelLoginsCommand
{
    /// <summary>Parses <paramref name="args"/>, runs the demo and returns the exit code.</summary>
    /// <param name="args">Command-line arguments; none runs 200 scripted logins, 50 at a time.</param>
    /// <param name="console">Where to write; the process console by default.</param>
    /// <param name="output">Where help and parse errors go; the process's standard output/error by default.</param>
    public static Task<int> InvokeAsync(string[] args, IAnsiConsole? console = null, TextWriter? output = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var logins = new Option<int?>("--logins", "-n") { Description = "How many logins to run [default: 200; 3 with --browser system]" };
        var concurrency = new Option<int?>("--concurrency", "-c") { Description = "Logins in flight at once [default: 50; 3 with --browser system]" };
        var denyShare = new Option<double>("--deny-share") { Description = "Share of logins the user refuses (0..1)", DefaultValueFactory = _ => 0.10 };
        var abandonShare = new Option<double>("--abandon-share") { Description = "Share of logins whose tab is closed before the redirect; they end by timeout (0..1)", DefaultValueFactory = _ => 0.05 };
        var faultRate = new Option<double>("--fault-rate") { Description = "Share of logins whose token request fails: 503, malformed JSON or a dropped connection (0..1)", DefaultValueFactory = _ => 0.05 };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds an abandoned login waits before it times out [default: 3; with --browser system every login, default 120]" };
        var browser = new Option<string>("--browser") { Description = "scripted: a scripted user; system: real browser tabs on the sandbox's consent page", DefaultValueFactory = _ => "scripted" };
        browser.AcceptOnlyFromAmong("scripted", "system");
        var http = new Option<bool>("--http") { Description = "Serve the callback on plain http://localhost instead of HTTPS" };
        var seed = new Option<int>("--seed") { Description = "Seed of the order in which fates are dealt", DefaultValueFactory = _ => 8 };

        var root = new RootCommand(
            "Runs many OAuth 2.0 authorization-code logins at once through one loopback listener, against an embedded sandbox " +
            "authorization server, and reports how each ended. Exits 0 when every login ended as scripted.")
        {
            logins, concurrency, denyShare, abandonShare, faultRate, timeout, browser, http, seed,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            var system = parse.GetValue(browser) == "system";
            var settings = new DemoSettings(
                Logins: parse.GetValue(logins) ?? (system ? 3 : 200),
                Concurrency: parse.GetValue(concurrency) ?? (system ? 3 : 50),
                DenyShare: parse.GetValue(denyShare),
                AbandonShare: parse.GetValue(abandonShare),
                FaultRate: parse.GetValue(faultRate),
                Timeout: DemoSettings.TimeoutOf(parse.GetValue(timeout) ?? (system ? 120 : 3)),
                SystemBrowser: system,
                PlainHttp: parse.GetValue(http),
                Seed: parse.GetValue(seed));
            var ansi = console ?? AnsiConsole.Console;
            if (settings.Problem() is { } problem)
            {
                ansi.MarkupLineInterpolated($"[red]{problem}[/]");
                return 1;
            }

            return await DemoRunner.RunAsync(settings, ansi, cancellationToken);
        });

        // Ctrl+C and SIGTERM cancel the token the action gets: logins in flight end as Cancelled and the summary says so.
        // The timeout bounds how long that may take before the process is ended anyway.
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) };
        if (output is not null)
        {
            configuration.Output = output;
            configuration.Error = output;
        }

        return root.Parse(args).InvokeAsync(configuration);
    }
}
