using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Benchmarks.Driver;

/// <summary>
/// Runs every row: the sandbox authorization server and the scripted browser live here, in the driver; each measured
/// side (O8Actors, the bare Kestrel ceiling, OidcClient) runs in a child process of its own, which reports its own CPU
/// time (process CPU delta over the measured phase) and peak RSS.
/// </summary>
internal sealed partial class BenchDriver(string certificates, X509Certificate2 root) : IAsyncDisposable
{
    private ScriptedBrowser? _browser;
    private SandboxAuthorizationServer? _server;
    private int _clients;

    private SandboxAuthorizationServer Sandbox => _server ?? throw new InvalidOperationException("StartAsync first.");

    public async Task StartAsync()
    {
        _server = await SandboxAuthorizationServer.StartAsync(BenchSandbox.Options());
        _browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = root, MaxConcurrency = 1024 });
    }

    /// <summary>An O8Actors row: one child process with one listener, N logins at <paramref name="concurrency"/>.</summary>
    public Task<Row> O8Async(string name, string scheme, string cert, int n, int concurrency) =>
        LoginRowAsync("o8", name, scheme, cert, n, concurrency);

    /// <summary>
    /// The lean login's row: bare Kestrel plus one hand-written token request per login, in a child process, against this
    /// driver's browser and sandbox as the O8Actors row (a public client with PKCE, as that row's).
    /// </summary>
    public Task<Row> LeanAsync(string name, string scheme, string cert, int n, int concurrency) =>
        LoginRowAsync("lean", name, scheme, cert, n, concurrency);

    /// <summary>
    /// A row whose child (<paramref name="role"/>) registers its redirect URI (READY), gets the sandbox's issuer and its
    /// client id (GO) and hands each authorize URL to this driver's browser (URL).
    /// </summary>
    private async Task<Row> LoginRowAsync(string role, string name, string scheme, string cert, int n, int concurrency)
    {
        Child? child = null;
        child = Child.Start(role, ["--scheme", scheme, "--cert", cert, "--certs", certificates, "--n", $"{n}", "--concurrency", $"{concurrency}"],
            LoginChildLines(role, () => child!, other: null));
        await using (child)
        {
            return new Row(role, name, concurrency, n, RowResult.FromJson(await child.Report), child.DriverCpuMs);
        }
    }

    /// <summary>
    /// The driver's side of a login-making child's lines: READY registers a public client with the redirect URI it names
    /// and answers GO with the sandbox's issuer and the client id; URL goes to the browser; anything else to <paramref name="other"/>.
    /// </summary>
    private Func<string, string, Task> LoginChildLines(string role, Func<Child> child, Func<string, string, Task>? other)
    {
        var clientId = $"{role}-{Interlocked.Increment(ref _clients)}";
        return async (verb, payload) =>
        {
            if (verb == "READY")
            {
                Sandbox.RegisterClient(clientId, null, [payload], ClientAuthMethod.None);
                await child().SendAsync($"GO {Sandbox.IssuerString} {clientId}");
            }
            else if (verb == "URL")
            {
                await _browser!.LaunchAsync(new Uri(payload), CancellationToken.None);
            }
            else if (other is not null)
            {
                await other(verb, payload);
            }
        };
    }

    /// <summary>An OidcClient row: one loopback listener per login, on a random port, in a child process.</summary>
    public async Task<Row> OidcClientAsync(string name, string variant, int n, int concurrency)
    {
        Child? child = null;
        child = Child.Start("oidc", ["--variant", variant, "--n", $"{n}", "--concurrency", $"{concurrency}"],
            async (verb, payload) =>
            {
                if (verb == "READY")
                {
                    await child!.SendAsync($"GO {Sandbox.IssuerString}");
                }
                else if (verb == "URL")
                {
                    // Each login has its own client id and loopback port: register it as it comes (RFC 8252 §7.3).
                    var url = new Uri(payload);
                    var query = QueryHelpers.ParseQuery(url.Query);
                    Sandbox.RegisterClient(query["client_id"].ToString(), null, [query["redirect_uri"].ToString()], ClientAuthMethod.None);
                    await _browser!.LaunchAsync(url, CancellationToken.None);
                }
            });
        await using (child)
        {
            return new Row("oidc", name, concurrency, n, RowResult.FromJson(await child.Report), child.DriverCpuMs);
        }
    }

    /// <summary>The ceiling: bare Kestrel in a child process; the requests come from here, each on a new connection.</summary>
    public async Task<Row> CeilingAsync(string name, string scheme, string cert, int n, int concurrency)
    {
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var marked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var jitState = new TaskCompletionSource<Profiling.JitState>(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = Child.Start("ceiling", ["--scheme", scheme, "--cert", cert, "--certs", certificates], (verb, payload) =>
        {
            if (verb == "READY") ready.TrySetResult(payload);
            if (verb == "MARKED") marked.TrySetResult();
            if (verb == "JITSTATE") jitState.TrySetResult(Profiling.JitState.FromWire(payload));
            return Task.CompletedTask;
        });
        await using (child)
        {
            var url = new Uri((await ready.Task).Replace("http://", $"{scheme}://", StringComparison.Ordinal));
            // The same rule as the measured roles apply to themselves: warm until the child's JIT has settled.
            var (warmed, warmFailed, settled) = await Warmup.UntilQuietAsync(concurrency, _ => LandAsync(url), async () =>
            {
                jitState = new TaskCompletionSource<Profiling.JitState>(TaskCreationOptions.RunContinuationsAsynchronously);
                await child.SendAsync("JIT");
                return await jitState.Task;
            });
            var (result, driverCpuMs) = await MeasureCeilingAsync(child, () => marked.Task, () => child.Report, url, n, concurrency);
            var extra = new Dictionary<string, double>(result.Extra ?? []) { ["warmup"] = warmed, ["warmup_settled"] = settled ? 1 : 0, ["warmup_failed"] = warmFailed };
            return new Row("ceiling", name, concurrency, n, result with { Extra = extra }, driverCpuMs);
        }
    }

    /// <summary>
    /// One measured phase of a ceiling child: MARK (and its answer), <paramref name="n"/> requests from here, DONE; the
    /// child's CPU (its <paramref name="result"/> line) with this driver's timings, and this driver's CPU over the phase.
    /// </summary>
    private async Task<(RowResult Result, double DriverCpuMs)> MeasureCeilingAsync(Child child, Func<Task> marked, Func<Task<string>> result,
        Uri url, int n, int concurrency)
    {
        await child.SendAsync("MARK");
        await marked();
        var driverCpu = ProcessMeter.Cpu();
        var (latencies, failed, firstFailure, wall) = await LoadLoop.RunAsync(n, concurrency, _ => LandAsync(url));
        var driverCpuMs = (ProcessMeter.Cpu() - driverCpu).TotalMilliseconds;
        await child.SendAsync("DONE");
        var server = RowResult.FromJson(await result());
        return (server with
        {
            Completed = latencies.Count,
            Failed = failed,
            FirstFailure = firstFailure,
            WallSeconds = wall.TotalSeconds,
            P50Ms = Percentiles.Of(latencies, 50),
            P99Ms = Percentiles.Of(latencies, 99),
        }, driverCpuMs);
    }

    /// <summary>Pending logins in one child process, measured at each checkpoint.</summary>
    public async Task<Row> PendingAsync(int[] checkpoints)
    {
        var clientId = $"o8-pending-{Interlocked.Increment(ref _clients)}";
        Child? child = null;
        child = Child.Start("pending", ["--scheme", "http", "--checkpoints", string.Join(',', checkpoints)], async (verb, payload) =>
        {
            if (verb == "READY")
            {
                Sandbox.RegisterClient(clientId, null, [payload], ClientAuthMethod.None);
                await child!.SendAsync($"GO {Sandbox.IssuerString} {clientId}");
            }
        });
        await using (child)
        {
            return new Row("pending", "O8Actors pending logins (http)", 0, checkpoints.Max(), RowResult.FromJson(await child.Report));
        }
    }

    /// <summary>
    /// As the scripted browser lands on a callback: a new handler, so a new TCP and TLS connection, per request, and the
    /// same certificate check (the platform's verdict first; the mkcert root only where the platform does not trust it).
    /// </summary>
    /// <remarks>
    /// Until 2026-12-03 14:40 UTC this used <see cref="CustomRootTrust.CreateCallback"/>, a second chain build per
    /// request that the browser skips on a machine where <c>mkcert -install</c> has run (every CI and bench machine):
    /// the ceiling's requests cost the driver 0.1-0.3 ms more than an O8Actors login's landing, which lowered the ceiling.
    /// </remarks>
    private async Task LandAsync(Uri url)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = CustomRootTrust.CreateBrowserCallback(root);
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.ConnectionClose = true;
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}
