namespace O8Actors.Hosting;

// Marker types under which WithOAuthLogins registers the top-level actors in Akka.Hosting's ActorRegistry, so
// application code can ask for them with IRequiredActor<TKey> (or ActorRegistry.Get<TKey>()).

/// <summary>Registry key of the <c>CallbackServerActor</c> (the redirect listener): <c>IRequiredActor&lt;CallbackServerKey&gt;</c>.</summary>
public sealed class CallbackServerKey;

/// <summary>Registry key of the <see cref="Flows.FlowsSupervisor"/>: <c>IRequiredActor&lt;FlowsSupervisorKey&gt;</c>.</summary>
public sealed class FlowsSupervisorKey;

/// <summary>Registry key of the <see cref="Providers.ProviderRegistryActor"/>: <c>IRequiredActor&lt;ProviderRegistryKey&gt;</c>.</summary>
public sealed class ProviderRegistryKey;
