using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>The three actors of one O8Actors instance that its clients talk to (children of the O8 guardian, <c>/user/o8</c>).</summary>
/// <param name="Listener">The <c>CallbackServerActor</c>.</param>
/// <param name="Providers">The <see cref="Providers.ProviderRegistryActor"/>.</param>
/// <param name="Flows">The <see cref="Flows.FlowsSupervisor"/>.</param>
public sealed record O8ActorRefs(IActorRef Listener, IActorRef Providers, IActorRef Flows);
