using Akka.Actor;
using O8Actors.Accounts;

namespace O8Actors.Cluster;

/// <summary>
/// This node's way to the accounts' shard region (<c>/user/o8-account-gateway</c>): the node's accounts supervisor
/// sends every account message here; it asks the account's entity, wherever it runs, and answers the caller with the
/// entity's answer, turning a <see cref="WireAccountFailure"/> back into its exception. Messages and answers holding a DPoP
/// key cross in their wire forms (<see cref="WireRememberLogin"/>, <see cref="WireAccessToken"/>).
/// </summary>
internal sealed class AccountGateway : ReceiveActor
{
    private readonly RegionRoute _accounts;
    private readonly RegionRoute _logoutTokens;

    /// <summary>Props for the gateway.</summary>
    /// <param name="region">The accounts' shard region.</param>
    /// <param name="elsewhere">
    /// Once this node leaves (<see cref="ThroughAnotherNode"/>), finds the accounts' region on another member that is up
    /// (null when there is none: <see cref="RegionOnAnotherNode.Find"/>).
    /// </param>
    /// <param name="logoutTokens">The logout-token guards' shard region (<see cref="LogoutTokenGuardEntity"/>).</param>
    /// <param name="logoutTokensElsewhere">The same as <paramref name="elsewhere"/>, for the logout-token guards' region.</param>
    /// <param name="settings">The accounts' waits.</param>
    public static Props Props(IActorRef region, Func<ICanTell?> elsewhere, IActorRef logoutTokens, Func<ICanTell?> logoutTokensElsewhere,
        AccountSettings settings) =>
        Akka.Actor.Props.Create(() => new AccountGateway(region, elsewhere, logoutTokens, logoutTokensElsewhere, settings));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public AccountGateway(IActorRef region, Func<ICanTell?> elsewhere, IActorRef logoutTokens, Func<ICanTell?> logoutTokensElsewhere,
        AccountSettings settings)
    {
        // A little longer than the caller's own wait: the caller gives up first, with its own timeout.
        var extra = TimeSpan.FromSeconds(5);
        _accounts = new RegionRoute(region, elsewhere);
        _logoutTokens = new RegionRoute(logoutTokens, logoutTokensElsewhere);
        Receive<GetAccessToken>(msg => AskForToken(msg, settings.CallerWait(msg.Options.AllowInteraction, msg.Options.Login?.Timeout) + extra));
        // Told by a caller's token (AskForToken) when it fires.
        Receive<CallerCancelled>(CancelRequest);
        Receive<RememberLogin>(msg => Ask(_accounts.Now, WireRememberLogin.ForWire(msg), settings.RenewalTimeout + extra));
        Receive<SignOut>(msg => Ask(_accounts.Now, msg, settings.SignOutWait(msg.Options) + extra));
        // The provider's guard answers at once; the wait only bounds a region that cannot reach it (the caller gives up first).
        // While this node leaves, its own guards' region stops in sharding's shutdown phase while its HTTP server still
        // takes back-channel logouts: sent there, a provider's logout would be refused and its session not ended.
        Receive<O8Actors.Logout.AcceptLogoutToken>(msg => Ask(_logoutTokens.Now, msg, settings.RenewalTimeout + extra));
        Receive<O8Actors.Logout.ForgetLogoutToken>(msg => _logoutTokens.Now?.Tell(msg, Self));
        Receive<O8Actors.Logout.RenewLogoutToken>(msg => _logoutTokens.Now?.Tell(msg, Self));
        Receive<O8Actors.Logout.CompleteLogoutToken>(msg => Ask(_logoutTokens.Now, msg, settings.RenewalTimeout + extra));
        Receive<ThroughAnotherNode>(_ =>
        {
            // That region asks the coordinator where each account's shard lives, as this node's would: this node while it
            // still holds the shard (its entity finishes here), the account's next node once the shard has moved.
            _accounts.Leave();
            _logoutTokens.Leave();
            Sender.Tell(Akka.Done.Instance);
        });
    }

