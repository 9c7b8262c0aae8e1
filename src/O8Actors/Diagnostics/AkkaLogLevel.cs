using Akka.Actor;
using Akka.Event;

namespace O8Actors.Diagnostics;

/// <summary>
/// Whether a log level is on in an actor system, asked without creating a logging adapter. An actor that logs rarely
/// (a login logs one line at its end) checks this first, so with the level off it never creates its adapter, whose
/// creation builds the actor's path string and a log source.
/// </summary>
/// <remarks>
/// The system's own adapter (<c>ActorSystem.Log</c>) cannot answer: Akka creates it before it applies
/// <c>akka.loglevel</c>, and its <c>IsInfoEnabled</c> stays true at every level, OFF included (Akka 1.5.74,
/// <c>AkkaLogLevelTests</c>). The event stream's level is the one every adapter created later copies.
/// </remarks>
internal static class AkkaLogLevel
{
    /// <summary>Whether Info lines are written: <c>akka.loglevel</c> is INFO or DEBUG.</summary>
    public static bool InfoEnabled(ActorSystem system) => system.EventStream.LogLevel <= LogLevel.InfoLevel;
}
