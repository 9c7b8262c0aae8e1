using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// O8Actors in a Generic Host with Akka.Hosting: settings and providers come from IConfiguration only, logins run
/// against the sandbox through the real loopback listener, driven by the scripted browser.
/// </summary>
/// <remarks>
/// The host is built here exactly as an application builds it; <see cref="HostingTestKitTests"/> covers the same
/// wiring through Akka.Hosting.TestKit.
/// </remarks>
public sealed class HostedFlowsTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan ConfiguredTimeout = TimeSpan.FromSeconds(3);
    // Logins that must succeed get their own, so a loaded machine cannot turn them into the configured short timeout's.
    private static readonly TimeSpan Ample = TimeSpan.FromSeconds(30);
    private readonly string _clientId = "hosted-" + Guid.NewGuid().ToString("N");
    private readonly ScriptedBrowser _browser = new();

    private SandboxAuthorizationServer Sandbox => sandbox.Server;

    private IOAuthLogins Logins => Host.Services.GetRequiredService<IOAuthLogins>();

    private IHost Host { get; set; } = null!;

    private ActorRegistry ActorRegistry => Host.Services.GetRequiredService<ActorRegistry>();

    public async ValueTask InitializeAsync()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Login:Timeout"] = "00:00:03";
        settings["O8:Login:ExchangeTimeout"] = "00:00:10";
        foreach (var (key, value) in sandbox.ProviderSettings("sandbox", _clientId)) settings[key] = value;
        Host = HostedO8.Build(settings, o => o.Browser = _ => _browser);
        await Host.StartAsync();
        var redirect = await Logins.GetRedirectUriAsync("sandbox", TestContext.Current.CancellationToken);
        Sandbox.RegisterClient(_clientId, null, [redirect.ToString()], ClientAuthMethod.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task A_device_login_with_a_configured_device_endpoint_runs_through_the_hosted_front_and_BeginAsync_refuses_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var device = SandboxFixture.Hint("dora") with { Method = LoginMethod.Device };

        var outcome = await Logins.RunAsync("sandbox", device, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.True(Sandbox.IsActive(succeeded.Tokens.AccessToken));
        Assert.Equal("dora", SandboxFixture.Subject(succeeded.Tokens.IdToken!));
        var connector = Host.Services.GetRequiredService<IOAuthConnector>();
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => connector.BeginAsync("sandbox", device, ct));
        Assert.Contains("RunAsync", refused.Message);
    }

    [Fact]
    public async Task Settings_and_providers_from_configuration_take_effect()
    {
        var options = Host.Services.GetRequiredService<IOptions<O8Options>>().Value;
        Assert.Equal(ConfiguredTimeout, options.Login.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Login.ExchangeTimeout);

        var redirect = await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken);
        Assert.Equal("http", redirect.Scheme);
        Assert.NotEqual(41539, redirect.Port); // port 0 from configuration, not the HOCON default

        // The provider exists only in configuration; a login through it gets real sandbox tokens.
        var tokens = await Logins.AuthorizeAsync("sandbox", SandboxFixture.Hint("alice", Ample), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.True(Sandbox.IsActive(tokens.AccessToken));
        Assert.Equal("alice", SandboxFixture.Subject(tokens.IdToken!));
    }

    [Fact]
    public async Task Flow_timeout_from_configuration_applies_to_logins()
    {
        var outcome = await Logins.RunAsync("sandbox", SandboxFixture.Hint("hang-timeout"), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var timedOut = Assert.IsType<LoginTimedOut>(outcome);
        Assert.Equal(ConfiguredTimeout, timedOut.Timeout);
    }

    [Fact]
    public async Task Required_actors_resolve_from_the_registry()
    {
        var listener = await Host.Services.GetRequiredService<IRequiredActor<CallbackServerKey>>().GetAsync(TestContext.Current.CancellationToken);
        var status = await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(status.Bound);
        Assert.Equal(await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken), status.RedirectUri);

        var flows = await Host.Services.GetRequiredService<IRequiredActor<FlowsSupervisorKey>>().GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, (await flows.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Count);
        Assert.Same(ActorRegistry.Get<ProviderRegistryKey>(),
            await Host.Services.GetRequiredService<IRequiredActor<ProviderRegistryKey>>().GetAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Health_check_reports_the_listener_and_the_logins_in_flight()
    {
        var health = Host.Services.GetRequiredService<HealthCheckService>();
        var idle = (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Entries["o8actors"];
        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.Equal(true, idle.Data["listener_bound"]);
        // The check reports what the injected IOAuthLogins tells anyone who asks.
        var status = await Logins.GetStatusAsync(TestContext.Current.CancellationToken);
        Assert.True(status.ListenerBound);
        Assert.Equal(status.RedirectUri?.ToString(), idle.Data["redirect_uri"]);
        Assert.Equal(await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken), status.RedirectUri);

        using var cancel = new CancellationTokenSource();
        var pending = Logins.RunAsync("sandbox", SandboxFixture.Hint("hang-health", TimeSpan.FromSeconds(60)), cancel.Token);
        await Eventually.AssertAsync(async () =>
            Assert.Equal(1, (await health.CheckHealthAsync()).Entries["o8actors"].Data["logins_in_flight"]),
            TimeSpan.FromSeconds(10));

        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await pending.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Metrics_and_traces_are_recorded_for_success_denial_timeout_and_failure()
    {
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "O8Actors") listener.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            measurements.Enqueue((instrument.Name, value, new Dictionary<string, object?>(tags.ToArray())));
        meters.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meters.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meters.Start();

        var activities = new ConcurrentQueue<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "O8Actors",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(traces);

        var outcomes = await Task.WhenAll(
            Logins.RunAsync("sandbox", SandboxFixture.Hint("metrics-alice", Ample), TestContext.Current.CancellationToken),
            Logins.RunAsync("sandbox", SandboxFixture.Hint("deny-metrics", Ample), TestContext.Current.CancellationToken),
            Logins.RunAsync("sandbox", SandboxFixture.Hint("hang-metrics", TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken)).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.IsType<LoginSucceeded>(outcomes[0]);
        Assert.IsType<LoginDenied>(outcomes[1]);
        Assert.IsType<LoginTimedOut>(outcomes[2]);
        // A failed login: counted with its reason.
        var unknown = await Logins.RunAsync("no-such-provider", null, TestContext.Current.CancellationToken);
        Assert.Equal(LoginFailure.UnknownProvider, Assert.IsType<LoginFailed>(unknown).Failure);

        // A stray callback is refused and counted by reason, touching no login.
        using (var http = new HttpClient())
        {
            var redirect = await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken);
            var refused = await http.GetAsync(new Uri(redirect, "?state=unknown&code=x"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        await Eventually.AssertAsync(() =>
        {
            var snapshot = measurements.ToArray();
            foreach (var outcome in new[] { "succeeded", "denied", "timed_out" })
                Assert.Contains(snapshot, m => m.Instrument == "o8.logins.ended" && Equals(m.Tags.GetValueOrDefault("outcome"), outcome));
            Assert.Contains(snapshot, m => m.Instrument == "o8.logins.ended" && Equals(m.Tags.GetValueOrDefault("outcome"), "failed")
                && Equals(m.Tags.GetValueOrDefault("reason"), "unknown_provider"));
            Assert.DoesNotContain(snapshot, m => m.Instrument == "o8.logins.ended" && Equals(m.Tags.GetValueOrDefault("outcome"), "succeeded")
                && m.Tags.ContainsKey("reason"));
            Assert.True(snapshot.Count(m => m.Instrument == "o8.logins.started") >= 3);
            Assert.Contains(snapshot, m => m.Instrument == "o8.token_exchange.duration" && Equals(m.Tags.GetValueOrDefault("result"), "ok") && m.Value > 0);
            Assert.Contains(snapshot, m => m.Instrument == "o8.callback.duration");
            Assert.Contains(snapshot, m => m.Instrument == "o8.callbacks.rejected" && Equals(m.Tags.GetValueOrDefault("reason"), "unknown_state"));

            // One trace per login, tagged with its id and outcome.
            var expected = new[] { (outcomes[0].LoginId, "succeeded"), (outcomes[1].LoginId, "denied"), (outcomes[2].LoginId, "timed_out") };
            foreach (var (flowId, outcome) in expected)
            {
                var trace = Assert.Single(activities, a => Equals(a.GetTagItem("o8.login_id"), flowId));
                Assert.Equal("o8.login", trace.OperationName);
                Assert.Equal(outcome, trace.GetTagItem("o8.outcome"));
                Assert.Equal("sandbox", trace.GetTagItem("o8.provider"));
            }
        }, TimeSpan.FromSeconds(10));
    }
}
