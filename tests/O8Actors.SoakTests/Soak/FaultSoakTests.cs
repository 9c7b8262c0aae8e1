using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Actor;
using O8Actors.Diagnostics;
using O8Actors.SoakTests.Support;
using O8Actors.TestKit;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using Xunit.Abstractions;

namespace O8Actors.SoakTests.Soak;

/// <summary>
/// About 2,000 logins through the one HTTPS listener with approvals, denials, abandonments, caller cancellations and
/// every kind of token-endpoint fault, under stray and garbage callbacks at five times the login rate. Every login
/// must end exactly once, as its script implies, and nothing may be left behind.
/// </summary>
public sealed class FaultSoakTests(ITestOutputHelper output)
{
    private const int Logins = 2000;
    private const int Concurrency = 200;
    private const int StraysPerLogin = 5;
    // Generous for a loaded CI machine (200 exchanges at once through a cold connection pool); the delay fault is twice it.
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Two_thousand_faulty_logins_each_end_exactly_once_as_scripted_and_leave_nothing_behind()
    {
        using var inFlight = new InFlightGauge();
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.LoginTimeout = TimeSpan.FromSeconds(30);
            o.AbandonTimeout = TimeSpan.FromSeconds(1.5);
            o.ExchangeTimeout = ExchangeTimeout;
            o.BrowserConcurrency = Concurrency;
        });
        // Warm up (JIT, connection pools) with one login, so the soak measures the steady state.
        Assert.IsType<LoginSucceeded>((await o8.RunAsync(LoginScript.Approve("warm-up"))).Outcome);
        var logins = Enumerable.Range(0, Logins).Select(i => SoakLogin.For(i, ExchangeTimeout)).ToArray();
        using var keepAlive = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = { RemoteCertificateValidationCallback = CustomRootTrust.CreateCallback(o8.TrustedRoot!) },
        });
        var strays = new StrayTraffic(new RawHttp(o8.RedirectUri.Port, o8.TrustedRoot), keepAlive, o8.RedirectUri, o8.Browser);
        using var slots = new SemaphoreSlim(Concurrency, Concurrency);
        var clock = Stopwatch.StartNew();

        async Task<(SoakLogin Login, LoginOutcome Outcome)> RunAsync(SoakLogin login)
        {
            await slots.WaitAsync();
            try
            {
                using var cancel = new CancellationTokenSource();
                // The timer starts once the login has started: a caller cancels a login, not a call it never made.
                var run = o8.RunAsync(login.Script, login.CancelAfter is null ? null : TimeSpan.FromSeconds(30), cancel.Token);
                if (login.CancelAfter is { } after) cancel.CancelAfter(after);
                strays.Fire(login.Index, StraysPerLogin);
                return (login, (await run).Outcome);
            }
            finally
            {
                slots.Release();
            }
        }

        var results = await Task.WhenAll(logins.Select(RunAsync)).WaitAsync(TimeSpan.FromSeconds(100));
        await strays.DisposeAsync();
        clock.Stop();
        output.WriteLine($"{Logins} logins and {strays.Sent} strays in {clock.Elapsed.TotalSeconds:F1} s; sandbox: {o8.Sandbox.Counters}");

        // Every login ended as its script implies.
        var wrong = results.Where(r => r.Outcome.Kind != r.Login.Expected).ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} logins ended unexpectedly, e.g. " +
            string.Join("; ", wrong.Take(5).Select(w => $"#{w.Login.Index} {w.Login.Script.Fate} expected {w.Login.Expected}, got {w.Outcome.Kind} {Reason(w.Outcome)}")));
        Assert.Equal(Logins, results.Select(r => r.Outcome.LoginId).Distinct().Count());

        // Exactly one end per login, never two.
        await WaitUntilAsync(() => o8.Events.Ended.Count >= Logins + 1, "every login's end event");
        var ends = o8.Events.Ended.GroupBy(e => e.LoginId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Logins + 1, ends.Count);
        Assert.All(ends, e => Assert.Equal(1, e.Value));
        Assert.All(results, r => Assert.Equal(1, ends.GetValueOrDefault(r.Outcome.LoginId)));
        Assert.All(results, r => Assert.Equal(r.Outcome.Kind, o8.Events.Ended.Single(e => e.LoginId == r.Outcome.LoginId).Outcome));

        // The approvals got distinct, live tokens for their own user; the faults reached the token endpoint once each.
        var approvals = results.Where(r => r.Login.Script.Fate == LoginFate.Approve && r.Login.CancelAfter is null).ToArray();
        Assert.All(approvals, r => Assert.Equal(r.Login.Script.Subject, PendingLogin.SubjectOf(((LoginSucceeded)r.Outcome).Tokens.IdToken)));
        Assert.Equal(approvals.Length, approvals.Select(r => ((LoginSucceeded)r.Outcome).Tokens.AccessToken).Distinct().Count());
        var counters = o8.Sandbox.Counters;
        Assert.Equal(approvals.Length + 1, counters.TokensIssued);
        int Faulted(TokenFaultKind kind) => logins.Count(l => l.Script.Fault?.Kind == kind);
        foreach (var kind in Enum.GetValues<TokenFaultKind>()) Assert.Equal(Faulted(kind), counters.Faults(kind));
        Assert.Equal(approvals.Length + 1 + logins.Count(l => l.Script.Fate == LoginFate.TokenFault), counters.TokenRequests);

        // Strays: five per login, none answered 2xx or 5xx.
        Assert.Equal(Logins * StraysPerLogin, strays.Sent);
        Assert.True(strays.Unexpected.Count == 0, string.Join("\n", strays.Unexpected.Take(10)));

        // Nothing left behind: no login in flight, no FlowActor or reply relay alive, no state registered.
        var status = await o8.Logins.GetStatusAsync();
        Assert.Equal(0, status.LoginsInFlight);
        await WaitUntilAsync(() => inFlight.Value == 0, "the o8.logins.in_flight gauge back at zero");
        await AssertNoChildrenAsync(o8.System, $"{O8Actors.Runtime.O8Bootstrap.FlowsPath}/*");
        await AssertNoChildrenAsync(o8.System, $"{O8Actors.Runtime.O8Bootstrap.ListenerPath}/*");
        Assert.Equal(0, status.CallbacksAwaited);

        // And the listener still serves a fresh login.
        var fresh = await o8.RunAsync(LoginScript.Approve("after-the-soak"));
        Assert.IsType<LoginSucceeded>(fresh.Outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(100), $"the soak took {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static async Task AssertNoChildrenAsync(ActorSystem system, string path)
    {
        // Every actor a wildcard selection matches answers Identify; with none alive, nothing resolves.
        await Assert.ThrowsAsync<ActorNotFoundException>(() => system.ActorSelection(path).ResolveOne(TimeSpan.FromSeconds(2)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var limit = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!condition())
        {
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(15), $"timed out waiting for {what}");
            await tick.WaitForNextTickAsync();
        }
    }

    private static string Reason(LoginOutcome outcome) => outcome switch
    {
        LoginFailed f => $"{f.Failure}: {f.Reason}",
        LoginDenied d => d.Error,
        _ => "",
    };

    /// <summary>The running sum of the <c>o8.logins.in_flight</c> up-down counter, from the moment it is created.</summary>
    private sealed class InFlightGauge : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value;

        public InFlightGauge()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == O8Telemetry.MeterName && instrument.Name == "o8.logins.in_flight") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, delta, _, _) => Interlocked.Add(ref _value, delta));
            _listener.Start();
        }

        public long Value => Interlocked.Read(ref _value);

        public void Dispose() => _listener.Dispose();
    }
}
