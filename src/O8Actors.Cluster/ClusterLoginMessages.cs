using Akka.Actor;
using O8Actors.Binding;

namespace O8Actors.Cluster;

// The messages that cross nodes: to a login entity through the shard region, and from the entity back to the node that
// began the login. All are immutable records that Akka.Remote's default (JSON) serializer carries; none prints a secret.

/// <summary>A message for one login entity; <see cref="EntityId"/> is all sharding reads.</summary>
internal interface ILoginEntityMessage
{
    /// <summary>The login's routing id (<see cref="LoginEntityIds"/>).</summary>
    string EntityId { get; }
}

/// <summary>Starts the login in a fresh entity. The only message that starts one; any other reaching a fresh entity is refused.</summary>
/// <param name="EntityId">The routing id minted by the beginning node.</param>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Provider">The provider's registered name (registered on every node).</param>
/// <param name="Request">Scopes, timeout and extra parameters.</param>
/// <param name="Binding">What the login keeps of its browser's secret (checked on the entity's node: same Data Protection key ring).</param>
/// <param name="ReplyTo">The beginning node's gateway: receives <see cref="LoginUrlReady"/> and <see cref="LoginEnded"/>.</param>
internal sealed record BeginLogin(string EntityId, string LoginId, string Provider, AuthorizationRequest Request, BrowserBindingHash Binding,
    IActorRef ReplyTo) : ILoginEntityMessage
{
    /// <summary>
    /// The message for a login, with the request's collections copied to plain ones: a caller's list may be any
    /// <see cref="IReadOnlyList{T}"/> (a collection expression's hidden type among them), which the receiving node's
    /// serializer could not build.
    /// </summary>
    public static BeginLogin For(string entityId, string loginId, string provider, AuthorizationRequest request, BrowserBindingHash binding,
        IActorRef replyTo) => new(entityId, loginId, provider, request with
        {
            Scopes = request.Scopes?.ToArray(),
            AcrValues = request.AcrValues?.ToArray(),
            ExtraParameters = request.ExtraParameters is null ? null : new Dictionary<string, string>(request.ExtraParameters, StringComparer.Ordinal),
        }, binding, replyTo);

    /// <inheritdoc />
    public override string ToString() => $"BeginLogin {{ EntityId = {EntityId}, LoginId = {LoginId}, Provider = {Provider} }}";
}

/// <summary>
/// A callback from any node's <c>MapOAuthCallback</c>, routed to its entity; the sender (the asking node's request) waits
/// for one <see cref="O8Actors.Callback.CallbackResponse"/>.
/// </summary>
/// <param name="EntityId">Read from the state's prefix.</param>
/// <param name="State">The full state (a secret): the entity compares it with its login's before anything else.</param>
/// <param name="Code">The authorization code (a secret), if present.</param>
/// <param name="Error">The provider's <c>error</c>, if present.</param>
/// <param name="ErrorDescription">The provider's <c>error_description</c>, if present.</param>
/// <param name="Issuer">The <c>iss</c> parameter, if present.</param>
/// <param name="Path">The path the callback arrived on.</param>
/// <param name="BrowserSecrets">The browser-binding secrets the request presented (login id → secret).</param>
internal sealed record RoutedCallback(string EntityId, string State, string? Code, string? Error, string? ErrorDescription, string? Issuer,
    string? Path, IReadOnlyDictionary<string, string>? BrowserSecrets) : ILoginEntityMessage
{
    /// <summary>The message for one callback, its browser secrets copied to a plain dictionary (any reader's type may reach here).</summary>
    public static RoutedCallback For(string entityId, O8Actors.Callback.CallbackReceived callback) => new(entityId, callback.State, callback.Code,
        callback.Error, callback.ErrorDescription, callback.Issuer, callback.Path,
        callback.BrowserSecrets is null ? null : new Dictionary<string, string>(callback.BrowserSecrets, StringComparer.Ordinal));

    /// <inheritdoc />
    public override string ToString() => $"RoutedCallback {{ EntityId = {EntityId}, HasCode = {Code is not null}, Error = {Error} }}";
}

/// <summary>Cancels the login; it ends as Cancelled unless it already ended. A fresh entity ignores it and stops.</summary>
internal sealed record CancelLogin(string EntityId, string LoginId) : ILoginEntityMessage;

/// <summary>
/// Sharding's hand-off stop message for a login's entity (its node leaves, or its shard is rebalanced): the entity stops
/// once its login no longer needs it (<see cref="LoginEntity"/>), rather than at once as with a <c>PoisonPill</c>. Sent by
/// the entity's own shard, never across nodes.
/// </summary>
internal sealed record LoginHandOff
{
    /// <summary>The one instance.</summary>
    public static LoginHandOff Instance { get; } = new();
}

/// <summary>
/// From the entity to the beginning node: a node took the login and runs it. The begin's timeout (a begin no node takes)
/// ends here; the login's own deadline and its provider's limits govern from now on, and its node's loss ends it.
/// </summary>
internal sealed record LoginTaken(string LoginId);

/// <summary>From the entity to the beginning node: the authorize URL is ready.</summary>
internal sealed record LoginUrlReady(string LoginId, Uri AuthorizeUrl)
{
    /// <inheritdoc />
    public override string ToString() => $"LoginUrlReady {{ LoginId = {LoginId} }}";
}

/// <summary>From the entity to the beginning node: the login's one outcome (in its wire form, <see cref="WireOutcome"/>).</summary>
internal sealed record LoginEnded(string LoginId, WireOutcome Outcome)
{
    /// <inheritdoc />
    public override string ToString() => $"LoginEnded {{ LoginId = {LoginId}, Kind = {Outcome.Kind} }}";
}

/// <summary>
/// From one node's gateway to another's: a browser came back from a provider's end-session endpoint (a state, no code,
/// no error) on the asking node, whose own listener waits for no such state; the receiving gateway hands it to its
/// node's listener, which answers the asker with the page (the sign-out's, or the 400 of an unknown return).
/// </summary>
/// <param name="State">The sign-out's state (single use; its step has already revoked and forgotten the tokens).</param>
/// <param name="Path">The request's path (the sign-out accepts its return only on its provider's path).</param>
internal sealed record SignOutReturnHere(string State, string? Path)
{
    /// <inheritdoc />
    public override string ToString() => $"SignOutReturnHere {{ Path = {Path} }}";
}

/// <summary>
/// From a node that begins to leave to the login gateway of every other member: it is leaving, so its shard regions will
/// stop while it is still an <c>Up</c> member (<see cref="LeavingMembers"/>). Its address as text (Akka's form), which
/// the remote's JSON serializer carries as it is, and its incarnation (a node restarted on the same address is another).
/// </summary>
/// <param name="Address">The leaving member's address.</param>
/// <param name="Uid">The leaving member's incarnation (<c>UniqueAddress.Uid</c>).</param>
internal sealed record NodeLeaving(string Address, int Uid);
