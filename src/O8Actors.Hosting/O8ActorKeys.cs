namespace O8Actors.Hosting;

// Marker types under which WithOAuthLogins registers the top-level actors in Akka.Hosting's ActorRegistry, so
// application code can reach them with IRequiredActor<TKey> (or ActorRegistry.Get<TKey>()): to watch them, or to place
// them in its own supervision and monitoring. Logins, status and events go through IOAuthLogins; the actors' messages
// are internal.

/// <summary>Registry key of the redirect listener actor: <c>IRequiredActor&lt;CallbackServerKey&gt;</c>.</summary>
public sealed class CallbackServerKey;

/// <summary>Registry key of the actor that supervises the logins (one child actor per login): <c>IRequiredActor&lt;FlowsSupervisorKey&gt;</c>.</summary>
public sealed class FlowsSupervisorKey;

/// <summary>Registry key of the actor that holds the registered providers: <c>IRequiredActor&lt;ProviderRegistryKey&gt;</c>.</summary>
public sealed class ProviderRegistryKey;
