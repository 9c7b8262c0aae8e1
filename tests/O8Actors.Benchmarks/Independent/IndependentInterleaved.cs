using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using O8Actors.Benchmarks.Driver;
using O8Actors.Benchmarks.Profiling;
using O8Actors.Benchmarks.Report;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The independent setting measured interleaved (<c>--setting independent --interleave K</c>): per scheme, the O8Actors
/// app, the ceiling and the lean login each run as their own <c>app | browser</c> pipeline against the one authorization
/// server, all started and warmed one after the other (the setting's <c>--warmup</c>, 10,000 logins by default), then
/// measured in alternating blocks of <c>--n</c> logins, as the harness's <c>--interleave</c> does, so a machine that
/// drifts over minutes moves the three alike. Writes <c>interleaved-independent.md</c> to <c>--out</c>.
/// </summary>
/// <remarks>
/// The setting's ceiling hands out real authorize URLs and the browser makes the whole login: it is the harness's
/// "login ceiling", and is reported under that name. The blocks run after the warm-up, so each side's later blocks run
/// more settled code than its first (at 10,000 logins the JIT has not settled; see docs/benchmarks.md).
/// </remarks>
internal static class IndependentInterleaved
{
    public static async Task<int> RunAsync(Args cli, string outDir)
    {
        var cycles = cli.Int("interleave", 8);
        // The app's environment (--app-env) as the one-shot mode takes it: dropped here, a run asked for with it measured the defaults.
        var settings = new IndependentSettings(cli.Int("warmup", 10_000), cli.Int("n", 2000), cli.Int("concurrency", 256), [], "", false, 1,
            IndependentBench.AppEnvironment(cli.Get("app-env", "")), false);
        var schemes = cli.Get("schemes", "https-rsa,https-ecdsa,http").Split(',', StringSplitOptions.RemoveEmptyEntries);
        // A port per kind of side: the three pipelines of a scheme run at once, and the server knows each redirect URI.
        var ports = new Dictionary<string, int> { ["o8"] = FreePort(), ["ceiling-login"] = FreePort(), ["lean"] = FreePort() };
        var redirects = ports.Values.SelectMany(p => new[] { $"http://localhost:{p}/sandbox", $"https://localhost:{p}/sandbox" });
        var (certs, root) = await MkcertFiles.CreateAsync();
        await File.WriteAllTextAsync(Path.Combine(certs, "root.pem"), root.ExportCertificatePem());
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"Independent setting, interleaved, run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: `--setting independent --interleave {cycles} --warmup {settings.Warmup} --n {settings.N} --concurrency {settings.Concurrency} --schemes {string.Join(',', schemes)}{settings.AppEnvironmentArguments}`; {Environment.ProcessorCount} logical CPUs.");
        report.AppendLine();
        var failures = 0;
        try
        {
            await using var server = await IndependentServer.StartAsync(redirects);
            var issuer = await server.IssuerAsync();
            // As the rounds do: the server is warm before any side, by logins no side counts.
            var serverWarmup = cli.Int("server-warmup", 10_000);
            if (serverWarmup > 0) await IndependentBench.RunSideAsync("lean-http", issuer, ports["lean"], certs, settings with { Warmup = serverWarmup, N = 1000 }, null);

            foreach (var scheme in schemes)
            {
                var suffix = scheme == "http" ? "http" : scheme;
                (string Key, string Side)[] sides = [("o8", scheme == "http" ? "o8" : $"o8-{scheme}"), ("ceiling-login", $"ceiling-{suffix}"), ("lean", $"lean-{suffix}")];
                var run = await RunSchemeAsync(Label(scheme), sides, issuer, ports, certs, settings, cycles, server);
                failures += run.Run.Blocks.Sum(b => b.Measured.Failed);
                report.Append(InterleavedReport.Markdown(run.Run));
                report.AppendLine(run.Readings);
                report.AppendLine();
                Console.WriteLine(InterleavedReport.Markdown(run.Run));
            }
        }
        finally
        {
            Directory.Delete(certs, recursive: true);
        }

