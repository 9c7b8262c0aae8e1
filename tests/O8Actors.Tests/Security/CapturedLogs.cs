using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace O8Actors.Tests.Security;

/// <summary>Every log line written through Microsoft.Extensions.Logging or Akka logging, at every level, with exceptions.</summary>
internal static class CapturedLogs
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> BySystem = new();

    public static ConcurrentQueue<string> For(string systemName) => BySystem.GetOrAdd(systemName, _ => new ConcurrentQueue<string>());

    // The line each login writes when it ends ("Login {id} with {provider} ended: {outcome}").
    private static readonly Regex EndLine = new(@"Login (\S+) with \S+ ended: ", RegexOptions.CultureInvariant);

    /// <summary>
    /// How many logins have logged their end, each counted once. Akka writes log events through its logger actor, after
    /// the login has answered its caller, so a scan of the lines waits for this count first.
    /// </summary>
    public static int LoginsEnded(IEnumerable<string> lines) =>
        lines.Select(l => EndLine.Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).Count();

    /// <summary>
    /// Returns once every line <paramref name="system"/> logged before this call has reached <paramref name="lines"/>, so
    /// that a count of them is final: Akka writes log events through its logger actor in the order they were logged, so a
    /// marker logged now (at Information, which <paramref name="lines"/>' logger factory must take) comes after them all.
    /// Waiting for the first line sought to appear instead would let a second one, logged later, slip by.
    /// </summary>
    public static async Task AllWrittenAsync(ActorSystem system, ConcurrentQueue<string> lines)
    {
        var marker = "log barrier " + Guid.NewGuid().ToString("N");
        system.Log.Info(marker);
        await O8Actors.TestSupport.Eventually.TrueAsync(() => lines.Any(l => l.Contains(marker, StringComparison.Ordinal)),
            "the lines logged before the barrier were written");
    }

    /// <summary>HOCON that routes every Akka log event, debug included, to <see cref="AkkaLogger"/>.</summary>
    public static string AkkaConfig => $$"""
        akka.loglevel = DEBUG
        akka.stdout-loglevel = OFF
        akka.loggers = ["{{typeof(AkkaLogger).AssemblyQualifiedName}}"]
        akka.actor.debug { receive = on, unhandled = on, lifecycle = on, autoreceive = on, event-stream = on }
        akka.log-dead-letters = on
        """;

    /// <summary>An Akka logger actor that keeps each event's text.</summary>
    public sealed class AkkaLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
    {
        public AkkaLogger()
        {
            var sink = For(Context.System.Name);
            Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
            Receive<LogEvent>(e => sink.Enqueue($"{e.LogLevel()} {e.LogSource} {e}{(e is Error { Cause: { } c } ? " " + c : "")}"));
        }
    }

    /// <summary>A Microsoft.Extensions.Logging provider that keeps each formatted line.</summary>
    public sealed class Provider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(sink, categoryName);

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                sink.Enqueue($"{logLevel} {category} {formatter(state, exception)} {state} {exception}");
        }
    }
}
