using O8Actors.Benchmarks;
using O8Actors.Benchmarks.Driver;
using O8Actors.Benchmarks.Report;
using O8Actors.Benchmarks.Roles;

// O8Actors benchmark harness. Without --role it is the driver: it runs every row and writes the table (stdout and
// docs/benchmarks.md) and the chart (docs/benchmarks.png). With --role it is one measured side, started by the driver.
var cli = new Args(args);
switch (cli.Get("role", "driver"))
{
    case "o8": return await O8Role.RunAsync(cli);
    case "ceiling": return await CeilingRole.RunAsync(cli);
    case "lean": return await LeanRole.RunAsync(cli);
    case "oidc": return await OidcClientRole.RunAsync(cli);
    case "pending": return await PendingRole.RunAsync(cli);
    case "authserver": return await O8Actors.Benchmarks.Independent.AuthServerRole.RunAsync(cli);
    case "app": return await O8Actors.Benchmarks.Independent.AppRole.RunAsync(cli);
    case "browser": return await O8Actors.Benchmarks.Independent.PipeBrowserRole.RunAsync(cli);
    case "driver": break;
    default: Console.Error.WriteLine($"Unknown role '{cli.Get("role", "")}'."); return 2;
}

// Single-thread costs of one part of a login (Micro/).
if (cli.Get("micro", "") == "id-token") return await O8Actors.Benchmarks.Micro.IdTokenCheckCost.RunAsync(cli);

// Cluster rows: everything in this one process, no child processes (Cluster/ClusterBench.cs).
if (cli.Has("cluster")) return await O8Actors.Benchmarks.Cluster.ClusterBench.RunAsync(cli, cli.Get("out", Path.Combine(RepositoryRoot(), "docs")));

// The independent setting (issue 15): server, app and browser each in its own process (Independent/IndependentBench.cs).
if (cli.Get("setting", "harness") == "independent")
    return await O8Actors.Benchmarks.Independent.IndependentBench.RunAsync(cli, cli.Get("out", Path.Combine(RepositoryRoot(), "docs")));

if (cli.Has("help"))
{
    Console.WriteLine("""
        dotnet run -c Release --project tests/O8Actors.Benchmarks -- [options]
          --quick                   a smoke run of a few minutes: N=200, concurrency 16,64, pending 1k,5k, warm-up capped at 2,000
          --n 2000                  logins (or requests) per row
          --repeat 1                rounds (every row once per round, each O8Actors row beside its ceiling and the lean
                                    login, the group's order reversed every other round); each row's median run by
                                    logins/s is reported with the range, and the targets compare rows within each round
          --concurrency 1,16,64,256 concurrency levels
          --rows o8,ceiling,lean,oidc,pending   which kinds of row to run (o8-http: only O8Actors' http row; lean: the lean
                                    login, bare Kestrel plus a hand-written token request, beside each ceiling)
          --pending 1000,10000,100000      pending-login checkpoints
          --out docs                where benchmarks.md and benchmarks.png go (repository docs/ by default)
          --max-warmup 300          caps every process's warm-up (smoke runs only: the JIT has not settled yet)
          --interleave 9 [--n 2000 --concurrency 256 --schemes https-rsa,https-ecdsa,http]
                                    per scheme, O8Actors, its ceiling, the login ceiling (the browser's whole login
                                    against bare Kestrel, the independent setting's ceiling) and the lean login in warm
                                    processes side by side, measured in alternating blocks of N logins (9 cycles:
                                    O8Actors, ceiling, login ceiling, lean, then ceiling, login ceiling, lean, O8Actors,
                                    ...); writes interleaved.md to --out. --lean-oidc adds the lean login's OpenID
                                    Connect variant (a nonce, the ID token checked by hand)
          --micro id-token [--n 20000 --repeat 4]
                                    one ID token's check on one thread: O8Actors' validator, the lean login's check by
                                    hand, the bare P-256 verify
          --cluster [--n 1000 --concurrency 32 --warmup 300 --latency-n 200]
                                    only the cluster rows: three nodes against one, in this process
          --setting independent [--warmup 10000 --n 4000 --concurrency 256 --sides o8,oidc --label text --server-warmup 10000]
                                    (sides: o8, o8-https-rsa, o8-https-ecdsa, oidc, ceiling-http, ceiling-https-rsa,
                                    ceiling-https-ecdsa, lean-http, lean-https-rsa, lean-https-ecdsa)
                                    the independent setting (issue 15): authorization server, app and browser
                                    each in its own process, the app's stdout piped into the browser
          --app-env NAME=VALUE,...  (independent setting) environment of the measured app alone: runtime settings
                                    (DOTNET_TieredPGO=0), or O8_BENCH_HOCON=<hocon>, the O8Actors app's own Akka
                                    settings: one setting, no commas (Akka's own scheduler instead of O8Actors':
                                    akka.scheduler.implementation=Akka.Actor.HashedWheelTimerScheduler)
          --setting independent --interleave 8 [--warmup 10000 --n 2000 --concurrency 256 --schemes https-rsa,https-ecdsa,http]
                                    the independent setting's O8Actors app, ceiling and lean login per scheme as three
                                    pipelines, each warmed in turn, then measured in alternating blocks of N logins;
                                    writes interleaved-independent.md to --out
        """);
    return 0;
}

