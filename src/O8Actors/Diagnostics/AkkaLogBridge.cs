using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace O8Actors.Diagnostics;

/// <summary>
/// The Akka logger of a standalone <see cref="OAuthLogins"/>: every Akka log event goes to the app's
/// <see cref="ILoggerFactory"/> (none given: nowhere), so O8Actors writes nothing to stdout of its own, and its
/// lines land where the app's logs go, filtered by the app's logging configuration.
/// </summary>
internal sealed class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>The value of <c>akka.loggers</c> that installs this bridge.</summary>
    public const string LoggerTypeName = "O8Actors.Diagnostics.AkkaLogBridge, O8Actors";

    private readonly ILoggerFactory _factory;

    /// <summary>Created by Akka from <c>akka.loggers</c>; the factory comes from the <see cref="LoggerFactorySetup"/>.</summary>
    public AkkaLogBridge()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue ? setup.Value.Factory : NullLoggerFactory.Instance;
    }

    /// <summary>The Akka log level that lets through exactly what <paramref name="factory"/> would write ("OFF" for nothing).</summary>
    public static string AkkaLevelFor(ILoggerFactory? factory)
    {
        if (factory is null) return "OFF";
        // Checked once at start: Akka filters below its level before formatting, which keeps Debug lines free when off.
        // Every category the bridge writes O8Actors' lines under is asked (each actor's class), not only "O8Actors": an
        // app that turns on Debug for one namespace ("O8Actors.Flows") would otherwise find Akka dropping those lines.
        var loggers = O8ActorCategories().Append("O8Actors").Append("Akka").Select(factory.CreateLogger).ToArray();
        bool Enabled(LogLevel level) => loggers.Any(l => l.IsEnabled(level));
        return Enabled(LogLevel.Debug) ? "DEBUG"
            : Enabled(LogLevel.Information) ? "INFO"
            : Enabled(LogLevel.Warning) ? "WARNING"
            : Enabled(LogLevel.Error) ? "ERROR"
            : "OFF";
    }

    /// <summary>The log categories of O8Actors' actors: their classes' full names, in every O8Actors assembly loaded.</summary>
    private static IEnumerable<string> O8ActorCategories() =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is { } name && (name == "O8Actors" || name.StartsWith("O8Actors.", StringComparison.Ordinal)))
            .SelectMany(LoadableTypes)
            .Where(t => typeof(ActorBase).IsAssignableFrom(t) && t.FullName is not null)
            .Select(t => t.FullName!);

    private static IEnumerable<Type> LoadableTypes(System.Reflection.Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (System.Reflection.ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    /// <inheritdoc />
    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Write(e);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent e)
    {
        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        var logger = _factory.CreateLogger(e.LogClass?.FullName ?? e.LogSource ?? "Akka");
        if (!logger.IsEnabled(level)) return;
        logger.Log(level, e.Cause, "[{LogSource}] {Message}", e.LogSource, e.Message?.ToString());
    }

    /// <summary>Carries the app's logger factory into the actor system (<c>ActorSystemSetup</c>).</summary>
    internal sealed class LoggerFactorySetup(ILoggerFactory factory) : Setup
    {
        public ILoggerFactory Factory { get; } = factory;
    }
}
