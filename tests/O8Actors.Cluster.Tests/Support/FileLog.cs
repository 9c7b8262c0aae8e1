using Microsoft.Extensions.Logging;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// When <c>O8_CLUSTER_TEST_LOG</c> names a file, every node's log lines (Information and up) are appended to it, each
/// prefixed with its node: the way to see why a cluster did not form. Off by default.
/// </summary>
internal sealed class FileLog(string node, string path) : ILoggerProvider
{
    private static readonly Lock Gate = new();

    public static string? Path => Environment.GetEnvironmentVariable("O8_CLUSTER_TEST_LOG");

    public ILogger CreateLogger(string categoryName) => new Logger(node, categoryName, path);

    public void Dispose()
    {
    }

    private sealed class Logger(string node, string category, string path) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {node} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}\n";
            lock (Gate) File.AppendAllText(path, line);
        }
    }
}