var quick = cli.Has("quick");
var n = cli.Int("n", quick ? 200 : 2000);
var levels = cli.Ints("concurrency", quick ? [16, 64] : [1, 16, 64, 256]);
var kinds = cli.Get("rows", "o8,ceiling,lean,oidc,pending").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
var pending = cli.Ints("pending", quick ? [1000, 5000] : [1000, 10_000, 100_000]);
var repeat = cli.Int("repeat", 1);
var schemeTable = SchemesOf();
var outDir = cli.Get("out", Path.Combine(RepositoryRoot(), "docs"));
// A cap on every process's warm-up, for smoke runs only; the children inherit it through the environment.
// --quick is a smoke run: its warm-up stops at 2,000 logins per process, settled or not (the Warm-up column says which).
if (cli.Has("max-warmup") || quick) Environment.SetEnvironmentVariable(Warmup.CapVariable, cli.Get("max-warmup", quick ? "2000" : ""));

var (certs, root) = await MkcertFiles.CreateAsync();
await using var driver = new BenchDriver(certs, root);
await driver.StartAsync();
var rows = new List<Row>();
var clock = System.Diagnostics.Stopwatch.StartNew();

// The rows run in rounds (every row once per round, --repeat rounds), and each row keeps its median run by logins/s
// with the range shown: on a 2-CPU machine shared by the driver and the measured process single runs move by ±15% or
// more, and the machine drifts over minutes, so a row compared with another (O8Actors with its ceiling, with the best
// peer) is compared within the same round, run minutes apart rather than a whole row's repeats apart.
var groups = new List<List<Func<Task<Row>>>>();

// The driver (browser + authorization server) shares the CPUs with every measured process: bring its own code to
// tier 1 first, so its JIT does not slow the first rows.
await driver.O8Async("driver warm-up", "http", "rsa", Math.Min(n, 2000), Math.Min(64, levels.Max()));
if (cli.Has("interleave")) return await InterleavedAsync();
foreach (var c in levels)
{
    // Each O8Actors row beside the ceiling and the lean login with its certificate, so the ratios the target names
    // compare runs a minute apart rather than several: the machine drifts by 10-25% over minutes (the ceilings' ranges).
    var o8 = kinds.Contains("o8");
    var ceiling = kinds.Contains("ceiling");
    foreach (var (_, scheme, cert, label) in schemeTable)
    {
        var concurrency = c;
        var plain = label.Replace("mkcert ", "", StringComparison.Ordinal);
        var group = new List<Func<Task<Row>>>();
        if (o8 || (scheme == "http" && kinds.Contains("o8-http")))
            group.Add(() => driver.O8Async($"O8Actors {label}", scheme, cert, n, concurrency));
        if (ceiling)
            group.Add(() => driver.CeilingAsync($"Bare Kestrel {plain}", scheme, cert, n, concurrency));
        if (kinds.Contains("lean"))
            group.Add(() => driver.LeanAsync($"Lean login {plain}", scheme, cert, n, concurrency));
        groups.Add(group);
    }

    if (kinds.Contains("oidc"))
    {
        groups.Add([() => driver.OidcClientAsync("OidcClient 7.1.1 + HttpListener (http)", "httplistener", n, c)]);
        groups.Add([() => driver.OidcClientAsync("OidcClient 7.1.1 + Kestrel per login (http)", "kestrel", n, c)]);
    }
}

var planned = groups.SelectMany(g => g).ToList();
Console.WriteLine(Table.Header);
var runsOf = planned.Select(_ => new List<Row>()).ToArray();
for (var round = 0; round < repeat; round++)
{
    if (repeat > 1) Console.WriteLine($"round {round + 1} of {repeat}");
    // Every other round runs each group the other way round, so no row of a group always comes first or last.
    foreach (var i in RoundOrder(groups.Select(g => g.Count).ToList(), reverseGroups: round % 2 == 1))
    {
        var run = await planned[i]();
        runsOf[i].Add(run);
        Console.WriteLine(Table.Line(run));
    }
}

