using Akka.Actor;
using O8Actors.Binding;
using O8Actors.Configuration;
using O8Actors.Flows;

namespace O8Actors.Cluster;

/// <summary>What a login entity uses of its own node: this node's settings, provider actors and browser-binding verifier.</summary>
/// <param name="Login">Login settings (timeout, exchange timeout, PKCE).</param>
/// <param name="Providers">This node's provider registry: providers run where the login runs.</param>
/// <param name="BindingVerifier">Checks the browser binding (every node shares the Data Protection key ring).</param>
/// <param name="RedirectUri">The server-mode redirect URI (<c>O8:Listener:ExternalRedirectUri</c>), the same on every node.</param>
/// <param name="OutcomeHandler">The app's handler for outcomes on the node where logins end, if it registered one.</param>
/// <param name="Terminating">
/// Handed to the outcome handler: cancelled as the node's actor system terminates (<see cref="NodeShutdownToken"/>), not
/// when its shutdown begins, so a login that ends while the node hands its logins off still has its handler's I/O run.
/// </param>
internal sealed record ClusterLoginNode(LoginOptions Login, IActorRef Providers, BrowserBindingVerifier BindingVerifier, Uri RedirectUri,
    IClusterLoginOutcomeHandler? OutcomeHandler = null, CancellationToken Terminating = default)
{
    /// <summary>
    /// The deployment of every login this node's entities start (<see cref="FlowActor.Template"/>): O8Actors' flow
    /// dispatcher with its compact mailbox, as in the node's own flows supervisor. Built once per node, because a
    /// deployment made per login costs a configuration parse; Akka's defaults where none is given (a bare actor system).
    /// </summary>
    public Props FlowTemplate { get; init; } = FlowActor.Template(null);

    /// <summary>
    /// This node's remoting frame in bytes (<see cref="OutcomeFrame.FrameSize"/>), read once per node rather than from the
    /// configuration at every login's end; null when none is configured (no outcome is checked).
    /// </summary>
    public long? RemoteFrameBytes { get; init; }

    /// <summary>This node's listener (its table of states): a sign-out begun here waits there for the provider's return.</summary>
    public IActorRef? Listener { get; init; }

    /// <summary>
    /// Remembers a successful login's tokens as its account (through this node's accounts supervisor, so in the account's
    /// entity wherever it runs) and gives the outcome with its <see cref="LoginSucceeded.Account"/>; any other outcome as it
    /// is. The login's entity runs it before it reports, so the account exists whether or not the beginning node lives.
    /// Null: nothing is remembered (an entity tested without its node's accounts).
    /// </summary>
    public Func<LoginOutcome, string, AuthorizationRequest, Task<LoginOutcome>>? RememberAccount { get; init; }
}
