using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>The three actors of one O8Actors instance that its clients talk to (children of the O8 guardian, <c>/user/o8</c>).</summary>
/// <param name="Listener">The <c>CallbackServerActor</c>.</param>
/// <param name="Providers">The <see cref="Providers.ProviderRegistryActor"/>.</param>
/// <param name="Flows">The <see cref="Flows.FlowsSupervisor"/>.</param>
/// <param name="Guardian">Their parent, <c>/user/o8</c>: stopping it stops all of O8Actors in the system.</param>
/// <param name="Accounts">The <see cref="Accounts.AccountsSupervisor"/>.</param>
/// <param name="AccountCache">The fresh tokens its account actors publish (read without a message).</param>
internal sealed record O8ActorRefs(IActorRef Listener, IActorRef Providers, IActorRef Flows, IActorRef Guardian, IActorRef Accounts,
    Accounts.AccountCache AccountCache);
