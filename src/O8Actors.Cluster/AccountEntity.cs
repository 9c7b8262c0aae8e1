using Akka.Actor;
using Akka.Event;
using O8Actors.Accounts;

namespace O8Actors.Cluster;

/// <summary>
/// One account as an entity of the accounts' shard region: the only actor of that account in the cluster, so refreshes
/// stay single-flight however many nodes ask. It runs the core's account actor (under a supervisor of its own, which
/// re-creates it after sign-out or idleness) with this node's store, providers and settings; the store, shared by all
/// nodes (O8Actors.Persistence), is what lets the account keep its tokens when its entity moves to another node.
/// </summary>
internal sealed class AccountEntity : ReceiveActor, IWithUnboundedStash
{
    private IActorRef? _accounts;
    private AccountSettings? _settings;
    // The stand-ins for the tokens of callers on any node (CancellableTokenRequest), by the request's name, until answered.
    // Never disposed: a source with no timer holds nothing to free, and the account's actor may still be registering on it.
    private readonly Dictionary<string, CancellationTokenSource> _callers = new(StringComparer.Ordinal);

    public IStash Stash { get; set; } = null!;

    /// <summary>Props for the entity of <paramref name="entityId"/>; <paramref name="parts"/> completes once O8Actors runs on this node.</summary>
    public static Props Props(string entityId, Task<AccountParts> parts) => Akka.Actor.Props.Create(() => new AccountEntity(entityId, parts));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public AccountEntity(string entityId, Task<AccountParts> parts)
    {
        var account = AccountOf(entityId);
        parts.PipeTo(Self);
        Receive<AccountParts>(p =>
        {
            _settings = p.Settings;
            _accounts = Context.ActorOf(AccountsSupervisor.ForEntity(p.Store, p.Providers, p.Flows, p.Settings, account, p.Node), "account");
            // Its end is this entity's end (after a hand-off, or unexpectedly): the next message then starts a new
            // entity instead of being forwarded to a stopped actor until its caller's wait runs out.
            Context.Watch(_accounts);
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<Status.Failure>(f =>
        {
            // Throwing would restart the entity into the same faulted task, over and over: answer every caller instead.
            Context.GetLogger().Error(f.Cause, "Account entity {0}: O8Actors did not start on this node", entityId);
            Become(NotStarted);
            Stash.UnstashAll();
        });
        // Moving before O8Actors started here: nothing of the account has run yet, but what this entity stashed would
        // die with it, each caller waiting out its ask (90 s for a silent token): they are answered instead.
        Receive<AccountHandOff>(_ =>
        {
            AnswerStashedAtHandOff();
            Context.Stop(Self);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>
    /// Moved before its node's O8Actors started: every stashed request's caller hears <see cref="LoginFailure.NodeLost"/>
    /// (asking again reaches the account on its next node), as a login's stashed begin does (<c>LoginEntity</c>).
    /// </summary>
    private void AnswerStashedAtHandOff()
    {
        var moved = WireAccountFailure.From(new AuthorizationFailedException(LoginFailure.NodeLost,
            "The account moved to another node before O8Actors started on its node; try again."));
        // A stashed cancel came from a gateway, not a caller: its request (stashed too) is answered.
        foreach (var stashed in Stash.ClearStash().Where(e => e.Message is not CancelTokenRequest)) stashed.Sender.Tell(moved);
    }

    /// <summary>
    /// Resume, as a node resumes its own accounts supervisor (<c>O8Guardian</c>): the child's table routes this
    /// account to its one actor, and a restart (Akka's default) would stop that actor mid-renewal, losing a refresh's
    /// rotated tokens before the store took them and failing every caller waiting on it.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => ResumeAccounts;

    private static readonly SupervisorStrategy ResumeAccounts = new OneForOneStrategy(_ => Directive.Resume);

    /// <summary>The account of an entity id (its <see cref="OAuthAccount.Id"/>: provider and key, each escaped).</summary>
    internal static OAuthAccount AccountOf(string entityId)
    {
        var slash = entityId.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0) throw new ArgumentException("An account entity id is provider/key.", nameof(entityId));
        return new OAuthAccount(Uri.UnescapeDataString(entityId[..slash]), Uri.UnescapeDataString(entityId[(slash + 1)..]));
    }

    private void NotStarted()
    {
        Receive<AccountHandOff>(_ => Context.Stop(Self));
        Receive<CancelTokenRequest>(_ => { }); // its request was refused already
        ReceiveAny(_ => Sender.Tell(WireAccountFailure.From(new AuthorizationFailedException(LoginFailure.ListenerUnavailable,
            "O8Actors did not start on the node that runs this account."))));
    }

    private void Ready()
    {
        // Asked (not forwarded) so that a failure goes back to the caller's node in its wire form.
        Receive<GetAccessToken>(msg => Ask(msg, _settings!.CallerWait(msg.Options.AllowInteraction, msg.Options.Login?.Timeout)));
        Receive<CancellableTokenRequest>(AskForCaller);
        Receive<CancelTokenRequest>(msg =>
        {
            // Unknown: answered already (its caller's cancel crossed the answer), nothing left to cancel.
            if (_callers.TryGetValue(msg.CancelId, out var caller)) caller.Cancel();
        });
        Receive<TokenRequestAnswered>(msg => _callers.Remove(msg.CancelId));
        Receive<RememberLogin>(Remember);
        Receive<WireRememberLogin>(msg =>
        {
            RememberLogin restored;
            try
            {
                restored = msg.ToMessage();
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                Sender.Tell(WireAccountFailure.From(new AuthorizationFailedException(LoginFailure.Internal,
                    "The login's DPoP key arrived malformed from the node that ran it (nodes of different O8Actors versions?).")));
                return;
            }

            Remember(restored);
        });
        Receive<SignOut>(msg => Ask(msg, _settings!.SignOutWait(msg.Options)));
        // Sharding's hand-off stop message (see O8ClusterHostingExtensions): the account finishes what it is doing (a
        // refresh's rotated tokens must reach the store), then its supervisor stops, and this entity with it.
        Receive<AccountHandOff>(msg => _accounts!.Tell(msg));
        // The account's actor retired (idle with everything stored, or signed out): passivated through the shard, which
        // holds messages for the account until this entity has stopped, then starts a fresh one for them.
        Receive<AccountRetiredInEntity>(_ => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(AccountHandOff.Instance)));
        Receive<Terminated>(t => t.ActorRef.Equals(_accounts), _ => Context.Stop(Self));
        ReceiveAny(msg => _accounts!.Forward(msg));
    }

    private void Remember(RememberLogin msg) => Ask(msg with { Tokens = WireClaims.Restore(msg.Tokens) }, _settings!.RenewalTimeout);

    /// <summary>
    /// A request whose caller, on any node, may cancel: the account's actor gets it with a token of this entity's, which
    /// <see cref="CancelTokenRequest"/> cancels as the caller's own would.
    /// </summary>
    private void AskForCaller(CancellableTokenRequest msg)
    {
        var caller = new CancellationTokenSource();
        // Names are unique per request (a GUID the gateway makes); should one come twice, both requests share its first source.
        if (!_callers.TryAdd(msg.CancelId, caller)) caller = _callers[msg.CancelId];
        var request = msg.Request with { CallerCancellation = caller.Token };
        Ask(request, _settings!.CallerWait(request.Options.AllowInteraction, request.Options.Login?.Timeout))
            .PipeTo(Self, success: () => new TokenRequestAnswered(msg.CancelId), failure: _ => new TokenRequestAnswered(msg.CancelId));
    }

    private Task Ask(object message, TimeSpan timeout)
    {
        var replyTo = Sender;
        return _accounts!.Ask<object>(message, timeout).PipeTo(replyTo, success: ForWire, failure: WireAccountFailure.From);
    }

    /// <summary>The answer to <see cref="CancellableTokenRequest"/> <paramref name="CancelId"/> has gone to its caller.</summary>
    private sealed record TokenRequestAnswered(string CancelId);

    /// <summary>An answer for the caller's node: failures and DPoP-bound tokens in their wire forms, anything else as it is.</summary>
    internal static object ForWire(object answer) => WireAccessToken.ForWire(WireAccountFailure.Reply(answer));
}

/// <summary>
/// A login's tokens cross nodes without the ID token's full claim list (<see cref="System.Security.Claims.Claim"/> does
/// not survive the remote's JSON serializer); the entity reads it back from the ID token, which was validated at the login.
/// </summary>
internal static class WireClaims
{
    /// <summary>The tokens with the claim list read back from the ID token.</summary>
    public static TokenSet Restore(TokenSet tokens)
    {
        if (tokens.IdTokenClaims is not { All.Count: 0 } claims || string.IsNullOrEmpty(tokens.IdToken)) return tokens;
        try
        {
            return tokens with { IdTokenClaims = claims with { All = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.IdToken).Claims.ToList() } };
        }
        catch (ArgumentException)
        {
            return tokens;
        }
    }
}
