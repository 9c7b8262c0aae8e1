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
    // Where account messages go: the region, or its proxy once this node leaves.
    private IActorRef _accounts;

    /// <summary>Props for the gateway.</summary>
    /// <param name="region">The accounts' shard region.</param>
    /// <param name="proxy">A proxy of the accounts' shard region, for once this node leaves (<see cref="ThroughRegionProxy"/>).</param>
    /// <param name="logoutTokens">The logout-token guards' shard region (<see cref="LogoutTokenGuardEntity"/>).</param>
    /// <param name="settings">The accounts' waits.</param>
    public static Props Props(IActorRef region, IActorRef proxy, IActorRef logoutTokens, AccountSettings settings) =>
        Akka.Actor.Props.Create(() => new AccountGateway(region, proxy, logoutTokens, settings));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public AccountGateway(IActorRef region, IActorRef proxy, IActorRef logoutTokens, AccountSettings settings)
    {
        // A little longer than the caller's own wait: the caller gives up first, with its own timeout.
        var extra = TimeSpan.FromSeconds(5);
        _accounts = region;
        Receive<GetAccessToken>(msg => Ask(_accounts, ForWire(msg), settings.CallerWait(msg.Options.AllowInteraction, msg.Options.Login?.Timeout) + extra));
        Receive<RememberLogin>(msg => Ask(_accounts, WireRememberLogin.ForWire(msg), settings.RenewalTimeout + extra));
        Receive<SignOut>(msg => Ask(_accounts, msg, settings.SignOutWait(msg.Options) + extra));
        // The provider's guard answers at once; the wait only bounds a region that cannot reach it (the caller gives up first).
        Receive<O8Actors.Logout.AcceptLogoutToken>(msg => Ask(logoutTokens, msg, settings.RenewalTimeout + extra));
        Receive<O8Actors.Logout.ForgetLogoutToken>(logoutTokens.Tell);
        Receive<O8Actors.Logout.RenewLogoutToken>(logoutTokens.Tell);
        Receive<O8Actors.Logout.CompleteLogoutToken>(msg => Ask(logoutTokens, msg, settings.RenewalTimeout + extra));
        Receive<ThroughRegionProxy>(_ =>
        {
            // The proxy asks the coordinator where each account's shard lives, as the region would: this node's region
            // while it still holds the shard (it finishes there), the account's next node once the shard has moved.
            _accounts = proxy;
            Sender.Tell(Akka.Done.Instance);
        });
    }

    /// <summary>
    /// The request in types the remote's JSON serializer can rebuild: arrays and dictionaries instead of whatever read-only
    /// collections the caller built (collection expressions make compiler-generated types it cannot construct), and
    /// without the caller's cancellation, which is this process's alone.
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

    private void Ask(IActorRef region, object message, TimeSpan timeout)
    {
        var replyTo = Sender;
        region.Ask<object>(message, timeout).PipeTo(replyTo,
            success: FromWire, failure: e => new Status.Failure(e));
    }

    /// <summary>The entity's answer as the caller takes it: failures as their exceptions, a DPoP-bound token with its key.</summary>
    internal static object FromWire(object answer) => answer switch
    {
        WireAccountFailure failure => new Status.Failure(failure.ToException()),
        WireAccessToken token => token.ToAnswer(),
        _ => answer,
    };
}
