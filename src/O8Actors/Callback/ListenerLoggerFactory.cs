using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace O8Actors.Callback;

/// <summary>
/// The logger factory handed to the listener's Kestrel: it keeps only Kestrel's warnings and errors and drops every
/// category that writes request URLs. A callback URL carries the authorization code, and ASP.NET Core's hosting
/// diagnostics log "Request starting … GET /?code=…" at Information; Kestrel's bad-request debug lines quote the
/// request line. None of that may reach the host's logs.
/// </summary>
internal sealed class ListenerLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string KestrelPrefix = "Microsoft.AspNetCore.Server.Kestrel";

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(KestrelPrefix, StringComparison.Ordinal)
            ? new WarningsOnly(inner.CreateLogger(categoryName))
            : NullLogger.Instance;

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The host owns the inner factory; disposing the listener must not dispose it.
    public void Dispose() { }

    private sealed class WarningsOnly(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