        Directory.CreateDirectory(outDir);
        var file = Path.Combine(outDir, "interleaved-independent.md");
        await File.WriteAllTextAsync(file, report.ToString());
        Console.WriteLine($"Wrote {file} ({failures} failures).");
        return failures > 0 ? 1 : 0;
    }

    private static async Task<(InterleavedRun Run, string Readings)> RunSchemeAsync(string label, (string Key, string Side)[] sides, string issuer,
        IReadOnlyDictionary<string, int> ports, string certs, IndependentSettings settings, int cycles, IndependentServer server)
    {
        var pipelines = new List<(string Key, AppPipeline Pipeline)>();
        try
        {
            // One side warms at a time, so no warm-up shares the CPUs with another.
            var warmFailures = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (key, side) in sides)
            {
                var pipeline = AppPipeline.Start(IndependentBench.Pipeline(side, issuer, ports[key], certs, settings, null, ["--blocks"]));
                pipelines.Add((key, pipeline));
                var warmFailed = int.Parse(await pipeline.NextAsync("WARMED"), CultureInfo.InvariantCulture);
                if (warmFailed > 0) Console.Error.WriteLine($"  {side}: {warmFailed} warm-up logins failed");
                warmFailures[key] = warmFailed;
            }

            var blocks = new List<Block>();
            // Whether the CPUs stood idle during a side's blocks: none idle means its logins/s is set by what a login
            // costs over all three processes (app, browser, server), not by a wait in any of them.
            var machine = pipelines.ToDictionary(p => p.Key, _ => default(MachineCpu), StringComparer.Ordinal);
            for (var cycle = 0; cycle < cycles; cycle++)
            {
                for (var k = 0; k < pipelines.Count; k++)
                {
                    var (key, pipeline) = pipelines[(cycle + k) % pipelines.Count];
                    var serverCpu = await server.CpuAsync();
                    var machineBefore = MachineCpu.Now();
                    await pipeline.SendAsync($"BLOCK {settings.N}");
                    var result = RowResult.FromJson(await pipeline.NextAsync("BLOCKDONE"));
                    var machineOver = MachineCpu.Now() - machineBefore;
                    machine[key] += machineOver;
                    var block = new Block(key, cycle, result, await server.CpuAsync() - serverCpu);
                    blocks.Add(block);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  cycle {cycle + 1}/{cycles} {key}: {block.PerSecond:F0}/s, {result.CpuMs / Math.Max(1, result.Completed):F2} ms CPU per login, {result.Failed} failed, CPUs idle {machineOver.IdleShare * 100:F0}%"));
                }
            }

            var browser = new List<string>();
            foreach (var (key, pipeline) in pipelines)
            {
                var (cpuMs, pairs, failed) = IndependentBench.BrowserSummary(await pipeline.EndAsync());
                await pipeline.DisposeAsync();
                browser.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {cpuMs / Math.Max(1, pairs + failed):F2} ms ({failed} failed)"));
            }
            pipelines.Clear(); // ended and disposed: nothing left for the finally block
            var warmups = sides.ToDictionary(s => s.Key, s => (settings.Warmup, false, warmFailures[s.Key]));
            var idle = string.Join(", ", machine.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value.IdleShare * 100:F0}%")));
            return (new InterleavedRun(label, settings.Concurrency, settings.N, cycles, warmups, blocks, Independent: true),
                $"- The browser's CPU per login over each pipeline's whole run (warm-up and blocks): {string.Join(", ", browser)}.\n" +
                $"- The machine's CPUs idle during each side's blocks (all processes, `/proc/stat`): {idle}.");
        }
        finally
        {
            foreach (var (_, pipeline) in pipelines) await pipeline.DisposeAsync();
        }
    }

    private static string Label(string scheme) => scheme switch
    {
        "https-rsa" => "https (mkcert RSA-2048), independent setting",
        "https-ecdsa" => "https (mkcert ECDSA P-256), independent setting",
        _ => "http, independent setting",
    };

    private static int FreePort() => O8Actors.TestSupport.FreePorts.Next();

    /// <summary>
    /// One side's <c>app | browser</c> pipeline kept running: block commands go to the app's stdin, its answers come on
    /// stderr (stdout is the browser's pipe), the browser's summary on stdout once the app's input closes.
    /// </summary>
    private sealed class AppPipeline : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly Task<string?> _summary;

        private AppPipeline(Process process)
        {
            _process = process;
            _ = Task.Run(async () =>
            {
                string? line;
                while ((line = await process.StandardError.ReadLineAsync()) is not null)
                {
                    if (line.StartsWith("WARMED ", StringComparison.Ordinal) || line.StartsWith("BLOCKDONE ", StringComparison.Ordinal)) await _lines.Writer.WriteAsync(line);
                    else if (line.Length > 0) Console.Error.WriteLine($"  [app] {line}");
                }
                _lines.Writer.TryComplete();
            });
            _summary = Task.Run(() => IndependentBench.BrowserOutputAsync(process.StandardOutput));
        }

        public static AppPipeline Start(ProcessStartInfo start)
        {
            start.RedirectStandardInput = true;
            start.RedirectStandardError = true;
            return new AppPipeline(Process.Start(start) ?? throw new InvalidOperationException("Could not start /bin/sh."));
        }

        public async Task SendAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }

        /// <summary>The payload of the app's next <paramref name="verb"/> line (the warm-up may take minutes).</summary>
        public async Task<string> NextAsync(string verb)
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(15));
                if (line.StartsWith(verb + " ", StringComparison.Ordinal)) return line[(verb.Length + 1)..];
            }
        }

        /// <summary>Closes the app's input (it ends, and so does the browser) and returns the browser's summary line.</summary>
        public async Task<string?> EndAsync()
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            return await _summary;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
