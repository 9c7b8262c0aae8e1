using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace O8Actors.SoakTests.Support;

/// <summary>
/// Keeps every warning and error written through <see cref="ILoggerFactory"/> (Kestrel's included), so a test can
/// prove that no exception escaped a request handler: Kestrel logs those as "unhandled exception" errors.
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddProvider(this));

    public IReadOnlyList<(string Category, LogLevel Level, string Message, Exception? Exception)> Entries => _entries.ToArray();

    /// <summary>Errors, and anything that carries an exception.</summary>
    public IReadOnlyList<string> Failures => _entries
        .Where(e => e.Level >= LogLevel.Error || e.Exception is not null)
        .Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name}")
        .ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner._entries.Enqueue((category, logLevel, formatter(state, exception), exception));
        }
    }
}
