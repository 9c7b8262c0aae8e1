using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace O8Actors.Tests.Support;

/// <summary>
/// Routes an O8Actors instance's logs (its own, Akka's through the bridge, Kestrel's) to the test's output, so a failing
/// test shows what happened, and a passing one prints nothing to the console.
/// </summary>
internal sealed class TestOutputLogging(ITestOutputHelper output) : ILoggerProvider
{
    public static ILoggerFactory Factory(ITestOutputHelper output, LogLevel minimum = LogLevel.Information) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(minimum).AddProvider(new TestOutputLogging(output)));

    public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name})")}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; a line logged during its teardown has nowhere to go.
            }
        }
    }
}
