using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>
/// O8Actors' actors run on a dispatcher of their own (<c>o8.dispatcher</c> in <c>hocon/o8.conf</c>), and each login's
/// actor on <c>o8.flow-dispatcher</c> (the same, with the compact flow mailbox), so O8Actors can choose how its mailboxes
/// are run without changing the app's actors, which keep Akka's default dispatcher; an app may configure both blocks.
/// The shipped executor is Akka's channel executor, which measured cheaper per login than the thread-pool default
/// (docs/benchmarks.md, "O8Actors' own dispatcher"). Both still draw their threads from the .NET thread pool.
/// </summary>
internal static class O8Dispatchers
{
    /// <summary>The dispatcher of O8Actors' long-lived actors (listener, providers, supervisors, accounts).</summary>
    public const string ConfigPath = "o8.dispatcher";

    /// <summary>The dispatcher of each login's actor; its configuration also names the login's mailbox.</summary>
    public const string FlowConfigPath = "o8.flow-dispatcher";

    /// <summary>
    /// <paramref name="props"/> on O8Actors' dispatcher. O8Actors' own actor systems always carry <c>o8.conf</c>; a bare
    /// actor system (a unit test creating one actor) keeps its default dispatcher.
    /// </summary>
    public static Props OnO8Dispatcher(this Props props, ActorSystem system) =>
        system.Settings.Config.HasPath(ConfigPath) ? props.WithDispatcher(ConfigPath) : props;

    /// <summary>The login actors' dispatcher, or null on a bare actor system.</summary>
    public static string? FlowDispatcher(ActorSystem system) =>
        system.Settings.Config.HasPath(FlowConfigPath) ? FlowConfigPath : null;
}
