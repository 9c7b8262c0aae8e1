using System.Diagnostics;
using System.Globalization;
using O8Actors.Benchmarks.Driver;
using O8Actors.Benchmarks.Profiling;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The independent setting (issue 15), <c>--setting independent</c>: the authorization server, each measured app and
/// the browser are separate processes. The app's stdout is piped straight into the browser process
/// (<c>app | browser</c>, through <c>/bin/sh</c>); this driver only starts them and collects the results.
/// </summary>
internal static class IndependentBench
{
    private static readonly string[] KnownSides =
        ["o8", "o8-https-rsa", "o8-https-ecdsa", "ceiling-http", "ceiling-https-rsa", "ceiling-https-ecdsa",
            "lean-http", "lean-https-rsa", "lean-https-ecdsa", "oidc"];

    public static async Task<int> RunAsync(Args cli, string outDir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Console.Error.WriteLine("The independent setting pipes processes through /bin/sh: Linux or macOS only.");
            return 2;
        }

        if (cli.Has("interleave")) return await IndependentInterleaved.RunAsync(cli, outDir);
        var settings = new IndependentSettings(
            cli.Int("warmup", 10_000), cli.Int("n", 4000), cli.Int("concurrency", 256),
            cli.Get("sides", "o8,oidc").Split(',', StringSplitOptions.RemoveEmptyEntries), cli.Get("label", ""), cli.Has("profile"), Math.Max(1, cli.Int("repeat", 1)),
            AppEnvironment(cli.Get("app-env", "")), cli.Has("alloc-sites"));
        var unknown = settings.Sides.Except(KnownSides).ToArray();
        // Checked before any process starts, so a typo leaves nothing running.
        if (unknown.Length > 0) throw new ArgumentException($"Unknown side(s) {string.Join(", ", unknown)}: {string.Join(", ", KnownSides)}.");
        var o8Port = O8Actors.TestSupport.FreePorts.Next();
        // One redirect URI per scheme: the https sides use the same port, one side after the other.
        var o8Redirect = $"http://localhost:{o8Port}/sandbox,https://localhost:{o8Port}/sandbox";
        var https = settings.Sides.Any(s => s.Contains("-https", StringComparison.Ordinal));
        var (certs, root) = https ? await MkcertFiles.CreateAsync() : (null, null);
        if (certs is not null) await File.WriteAllTextAsync(Path.Combine(certs, "root.pem"), root!.ExportCertificatePem());
        var server = await IndependentServer.StartAsync(o8Redirect.Split(','));
        var rows = new List<IndependentRow>();
        await using (server)
        {
            var issuerString = await server.IssuerAsync();
            Console.WriteLine(IndependentReport.Header);
            // Rounds, not one side three times in a row: a machine that drifts (another tenant, thermal) then moves every
            // side alike instead of one.
            var runs = settings.Sides.ToDictionary(s => s, _ => new List<IndependentRow>());
            // The server stands for a running identity provider, warm before any app starts: its JIT is brought to
            // steady state by logins no side counts (the lean login's, the least work for the app), so the first side
            // measured neither shares the CPUs with the server's own tier-up nor is charged its CPU.
            var serverWarmup = cli.Int("server-warmup", 10_000);
            if (serverWarmup > 0)
            {
                var warming = await RunSideAsync("lean-http", issuerString, o8Port, certs, settings with { Warmup = serverWarmup, N = 1000 }, null);
                Console.WriteLine($"server warm-up: {serverWarmup + 1000:N0} logins, {warming.Result.Failed} failed (not reported)");
            }

            for (var round = 0; round < settings.Repeat; round++)
            {
                foreach (var side in settings.Sides)
                {
                    var before = await server.CpuAsync();
                    var trace = settings.AllocationSites ? Path.Combine(outDir, $"alloc-{side}-{round + 1}.nettrace") : null;
                    var row = await RunSideAsync(side, issuerString, o8Port, certs, settings, trace);
                    row = row with { ServerCpuMsPerLogin = (await server.CpuAsync() - before) / Math.Max(1, settings.Warmup + settings.N) };
                    runs[side].Add(row);
                    Console.WriteLine(IndependentReport.Line(row));
                    if (trace is not null) await ReportAllocationSitesAsync(trace, settings.Warmup + settings.N);
                }
            }

            // The median run by logins/s stands for the side; the table shows the range over the runs beside it.
            foreach (var side in settings.Sides)
            {
                var sorted = runs[side].OrderBy(r => r.PerSecond).ToList();
                rows.Add(sorted[sorted.Count / 2] with { Runs = sorted });
            }
        }