// In the planned order, each row its median run by logins/s with every run (in round order) beside it.
foreach (var runs in runsOf)
    rows.Add(runs.Count == 1 ? runs[0] : runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2) with { Runs = runs });
if (repeat > 1)
{
    Console.WriteLine("medians:");
    foreach (var row in rows) Console.WriteLine(Table.Line(row));
}

if (kinds.Contains("pending"))
{
    var pendingRow = await driver.PendingAsync(pending);
    rows.Add(pendingRow);
    Console.WriteLine(Table.Line(pendingRow));
}

Console.WriteLine($"\n{rows.Count} rows in {clock.Elapsed.TotalMinutes:F1} min");
Directory.CreateDirectory(outDir);
var markdown = Path.Combine(outDir, "benchmarks.md");
await MarkdownReport.WriteAsync(markdown, rows, n, levels, quick, repeat);
Chart.Write(Path.Combine(outDir, "benchmarks.png"), rows, levels);
Console.WriteLine($"Wrote {markdown} and benchmarks.png");
Directory.Delete(certs, recursive: true);
// Failures of our own rows, their warm-ups' included, fail the run; the peers' port races are reported in the table.
return rows.Any(r => r.Kind != "oidc" && (r.FailedInAllRuns > 0 || r.Result.Extra?.GetValueOrDefault("warmup_failed") > 0)) ? 1 : 0;

// The interleaved mode: per certificate, O8Actors, its ceilings and the lean login in warm processes side by side,
// measured in alternating blocks (BenchDriver.Interleaved.cs); writes interleaved.md beside the report.
async Task<int> InterleavedAsync()
{
    var cycles = cli.Int("interleave", 9);
    var schemes = cli.Get("schemes", "https-rsa,https-ecdsa,http").Split(',', StringSplitOptions.RemoveEmptyEntries);
    var report = new System.Text.StringBuilder();
    report.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
        $"Interleaved run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: `--interleave {cycles} --n {n} --concurrency {levels.Max()} --schemes {string.Join(',', schemes)}{(cli.Has("lean-oidc") ? " --lean-oidc" : "")}{(cli.Has("max-warmup") ? $" --max-warmup {cli.Get("max-warmup", "")}" : "")}`; {Environment.ProcessorCount} logical CPUs.");
    report.AppendLine();
    var failures = 0;
    foreach (var scheme in schemes)
    {
        var (_, wire, cert, label) = schemeTable.FirstOrDefault(s => s.Key == scheme) is { Key: not null } known
            ? known
            : throw new ArgumentException($"Unknown scheme '{scheme}' ({string.Join(", ", schemeTable.Select(s => s.Key))}).");
        var run = await driver.InterleavedAsync(label, wire, cert, n, cycles, levels.Max(), leanOidc: cli.Has("lean-oidc"));
        // The warm-ups' failures too: every side here is O8Actors, a ceiling or the lean login, none a peer.
        failures += run.Blocks.Sum(b => b.Measured.Failed) + run.Warmups.Values.Sum(w => w.Failed);
        var section = O8Actors.Benchmarks.Report.InterleavedReport.Markdown(run);
        Console.WriteLine(section);
        report.AppendLine(section);
    }

    Directory.CreateDirectory(outDir);
    await File.WriteAllTextAsync(Path.Combine(outDir, "interleaved.md"), report.ToString());
    Console.WriteLine($"Wrote {Path.Combine(outDir, "interleaved.md")} ({failures} failures).");
    return failures == 0 ? 0 : 1;
}

// Each scheme a row group runs over: its --schemes key, the listener's scheme, the certificate and the rows' label.
static (string Key, string Scheme, string Cert, string Label)[] SchemesOf() =>
[
    ("https-rsa", "https", "rsa", "https (mkcert RSA-2048)"),
    ("https-ecdsa", "https", "ecdsa", "https (mkcert ECDSA P-256)"),
    ("http", "http", "rsa", "http"),
];

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "O8Actors.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

// The indices into the planned rows for one round: group after group, each group in its order or reversed.
static IEnumerable<int> RoundOrder(IReadOnlyList<int> groupSizes, bool reverseGroups)
{
    var start = 0;
    foreach (var size in groupSizes)
    {
        var indices = Enumerable.Range(start, size);
        foreach (var i in reverseGroups ? indices.Reverse() : indices) yield return i;
        start += size;
    }
}
