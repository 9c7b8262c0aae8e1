using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>The three top-level actors of one O8Actors instance.</summary>
/// <param name="Listener">The <c>CallbackServerActor</c>.</param>
/// <param name="Providers">The <see cref="Providers.ProviderRegistryActor"/>.</param>
/// <param name="Flows">The <see cref="Flows.FlowsSupervisor"/>.</param>
internal sealed record O8ActorRefs(IActorRef Listener, IActorRef Providers, IActorRef Flows);
