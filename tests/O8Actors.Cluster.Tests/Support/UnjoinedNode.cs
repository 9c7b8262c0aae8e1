using System.Collections.Concurrent;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting;
using O8Actors.TestSupport;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// The cheapest cluster node: a Generic Host with <c>WithOAuthLogins</c> and <c>WithOAuthLoginsCluster</c>, remoting on
/// loopback and clustering without seed nodes (it starts, and never joins a cluster), with its warnings captured. For
/// what a node does at start, before any other node matters.
/// </summary>
internal sealed class UnjoinedNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly CapturedWarnings _log;

    private UnjoinedNode(IHost host, CapturedWarnings log)
    {
        _host = host;
        _log = log;
    }

    /// <summary>The node's services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Starts a node; <paramref name="remoting"/> replaces the loopback remoting, <paramref name="configure"/> adds to its
    /// Akka configuration after <c>WithOAuthLoginsCluster</c>; <paramref name="clusterFirst"/> calls
    /// <c>WithOAuthLoginsCluster</c> before <c>WithOAuthLogins</c>; <paramref name="serverMode"/> off leaves out the app's
    /// callback URL (<c>O8:Listener:ExternalRedirectUri</c>).
    /// </summary>
    public static async Task<UnjoinedNode> StartAsync(RemoteOptions? remoting = null, Action<AkkaConfigurationBuilder>? configure = null,
        bool clusterFirst = false, bool serverMode = true)
    {
        var log = new CapturedWarnings();
        var builder = Host.CreateApplicationBuilder();
        // Server mode, as every node of a cluster must run (its share of the logins is redirected to the app's callback).
        if (serverMode) builder.Configuration["O8:Listener:ExternalRedirectUri"] = "https://app.example/oauth/callback";
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddOAuthLogins();
        builder.Services.AddAkka("o8-unjoined", akka =>
        {
            akka.WithRemoting(remoting ?? new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
                .WithClustering();
            if (clusterFirst) akka.WithOAuthLoginsCluster().WithOAuthLogins();
            else akka.WithOAuthLogins().WithOAuthLoginsCluster();
            configure?.Invoke(akka);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new UnjoinedNode(host, log);
    }

    /// <summary>
    /// The warnings logged so far that contain <paramref name="text"/>, once everything the node logged while it started
    /// (its accounts' start included) has reached the app's log.
    /// </summary>
    public async Task<IReadOnlyList<string>> WarningsAfterStartAsync(string text)
    {
        // The accounts' starter logs its checks once this node's O8Actors has started, then makes the account gateway.
        var ct = TestContext.Current.CancellationToken;
        var started = await Services.GetRequiredService<O8Runtime>().WhenStarted.WaitAsync(TimeSpan.FromSeconds(30), ct);
        await Eventually.AssertAsync(() => started.System.ActorSelection("/user/o8-account-gateway").ResolveOne(TimeSpan.FromSeconds(1), ct),
            TimeSpan.FromSeconds(30));
        // Akka's log events reach the app's log in order, through one logger actor: once a line logged after the node
        // started is there, the start's warnings are there too, or never will be.
        var marker = "o8-test: started " + Guid.NewGuid().ToString("N");
        started.System.Log.Warning(marker);
        await Eventually.TrueAsync(() => _log.Warnings.Any(w => w.Contains(marker, StringComparison.Ordinal)), "the marker is logged");
        return _log.Warnings.Where(w => w.Contains(text, StringComparison.Ordinal)).ToList();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }

    /// <summary>The app's log lines at Warning and above.</summary>
    private sealed class CapturedWarnings : ILoggerProvider
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedWarnings into) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) into.Warnings.Enqueue(formatter(state, exception));
            }
        }
    }
}