    /// <summary>
    /// The request in types the remote's JSON serializer can rebuild: arrays and dictionaries instead of whatever read-only
    /// collections the caller built (collection expressions make compiler-generated types it cannot construct), and
    /// without the caller's cancellation, which is this process's alone (<see cref="CancellableTokenRequest"/> carries it
    /// across as a name).
    /// </summary>
    internal static GetAccessToken ForWire(GetAccessToken request) => request with
    {
        CallerCancellation = CancellationToken.None,
        Scopes = request.Scopes?.ToArray(),
        Options = request.Options.Login is not { } login ? request.Options : request.Options with
        {
            Login = login with
            {
                Scopes = login.Scopes?.ToArray(),
                // A step-up's requirements (AcrValues = ["mfa"]) are a collection expression too, as BeginLogin.For copies them.
                AcrValues = login.AcrValues?.ToArray(),
                ExtraParameters = login.ExtraParameters is null ? null : new Dictionary<string, string>(login.ExtraParameters, StringComparer.Ordinal),
            },
        },
    };

    /// <summary>
    /// Asks the account's entity for a token. A caller that can cancel gets its request named
    /// (<see cref="CancellableTokenRequest"/>) and, should it cancel while it waits, the entity is told the name: the token
    /// itself stays in this process, and without this an interactive login on another node went on for nobody (a device
    /// login polling its provider until its deadline) after its only caller had cancelled.
    /// </summary>
    private void AskForToken(GetAccessToken request, TimeSpan timeout)
    {
        var caller = request.CallerCancellation;
        if (!caller.CanBeCanceled)
        {
            Ask(_accounts.Now, ForWire(request), timeout);
            return;
        }

        var cancelId = Guid.NewGuid().ToString("N");
        var self = Self;
        var cancel = new CancelTokenRequest(request.Account, cancelId);
        var region = _accounts.Now;
        // A token cancelled already fires here at once: its cancel is queued behind this message and so sent after the request.
        var watch = caller.Register(() => self.Tell(new CallerCancelled(cancel, region), ActorRefs.NoSender));
        Ask(region, new CancellableTokenRequest(ForWire(request), cancelId), timeout, watch);
    }

    /// <summary>
    /// Sends a caller's cancel through the region its request went through: a region keeps one sender's order, so the
    /// cancel cannot overtake a request still in that region's buffer (an entity drops a cancel whose request it has not
    /// seen). When this node has since begun to leave, through where it sends now too: its own region may have handed the
    /// account off already, and a cancel that reaches the entity twice does nothing the second time.
    /// </summary>
    private void CancelRequest(CallerCancelled cancelled)
    {
        cancelled.RequestedThrough?.Tell(cancelled.Cancel, Self);
        if (_accounts.Now is { } now && !now.Equals(cancelled.RequestedThrough)) now.Tell(cancelled.Cancel, Self);
    }

    /// <summary>A caller's token fired: its request, named by <see cref="Cancel"/>, went through <see cref="RequestedThrough"/>.</summary>
    private sealed record CallerCancelled(CancelTokenRequest Cancel, ICanTell? RequestedThrough);

    /// <summary>
    /// Asks <paramref name="region"/> and pipes its answer to the sender; <paramref name="watch"/> (a caller's token's
    /// callback) is removed before the answer goes: once answered there is nothing to cancel, and the token may outlive
    /// the request by far.
    /// </summary>
    private void Ask(ICanTell? region, object message, TimeSpan timeout, CancellationTokenRegistration? watch = null)
    {
        var replyTo = Sender;
        if (region is null)
        {
            watch?.Unregister();
            // The last node leaves: no region anywhere will hold the account (or the provider's guard) again, so the caller
            // learns it now rather than after its wait.
            replyTo.Tell(new Status.Failure(new InvalidOperationException(
                "This node is leaving the cluster and no other node is up to take the request.")));
            return;
        }

        var answer = region.Ask<object>(message, timeout);
        if (watch is { } registration) answer = UnwatchedWhenAnswered(answer, registration);
        answer.PipeTo(replyTo, success: FromWire, failure: e => new Status.Failure(e));
    }

    private static async Task<object> UnwatchedWhenAnswered(Task<object> answer, CancellationTokenRegistration watch)
    {
        try
        {
            return await answer.ConfigureAwait(false);
        }
        finally
        {
            // Unregister, not Dispose: it does not wait for a callback already running (which only tells this actor).
            watch.Unregister();
        }
    }

    /// <summary>The entity's answer as the caller takes it: failures as their exceptions, a DPoP-bound token with its key.</summary>
    internal static object FromWire(object answer) => answer switch
    {
        WireAccountFailure failure => new Status.Failure(failure.ToException()),
        WireAccessToken token => token.ToAnswer(),
        _ => answer,
    };
}
