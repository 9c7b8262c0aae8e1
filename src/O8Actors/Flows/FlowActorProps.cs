using Akka.Actor;
using O8Actors.Browser;
using O8Actors.Configuration;

namespace O8Actors.Flows;

/// <summary>What every login of one supervisor shares: settings and the actors and browser it works with.</summary>
/// <param name="Options">Flow defaults (timeout, exchange timeout, PKCE).</param>
/// <param name="Listener">The <see cref="O8Actors.Callback.CallbackServerActor"/>.</param>
/// <param name="Providers">The <see cref="O8Actors.Providers.ProviderRegistryActor"/> (or one provider actor).</param>
/// <param name="Browser">Opens authorize URLs.</param>
/// <param name="OutcomeTo">Receives each login's one <see cref="LoginOutcome"/>.</param>
internal sealed record FlowContext(LoginOptions Options, IActorRef Listener, IActorRef Providers, IBrowserLauncher Browser, IActorRef OutcomeTo);

/// <summary>One login's start: the shared context and what is its own.</summary>
internal sealed record FlowStart(FlowContext Context, string LoginId, string Provider, AuthorizationRequest Request,
    System.Diagnostics.ActivityContext Parent = default)
{
    /// <inheritdoc />
    public override string ToString() => $"FlowStart {{ LoginId = {LoginId}, Provider = {Provider} }}";
}

/// <summary>
/// The <see cref="Props"/> of one <see cref="FlowActor"/>. Each actor keeps its Props for its whole life, so for
/// thousands of waiting logins the usual forms cost real memory and time: <c>Props.Create(() => new FlowActor(...))</c>
/// parses an expression tree and finds the constructor by reflection per login, <c>CreateBy(producer)</c> keeps a
/// producer object, and <c>WithMailbox</c> a new <see cref="Deploy"/> per login. This Props copies a template's
/// deployment (shared, mailbox included), holds one reference to the login's start, and builds the actor directly.
/// </summary>
internal sealed class FlowActorProps : Props
{
    /// <summary>The default template: <see cref="FlowActor"/>'s type, Akka's default mailbox.</summary>
    public static readonly Props Template = new(typeof(FlowActor));

    private readonly FlowStart _start;

    /// <summary>Props that deploy as <paramref name="template"/> does (dispatcher, mailbox) and start <paramref name="start"/>.</summary>
    public FlowActorProps(Props template, FlowStart start) : base(template) => _start = start;

    /// <inheritdoc />
    public override ActorBase NewActor() => FlowActor.Create(_start);

    /// <inheritdoc />
    protected override Props Copy() => new FlowActorProps(this, _start);
}
