using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Server mode serves the callback in the app's own pipeline, whose request log (Microsoft.AspNetCore.Hosting.Diagnostics:
/// "Request starting …", "Request finished …", at Information) writes each URL with its query: the authorization code and
/// the state. AddOAuthLogins keeps that category at Warning and above, unless the app opts out.
/// </summary>
public sealed class ServerModeRequestLogTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private const string RequestLog = "Microsoft.AspNetCore.Hosting.Diagnostics";
    private const string RedirectResultLog = "Microsoft.AspNetCore.Http.Result.RedirectResult";

    /// <summary>
    /// One login through the app at level Information (its /connect redirects with <c>Results.Redirect</c>, as the
    /// examples do); returns the code its callback carried, the login's state and every record logged.
    /// </summary>
    private async Task<(string Code, string State, IReadOnlyList<FakeLogRecord> Logs)> SignInAsync(string systemName, Action<O8HostingOptions>? hosting = null)
    {
        var builder = sandbox.ServerModeApp(systemName, hosting: hosting);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFakeLogging();
        await using var app = builder.Build();
        // The login's own outcome task, handed over as it is (no continuation that reads a result it may not have).
        var outcome = new TaskCompletionSource<Task<LoginOutcome>>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.MapOAuthCallback("/oauth/callback");
        app.MapPost("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            var login = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint("alice"));
            outcome.TrySetResult(login.Outcome);
            return Results.Redirect(login.AuthorizeUrl.ToString());
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);

        using var browser = sandbox.Browser();
        using var connect = await browser.PostAsync(new Uri(callback, "/connect"), null, TestContext.Current.CancellationToken);
        using var authorize = await browser.GetAsync(connect.Headers.Location, TestContext.Current.CancellationToken);
        var back = authorize.Headers.Location!;
        var code = System.Web.HttpUtility.ParseQueryString(back.Query)["code"]!;
        var state = System.Web.HttpUtility.ParseQueryString(connect.Headers.Location!.Query)["state"]!;
        using var landing = await browser.GetAsync(back, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        var loginOutcome = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.IsType<LoginSucceeded>(await loginOutcome.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        await app.StopAsync(TestContext.Current.CancellationToken);
        return (code, state, app.Services.GetFakeLogCollector().GetSnapshot());
    }

    [Fact]
    public async Task The_apps_request_log_never_writes_the_callbacks_code()
    {
        var (code, state, logs) = await SignInAsync("o8-request-log");

        Assert.True(code.Length >= 16, "the callback carried a code");
        // Information is captured (the login's own end line), and the request log's warnings would be.
        Assert.Contains(logs, r => r.Level == LogLevel.Information && r.Message.Contains("ended: Succeeded", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Message.Contains(code, StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Category == RequestLog && r.Level < LogLevel.Warning);
        // Nor the authorize URL of the app's redirect to the provider (its state, PKCE challenge, nonce).
        Assert.DoesNotContain(logs, r => r.Message.Contains(state, StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Category == RedirectResultLog && r.Level < LogLevel.Warning);
    }

    [Fact]
    public async Task An_app_that_opts_out_keeps_its_request_log_at_Information()
    {
        var (_, state, logs) = await SignInAsync("o8-request-log-kept", o => o.QuietHostingDiagnostics = false);

        Assert.Contains(logs, r => r.Category == RequestLog && r.Level == LogLevel.Information
                                   && r.Message.Contains("/oauth/callback/sandbox?", StringComparison.Ordinal));
        Assert.Contains(logs, r => r.Category == RedirectResultLog && r.Message.Contains(state, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_app_whose_logger_factory_ignores_the_rules_is_warned_at_start_that_callbacks_are_logged()
    {
        // Serilog's UseSerilog and NLog replace the logger factory and never read Microsoft.Extensions.Logging's rules:
        // the rule O8Actors adds keeps nothing out there, and before, nothing said so.
        var factory = new RuleIgnoringLoggerFactory();
        var builder = sandbox.ServerModeApp("o8-request-log-replaced-factory");
        builder.Services.AddSingleton<ILoggerFactory>(factory);
        await using var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback");
        await app.StartAsync(TestContext.Current.CancellationToken);
        await app.StopAsync(TestContext.Current.CancellationToken);

        var warning = Assert.Single(factory.Records, r => r.Level == LogLevel.Warning && r.Message.StartsWith("Server mode: the app's logging writes", StringComparison.Ordinal));
        Assert.Contains(RequestLog, warning.Message, StringComparison.Ordinal);
        Assert.Contains(RedirectResultLog, warning.Message, StringComparison.Ordinal);
        Assert.Contains("MinimumLevel.Override", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_whose_logging_applies_the_rules_gets_no_such_warning()
    {
        var (_, _, logs) = await SignInAsync("o8-request-log-no-warning");

        Assert.DoesNotContain(logs, r => r.Message.StartsWith("Server mode: the app's logging writes", StringComparison.Ordinal));
    }

    /// <summary>A logger factory that, like Serilog's, writes every level of every category whatever the logging rules say.</summary>
    private sealed class RuleIgnoringLoggerFactory : ILoggerFactory
    {
        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message)> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Records);

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<(LogLevel, string)> records) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                records.Enqueue((logLevel, formatter(state, exception)));
        }
    }

    /// <summary>The app's logging as <paramref name="logging"/> sets it up, then AddOAuthLogins.</summary>
    private static ServiceProvider LoggingThenOAuthLogins(Action<ILoggingBuilder> logging)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging);
        services.AddOAuthLogins();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void A_rule_the_app_gave_one_logging_provider_does_not_open_the_request_log_again()
    {
        // A provider's own rule outranks a rule for all providers, whatever its category (Logging:Console:LogLevel:Default).
        using var provider = LoggingThenOAuthLogins(b => b.SetMinimumLevel(LogLevel.Information).AddFakeLogging().AddFilter<FakeLoggerProvider>(null, LogLevel.Debug));
        var factory = provider.GetRequiredService<ILoggerFactory>();

        Assert.False(factory.CreateLogger(RequestLog).IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger(RequestLog).IsEnabled(LogLevel.Warning));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Routing").IsEnabled(LogLevel.Debug));
    }

    /// <summary>The ways an app chooses a level above Warning for the request log, by name (xUnit shows it).</summary>
    public static TheoryData<string, bool> StricterLevels => new()
    {
        { "SetMinimumLevel(Error) before AddOAuthLogins", true },
        { "SetMinimumLevel(Error) after AddOAuthLogins", true },
        { "Logging:LogLevel:Microsoft.AspNetCore = Error", true },
        { "Logging:LogLevel:Default = None", false },
        { "a filter delegate that lets Error through", true },
        { "Logging:Fake:LogLevel for the category = Error, a looser rule for the provider's type in code", true },
    };

    [Theory]
    [MemberData(nameof(StricterLevels))]
    public void A_stricter_level_the_app_chose_for_the_request_log_stays(string app, bool errorsKept)
    {
        // Rules from configuration come first, as a host adds them before the app's services.
        var configuration = new Dictionary<string, string?>();
        Action<ILoggingBuilder> before = _ => { }, after = _ => { };
        switch (app)
        {
            case "SetMinimumLevel(Error) before AddOAuthLogins": before = b => b.SetMinimumLevel(LogLevel.Error); break;
            case "SetMinimumLevel(Error) after AddOAuthLogins": after = b => b.SetMinimumLevel(LogLevel.Error); break;
            case "Logging:LogLevel:Microsoft.AspNetCore = Error":
                configuration["Logging:LogLevel:Default"] = "Information";
                configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Error";
                break;
            case "Logging:LogLevel:Default = None": configuration["Logging:LogLevel:Default"] = "None"; break;
            case "a filter delegate that lets Error through": before = b => b.AddFilter((_, _, level) => level >= LogLevel.Error); break;
            default:
                // The framework matches a rule to a provider by its type's name or by its alias: both rules are the fake's.
                Assert.Equal("Fake", typeof(FakeLoggerProvider).GetCustomAttribute<ProviderAliasAttribute>()?.Alias);
                configuration["Logging:Fake:LogLevel:" + RequestLog] = "Error";
                before = b => b.AddFilter<FakeLoggerProvider>(null, LogLevel.Information);
                break;
        }

        var services = new ServiceCollection();
        var config = new ConfigurationBuilder().AddInMemoryCollection(configuration).Build();
        services.AddLogging(b =>
        {
            b.AddConfiguration(config.GetSection("Logging")).AddFakeLogging();
            before(b);
        });
        services.AddOAuthLogins();
        services.AddLogging(after);
        using var provider = services.BuildServiceProvider();
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger(RequestLog);

        logger.LogWarning("a warning from the request log");
        logger.LogError("an error from the request log");

        Assert.False(logger.IsEnabled(LogLevel.Warning));
        var logs = provider.GetFakeLogCollector().GetSnapshot();
        Assert.DoesNotContain(logs, r => r.Level == LogLevel.Warning);
        Assert.Equal(errorsKept, logs.Any(r => r.Category == RequestLog && r.Level == LogLevel.Error));
    }

    [Fact]
    public void A_wildcard_rule_longer_than_the_request_logs_category_does_not_keep_it_open()
    {
        // "Hosting.*Diagnostics" is one character longer than the category it covers, and a longer category outranks.
        const string Pattern = "Microsoft.AspNetCore.Hosting.*Diagnostics";
        using var provider = LoggingThenOAuthLogins(b => b.SetMinimumLevel(LogLevel.Warning).AddFakeLogging().AddFilter(Pattern, LogLevel.Information));
        var factory = provider.GetRequiredService<ILoggerFactory>();

        Assert.False(factory.CreateLogger(RequestLog).IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger(RequestLog).IsEnabled(LogLevel.Warning));
        // The other categories the app's pattern covers keep the app's level.
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Hosting.OtherDiagnostics").IsEnabled(LogLevel.Information));
    }
}
