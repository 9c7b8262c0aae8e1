using Akka.Actor;

namespace O8Actors.Flows;

/// <summary>
/// The props of one login's <see cref="FlowActor"/>: a copy of a template made once per flows supervisor (the
/// deployment, so the mailbox, comes from it) that creates the actor with a plain constructor call.
/// </summary>
/// <remarks>
/// Why not <c>Props.Create(() =&gt; new FlowActor(start)).WithMailbox(...)</c> per login: the expression form builds an
/// expression tree, reads the captured argument by reflection and creates the actor through
/// <see cref="System.Activator"/>; and every <see cref="Deploy"/> Akka makes (<c>WithMailbox</c> makes one) parses an
/// empty HOCON document. Measured in the independent benchmark (issue 15) as a HOCON parse per login on the login's
/// hot path. A copy of a template shares the template's deployment and arguments and allocates nothing else.
/// </remarks>
internal sealed class FlowActorProps : Props
{
    private readonly FlowStart _start;

    private FlowActorProps(Props template, FlowStart start)
        : base(template) => _start = start;

    /// <summary>The template: the actor type and, when given, the mailbox every login of one supervisor uses.</summary>
    public static Props Template(string? mailbox)
    {
        var template = new Props(typeof(FlowActor));
        return mailbox is null ? template : template.WithMailbox(mailbox);
    }

    /// <summary>Props for one login, sharing <paramref name="template"/>'s deployment.</summary>
    public static Props For(Props template, FlowStart start) => new FlowActorProps(template, start);

    /// <inheritdoc />
    // AK1000 guards against actors made outside Props; this is the Props, called by Akka's ActorCell to make the actor.
#pragma warning disable AK1000
    public override ActorBase NewActor() => new FlowActor(_start);
#pragma warning restore AK1000

    /// <inheritdoc />
    protected override Props Copy() => new FlowActorProps(this, _start) { SupervisorStrategy = SupervisorStrategy };
}