        if (certs is not null) Directory.Delete(certs, recursive: true);
        var markdown = Path.Combine(outDir, "benchmarks.md");
        await IndependentReport.WriteAsync(markdown, rows, settings);
        Console.WriteLine($"Wrote the independent section of {markdown}");
        return rows.Any(r => r.Side != "oidc" && r.Result.Failed > 0) ? 1 : 0;
    }

    /// <summary>Runs <c>app | browser</c> for one side and waits for both to end.</summary>
    internal static async Task<IndependentRow> RunSideAsync(string side, string issuer, int o8Port, string? certs, IndependentSettings settings,
        string? allocationTrace)
    {
        var resultFile = Path.Combine(Path.GetTempPath(), $"o8-independent-{Environment.ProcessId}-{side}.json");
        var start = Pipeline(side, issuer, o8Port, certs, settings, allocationTrace, ["--n", $"{settings.N}", "--result", resultFile]);
        using var pipeline = Process.Start(start) ?? throw new InvalidOperationException("Could not start /bin/sh.");
        var summary = await BrowserOutputAsync(pipeline.StandardOutput);
        await pipeline.WaitForExitAsync();
        if (!File.Exists(resultFile)) throw new InvalidOperationException($"The {side} app ended without a result (exit {pipeline.ExitCode}).");
        var result = RowResult.FromJson(await File.ReadAllTextAsync(resultFile));
        File.Delete(resultFile);
        var (browserCpu, pairs, browserFailed) = BrowserSummary(summary);
        return new IndependentRow(side, SideName(side), settings.Concurrency, settings.N, result, browserCpu / Math.Max(1, pairs + browserFailed), browserFailed);
    }

    /// <summary>
    /// <c>/bin/sh -c "app | browser"</c> for one side, stdout redirected (the browser's summary line comes out there);
    /// <paramref name="appArguments"/> are added to the app's (its measured phase: <c>--n</c> and <c>--result</c>, or <c>--blocks</c>).
    /// </summary>
    internal static ProcessStartInfo Pipeline(string side, string issuer, int o8Port, string? certs, IndependentSettings settings,
        string? allocationTrace, IEnumerable<string> appArguments)
    {
        string[] app = [.. Self(), "--role", "app", "--side", side, "--issuer", issuer, "--port", $"{o8Port}",
            "--warmup", $"{settings.Warmup}", "--concurrency", $"{settings.Concurrency}", .. appArguments];
        var cert = side.EndsWith("ecdsa", StringComparison.Ordinal) ? "ecdsa" : "rsa";
        string[] tls = certs is null ? [] : ["--certs", certs, "--cert", cert];
        app = [.. app, .. tls, .. settings.Profile ? ["--profile"] : Array.Empty<string>()];
        string[] browser = [.. Self(), "--role", "browser", .. certs is null ? Array.Empty<string>() : ["--root", Path.Combine(certs, "root.pem")]];
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.Environment["DOTNET_gcServer"] = "0";
        // --app-env: runtime settings of the measured app alone (the browser and the server keep the defaults).
        var environment = allocationTrace is null ? settings.AppEnvironment : [.. settings.AppEnvironment, .. AllocationSites.Environment(allocationTrace)];
        var appEnvironment = string.Concat(environment.Select(e => $"{e.Name}={Quote([e.Value])} "));
        start.ArgumentList.Add($"{appEnvironment}{Quote(app)} | {Quote(browser)}");
        return start;
    }

    /// <summary>
    /// Reads a pipeline's stdout (the browser's) to its end: returns the browser's summary line, passes any other line on
    /// to stderr.
    /// </summary>
    internal static async Task<string?> BrowserOutputAsync(StreamReader stdout)
    {
        string? summary = null;
        string? line;
        while ((line = await stdout.ReadLineAsync()) is not null)
        {
            if (line.StartsWith("BROWSER ", StringComparison.Ordinal)) summary = line;
            else if (line.Length > 0) Console.Error.WriteLine($"  [browser] {line}");
        }
        return summary;
    }

    /// <summary>The browser's summary line (<c>BROWSER cpuMs pairs failed firstFailure</c>): its CPU, navigations done and failed.</summary>
    internal static (double CpuMs, int Pairs, int Failed) BrowserSummary(string? line)
    {
        var parts = (line ?? "BROWSER NaN 0 0").Split(' ', 5);
        return (double.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture),
            int.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>A side's name in the tables.</summary>
    internal static string SideName(string side) => side switch
    {
        "o8" => "O8Actors http (GenericOAuthStrategy, one listener)",
        "o8-https-rsa" => "O8Actors https (mkcert RSA-2048, GenericOAuthStrategy)",
        "o8-https-ecdsa" => "O8Actors https (mkcert ECDSA P-256, GenericOAuthStrategy)",
        "ceiling-http" => "Ceiling: bare Kestrel http (callback only, no token request)",
        "ceiling-https-rsa" => "Ceiling: bare Kestrel https (mkcert RSA-2048, callback only)",
        "ceiling-https-ecdsa" => "Ceiling: bare Kestrel https (mkcert ECDSA P-256, callback only)",
        "lean-http" => "Lean: bare Kestrel http + hand-written token request",
        "lean-https-rsa" => "Lean: bare Kestrel https (mkcert RSA-2048) + hand-written token request",
        "lean-https-ecdsa" => "Lean: bare Kestrel https (mkcert ECDSA P-256) + hand-written token request",
        _ => "OidcClient 7.1.1 defaults + HttpListener per login (http)",
    };

    /// <summary>
    /// <c>--alloc-sites</c>: the traced side's allocations by O8Actors method, beside its trace (<c>.txt</c>) and on
    /// stderr; the trace itself is deleted once read (hundreds of MB over a long warm-up).
    /// </summary>
    private static async Task ReportAllocationSitesAsync(string trace, int logins)
    {
        if (!File.Exists(trace))
        {
            Console.Error.WriteLine($"[alloc-sites] the app wrote no trace at {trace}");
            return;
        }

        var report = AllocationSites.Report(trace, logins);
        File.Delete(trace);
        await File.WriteAllTextAsync(Path.ChangeExtension(trace, ".txt"), report);
        Console.Error.WriteLine($"[alloc-sites] {Path.GetFileNameWithoutExtension(trace)}");
        Console.Error.Write(report);
    }

    /// <summary>This program as a command: the apphost, or <c>dotnet</c> and the assembly.</summary>
    private static string[] Self()
    {
        var self = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? [self, typeof(IndependentBench).Assembly.Location]
            : [self];
    }

    /// <summary>
    /// <c>--app-env NAME=VALUE,NAME=VALUE</c>: environment variables for the app's process alone (runtime settings such
    /// as <c>DOTNET_TieredPGO=0</c>, which an app sets for itself); names are checked, values are quoted for the shell.
    /// </summary>
    internal static IReadOnlyList<(string Name, string Value)> AppEnvironment(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pair =>
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            var name = at > 0 ? pair[..at] : throw new ArgumentException($"--app-env takes NAME=VALUE pairs, not '{pair}'.");
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(name[0]))
                throw new ArgumentException($"'{name}' cannot name an environment variable.");
            return (name, pair[(at + 1)..]);
        }).ToList();

    /// <summary>POSIX shell quoting: each word in single quotes.</summary>
    private static string Quote(IEnumerable<string> words) =>
        string.Join(' ', words.Select(w => "'" + w.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
}

/// <summary>The flags of one independent run; <paramref name="AppEnvironment"/> is set for the measured app's process only.</summary>
/// <paramref name="AllocationSites"/> traces each side's app for <see cref="Profiling.AllocationSites"/> (its rows are then no measurement of speed).
internal sealed record IndependentSettings(int Warmup, int N, int Concurrency, string[] Sides, string Label, bool Profile, int Repeat,
    IReadOnlyList<(string Name, string Value)> AppEnvironment, bool AllocationSites)
{
    /// <summary>The <c>--app-env</c> arguments that set <see cref="AppEnvironment"/>, for a report's command line.</summary>
    public string AppEnvironmentArguments => string.Concat(AppEnvironment.Select(e => $" --app-env {e.Name}={e.Value}"));
}

/// <summary>One side's line: the app's own report, and the browser's and the server's CPU per login (warm-up included).</summary>
internal sealed record IndependentRow(string Side, string Name, int Concurrency, int N, RowResult Result, double BrowserCpuMsPerLogin, int BrowserFailed)
{
    /// <summary>The authorization server's CPU over the side's whole run (warm-up included), per login.</summary>
    public double ServerCpuMsPerLogin { get; init; } = double.NaN;

    /// <summary>Every run of this side, when it ran more than once (this row is their median by logins/s).</summary>
    public IReadOnlyList<IndependentRow> Runs { get; init; } = [];

    /// <summary>CPU of the JIT's tier-up thread during the measured phase, per login (0 once the warm-up has settled it).</summary>
    public double JitCpuMsPerLogin => Result.Extra?.GetValueOrDefault("jit_cpu_ms_measured") is { } ms && Result.Completed > 0 ? ms / Result.Completed : double.NaN;

    /// <summary>Bytes the app allocated per login in the measured phase.</summary>
    public double AllocatedKbPerLogin => (Result.Extra?.GetValueOrDefault("alloc_bytes_per_login") ?? double.NaN) / 1024;

    public double PerSecond => Result.WallSeconds > 0 ? Result.Completed / Result.WallSeconds : 0;

    public double CpuMsPerLogin => Result.Completed > 0 ? Result.CpuMs / Result.Completed : double.NaN;
}
