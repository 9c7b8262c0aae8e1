using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using O8Actors.Browser;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// Pending logins: starts logins whose browser never comes back, up to each checkpoint (1k, 10k, 100k...), and at each
/// checkpoint reports managed bytes and RSS per pending login, and the time to start one more login (call → authorize
/// URL handed to the browser) and to route one (callback sent → token delivered), median of a few probe logins.
/// </summary>
internal static class PendingRole
{
    private static readonly AuthorizationRequest Pending = new(Timeout: TimeSpan.FromHours(2),
        ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "pending" });

    public static async Task<int> RunAsync(Args args)
    {
        var checkpoints = args.Ints("checkpoints", [1000, 10_000, 100_000]);
        var probes = args.Int("probes", 41);
        var browser = new ProbeBrowser();
        await using var flows = await O8Role.StartAsync(args, null, browser, TimeSpan.FromHours(2), maxPending: checkpoints.Max() + 2 * probes + 100);
        var go = (await Wire.ExpectAsync("GO")).Split(' ');
        await O8Role.RegisterAsync(flows, go[0], go[1]);

        // Warm-up: a few complete logins, so the baseline already holds the JIT-compiled code and pools.
        for (var i = 0; i < 20; i++) await ProbeAsync(flows, browser);
        var managed0 = GC.GetTotalMemory(forceFullCollection: true);
        var rss0 = ProcessMeter.Rss();
        var running = new List<Task<LoginOutcome>>();
        var extra = new Dictionary<string, double>();
        var startClock = Stopwatch.StartNew();
        foreach (var target in checkpoints)
        {
            while (running.Count < target) running.Add(flows.RunAsync("sandbox", Pending));
            await browser.WaitForPendingAsync(target);
            var managed = GC.GetTotalMemory(forceFullCollection: true);
            var rss = ProcessMeter.Rss();
            var starts = new List<double>();
            var routes = new List<double>();
            for (var p = 0; p < probes; p++)
            {
                var (start, route) = await ProbeAsync(flows, browser);
                starts.Add(start);
                routes.Add(route);
            }

            extra[$"managed_per_pending_{target}"] = (double)(managed - managed0) / target;
            extra[$"rss_per_pending_{target}"] = (double)(rss - rss0) / target;
            extra[$"start_ms_{target}"] = Percentiles.Of(starts, 50);
            extra[$"route_ms_{target}"] = Percentiles.Of(routes, 50);
            extra[$"seconds_to_{target}"] = startClock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"pending {target}: {extra[$"managed_per_pending_{target}"]:F0} B managed, {extra[$"rss_per_pending_{target}"]:F0} B RSS per login; start {extra[$"start_ms_{target}"]:F2} ms, route {extra[$"route_ms_{target}"]:F2} ms");
        }

        var stillPending = running.Count(t => !t.IsCompleted);
        Wire.Send("RESULT", new RowResult(running.Count, running.Count - stillPending, startClock.Elapsed.TotalSeconds, 0,
            ProcessMeter.PeakRss(), 0, 0, Extra: extra).ToJson());
        Environment.Exit(0); // 100k logins need no orderly goodbye
        return 0;
    }

    /// <summary>One complete login next to the pending ones: (start ms, route ms).</summary>
    private static async Task<(double Start, double Route)> ProbeAsync(OAuthLogins flows, ProbeBrowser browser)
    {
        var probe = browser.NextProbe();
        var started = Stopwatch.GetTimestamp();
        var outcome = flows.RunAsync("sandbox", new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = probe.Tag }));
        var launched = await probe.Launched.Task;
        var callbackSent = await probe.CallbackSent.Task;
        var result = await outcome;
        var ended = Stopwatch.GetTimestamp();
        if (result is not LoginSucceeded) throw new InvalidOperationException($"A probe login ended {result.Kind}.");
        return (Stopwatch.GetElapsedTime(started, launched).TotalMilliseconds, Stopwatch.GetElapsedTime(callbackSent, ended).TotalMilliseconds);
    }

    /// <summary>Ignores pending logins (counts them); plays the user for probe logins, in this process.</summary>
    private sealed class ProbeBrowser : IBrowserLauncher
    {
        private readonly ConcurrentDictionary<string, Probe> _probes = new();
        private readonly HttpClient _authorize = new(new SocketsHttpHandler { AllowAutoRedirect = false });
        private int _pending;
        private int _next;

        public sealed record Probe(string Tag)
        {
            public TaskCompletionSource<long> Launched { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
            public TaskCompletionSource<long> CallbackSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public Probe NextProbe()
        {
            var probe = new Probe($"probe-{Interlocked.Increment(ref _next)}");
            _probes[probe.Tag] = probe;
            return probe;
        }

        public async Task WaitForPendingAsync(int count)
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (Volatile.Read(ref _pending) < count) await tick.WaitForNextTickAsync();
        }

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            var hint = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorizeUrl.Query)["login_hint"].ToString();
            if (!_probes.TryRemove(hint, out var probe))
            {
                Interlocked.Increment(ref _pending);
                return Task.FromResult(BrowserLaunchResult.Opened("pending"));
            }

            probe.Launched.TrySetResult(now);
            _ = Task.Run(() => VisitAsync(authorizeUrl, probe), CancellationToken.None);
            return Task.FromResult(BrowserLaunchResult.Opened("probe"));
        }

        private async Task VisitAsync(Uri authorizeUrl, Probe probe)
        {
            using var response = await _authorize.GetAsync(authorizeUrl);
            if (response.StatusCode != HttpStatusCode.Found) throw new InvalidOperationException("no redirect");
            using var landing = new HttpClient(new SocketsHttpHandler());
            using var request = new HttpRequestMessage(HttpMethod.Get, response.Headers.Location);
            request.Headers.ConnectionClose = true;
            probe.CallbackSent.TrySetResult(Stopwatch.GetTimestamp());
            using var page = await landing.SendAsync(request);
        }
    }
}
