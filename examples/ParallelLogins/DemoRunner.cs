using System.Diagnostics;
using O8Actors.Browser;
using O8Actors.TestKit;
using Spectre.Console;

namespace O8Actors.Examples.ParallelLogins;

/// <summary>
/// Starts the sandbox authorization server, the orchestrator (one loopback listener) and the browsers, runs the
/// logins with a live progress bar, and prints the summary.
/// </summary>
public static class DemoRunner
{
    /// <summary>Runs the demo; returns the process exit code (0 when every login ended as scripted).</summary>
    public static async Task<int> RunAsync(DemoSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions
        {
            ProviderName = "sandbox",
            Certificate = HarnessCertificateSource.PreferMkcert,
            PlainHttp = settings.PlainHttp,
            LoginTimeout = settings.SystemBrowser ? settings.Timeout : DemoSettings.ScriptedLoginTimeout,
            AbandonTimeout = settings.Timeout,
            BrowserConcurrency = Math.Clamp(settings.Concurrency, 1, 256),
            Browser = settings.SystemBrowser ? new SystemBrowserLauncher() : null,
        }, cancellationToken);

        Describe(o8, settings, console);
        if (settings.SystemBrowser && o8.UsesDevelopmentCa)
        {
            // Every login would wait out its timeout on a page the browser refuses, and a timeout is a proper end in this
            // mode: the run would report success having signed nobody in.
            console.MarkupLine("[red]Not started: your browser would refuse the callback page with this certificate. Add --http, or install mkcert and run `mkcert -install`.[/]");
            return 1;
        }

        var scripts = LoginMix.Deal(settings);
        var counts = new int[Enum.GetValues<LoginOutcomeKind>().Length];
        // The first wave of logins has opened its browsers: from then on they wait for the user (or their timeout).
        var wave = Math.Min(settings.Concurrency, settings.Logins);
        var launched = 0;
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var launches = o8.Logins.Events.Subscribe(new BrowserLaunches(() =>
        {
            if (Interlocked.Increment(ref launched) == wave) waiting.TrySetResult();
        }));
        IReadOnlyList<ScriptedLoginResult> results = [];
        var clock = Stopwatch.StartNew();
        try
        {
            await console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(ProgressLine(counts), maxValue: settings.Logins);
                    var run = o8.RunManyAsync(scripts, settings.Concurrency, result =>
                    {
                        Interlocked.Increment(ref counts[(int)result.Outcome.Kind]);
                        task.Description = ProgressLine(counts);
                        task.Increment(1);
                    }, cancellationToken);
                    if (await Task.WhenAny(waiting.Task, run) == waiting.Task)
                        console.WriteLine(settings.SystemBrowser
                            ? $"{wave} logins are waiting for you in your browser: decide each on its consent page (Ctrl+C to cancel)."
                            : $"{wave} logins are open in scripted browsers at once; the rest follow as they end (Ctrl+C to cancel).");
                    results = await run;
                });
            // Without a terminal the progress bar is printed only now and then, so its last line may be from before the
            // last logins ended: one line with the final counts, so the log above the table agrees with it.
            if (!console.Profile.Capabilities.Interactive) console.MarkupLine($"{ProgressLine(counts)}: all ended");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Logins still queued were never started; those in flight ended as Cancelled and are counted below.
        }

        if (cancellationToken.IsCancellationRequested)
        {
            var ended = counts.Sum();
            var cancelled = Volatile.Read(ref counts[(int)LoginOutcomeKind.Cancelled]);
            console.MarkupLineInterpolated(
                $"[red]Cancelled:[/] {cancelled} logins in flight ended as cancelled, {ended - cancelled} had ended before, {settings.Logins - ended} never started.");
            return 2;
        }

        clock.Stop();
        var report = DemoReport.From(settings, results, clock.Elapsed);
        report.Render(console);
        return report.ExitCode;
    }

    private static void Describe(O8TestHarness o8, DemoSettings settings, IAnsiConsole console)
    {
        console.MarkupLine("[bold]O8Actors ParallelLogins[/]: OAuth logins at once through one listener");
        console.MarkupLineInterpolated($"  redirect URI:  {o8.RedirectUri}");
        console.MarkupLineInterpolated($"  sandbox:       {o8.Sandbox.Issuer}");
        console.MarkupLineInterpolated($"  certificate:   {o8.CertificateDescription}");
        console.MarkupLineInterpolated($"  browser:       {(settings.SystemBrowser ? "system (decide on the consent page)" : "scripted")}");
        console.MarkupLineInterpolated($"  logins:        {settings.Logins}, at most {Math.Min(settings.Concurrency, settings.Logins)} at a time");
        if (settings.SystemBrowser)
            console.MarkupLine("  mix:           you decide each login on the consent page");
        else
            console.MarkupLineInterpolated($"  mix:           deny {settings.DenyShare:P0}, abandon {settings.AbandonShare:P0}, token faults {settings.FaultRate:P0}");
        console.MarkupLineInterpolated($"  timeout:       {settings.Timeout.TotalSeconds:0.##} s ({(settings.SystemBrowser ? "every login" : "abandoned logins")})");
        if (o8.UsesDevelopmentCa)
        {
            console.MarkupLineInterpolated($"[yellow]note:[/] {CertificateNotice.DevelopmentCa}");
        }
    }

    /// <summary>Calls back once per login whose browser was launched.</summary>
    private sealed class BrowserLaunches(Action onLaunched) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is BrowserLaunchedEvent) onLaunched();
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }

    private static string ProgressLine(int[] counts) =>
        $"{DemoReport.Label(LoginOutcomeKind.Succeeded)} {Volatile.Read(ref counts[(int)LoginOutcomeKind.Succeeded])}  " +
        $"{DemoReport.Label(LoginOutcomeKind.Denied)} {Volatile.Read(ref counts[(int)LoginOutcomeKind.Denied])}  " +
        $"{DemoReport.Label(LoginOutcomeKind.TimedOut)} {Volatile.Read(ref counts[(int)LoginOutcomeKind.TimedOut])}  " +
        $"{DemoReport.Label(LoginOutcomeKind.Failed)} {Volatile.Read(ref counts[(int)LoginOutcomeKind.Failed])}  " +
        $"{DemoReport.Label(LoginOutcomeKind.Cancelled)} {Volatile.Read(ref counts[(int)LoginOutcomeKind.Cancelled])}";
}
