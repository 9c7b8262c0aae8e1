using System.Collections.Concurrent;
using Akka.Event;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Security;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Lifecycle;

/// <summary>A standalone instance logs where the app's logs go, at the app's levels, and writes nothing to stdout itself.</summary>
public sealed class StandaloneLogsTests
{
    [Fact]
    public async Task Akka_logs_go_to_the_given_logger_factory_and_none_to_stdout()
    {
        var sink = new ConcurrentQueue<string>();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new CapturedLogs.Provider(sink)));
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup => setup.LoggerFactory = factory);

        flows.System.Log.Warning("bridge probe {0}", 42);

        await Eventually.TrueAsync(() => sink.Any(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("bridge probe 42")),
            "the Akka warning reached the app's logger");
        Assert.Equal("OFF", flows.System.Settings.StdoutLogLevel);
        // The app logs Information and up: Akka filters Debug before formatting it.
        Assert.Equal("INFO", flows.System.Settings.LogLevel);
    }

    [Fact]
    public async Task Logging_configured_through_ConfigureServices_gets_the_Akka_logs_too()
    {
        var sink = new ConcurrentQueue<string>();
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup =>
            setup.ConfigureServices = services => services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new CapturedLogs.Provider(sink))));

        flows.System.Log.Warning("services probe");

        await Eventually.TrueAsync(() => sink.Any(l => l.Contains("services probe")), "the Akka warning reached the app's logger");
        Assert.Equal("WARNING", flows.System.Settings.LogLevel);
    }

    [Fact]
    public async Task A_start_refused_for_its_actor_system_name_disposes_the_apps_logger_providers()
    {
        var provider = new DisposeRecordingProvider();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => OAuthLogins.StartAsync(setup =>
        {
            setup.SystemName = "not valid";
            // Made by the container, so the container owns it (a console logger's processing thread, say).
            setup.ConfigureServices = services => services.AddLogging(b => b.Services.AddSingleton<ILoggerProvider>(_ => provider));
        }));

        Assert.True(provider.Disposed);
    }

    private sealed class DisposeRecordingProvider : ILoggerProvider
    {
        public bool Disposed { get; private set; }

        public ILogger CreateLogger(string categoryName) => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task Without_a_logger_factory_nothing_is_logged_anywhere()
    {
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser());

        Assert.Equal("OFF", flows.System.Settings.LogLevel);
        Assert.Equal("OFF", flows.System.Settings.StdoutLogLevel);
    }

    [Theory]
    [InlineData("O8Actors.Flows")]
    [InlineData("O8Actors.Callback.CallbackServerActor")]
    public void Debug_turned_on_for_one_namespace_of_O8Actors_is_not_dropped_by_Akka(string category)
    {
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddFilter(category, LogLevel.Debug)
            .AddProvider(new CapturedLogs.Provider(new ConcurrentQueue<string>())));

        Assert.Equal("DEBUG", O8Actors.Diagnostics.AkkaLogBridge.AkkaLevelFor(factory));
    }

    [Fact]
    public void Akka_logs_at_the_least_level_any_category_writes()
    {
        using var info = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new CapturedLogs.Provider(new ConcurrentQueue<string>())));
        using var warnings = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new CapturedLogs.Provider(new ConcurrentQueue<string>())));

        Assert.Equal("INFO", O8Actors.Diagnostics.AkkaLogBridge.AkkaLevelFor(info));
        Assert.Equal("WARNING", O8Actors.Diagnostics.AkkaLogBridge.AkkaLevelFor(warnings));
        Assert.Equal("OFF", O8Actors.Diagnostics.AkkaLogBridge.AkkaLevelFor(null));
    }

    [Fact]
    public async Task Stray_requests_log_at_Debug_never_at_Warning()
    {
        var sink = new ConcurrentQueue<string>();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new CapturedLogs.Provider(sink)));
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup => setup.LoggerFactory = factory);
        var redirect = await flows.GetRedirectUriAsync();
        using var http = new HttpClient();

        foreach (var stray in new[] { "?code=c", "?state=s", "", "favicon.ico", "?code=a&code=b&state=s" })
        {
            using var response = await http.GetAsync(new Uri(redirect, stray));
            Assert.False(response.IsSuccessStatusCode);
        }

        // Four are judged by the request handler; "?state=s" by the listener actor, the only one that knows whether a
        // sign-out waits for that state (a provider's return after a sign-out carries a state and nothing else).
        // Each was logged before its answer came back: once the lines logged so far are written, the count is final.
        await CapturedLogs.AllWrittenAsync(flows.System, sink);
        Assert.Equal(5, sink.Count(l => l.StartsWith("Debug", StringComparison.Ordinal) && l.Contains("Callback listener rejected")));
        Assert.DoesNotContain(sink, l => l.Contains("Callback listener rejected") && !l.StartsWith("Debug", StringComparison.Ordinal));
    }

    /// <summary>
    /// The listener's start line names its base as the callback base: an app that logs "Redirect URI (register it with
    /// your provider)" beside it must not seem to give two URIs to register (each provider's is a path under the base).
    /// </summary>
    [Fact]
    public async Task The_bound_listener_logs_its_base_as_the_callback_base_not_as_a_redirect_uri()
    {
        var sink = new ConcurrentQueue<string>();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new CapturedLogs.Provider(sink)));
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup => setup.LoggerFactory = factory);
        var callbackBase = await flows.GetRedirectUriAsync();

        await CapturedLogs.AllWrittenAsync(flows.System, sink);

        var bound = Assert.Single(sink, l => l.Contains("Callback listener bound", StringComparison.Ordinal));
        Assert.Contains($"callback base {callbackBase}", bound, StringComparison.Ordinal);
        Assert.Contains("each provider's redirect URI is a path under it", bound, StringComparison.Ordinal);
        Assert.DoesNotContain($"redirect URI {callbackBase}", bound, StringComparison.Ordinal);
    }
}
