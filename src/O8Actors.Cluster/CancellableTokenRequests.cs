using O8Actors.Accounts;

namespace O8Actors.Cluster;

// A caller's cancellation token belongs to its process: it cannot cross to the node that runs the account's entity. The
// caller's node names the request instead, and tells that name to the entity when the token fires; the entity cancels a
// token of its own that stands in for the caller's, so the account's actor treats the caller as it treats one on its own
// node (no interactive login started for it, and a login every caller of which cancelled is cancelled).

/// <summary>
/// A token request whose caller may cancel it, on its way from the caller's node to the account's entity
/// (<see cref="AccountGateway"/> → <see cref="AccountEntity"/>).
/// </summary>
/// <param name="Request">The request in its wire form (<see cref="AccountGateway.ForWire"/>).</param>
/// <param name="CancelId">The name a later <see cref="CancelTokenRequest"/> gives it (unique per request, not a secret).</param>
internal sealed record CancellableTokenRequest(GetAccessToken Request, string CancelId)
{
    /// <inheritdoc />
    public override string ToString() => $"CancellableTokenRequest {{ Account = {Request.Account}, CancelId = {CancelId} }}";
}

/// <summary>The caller of <see cref="CancellableTokenRequest"/> <paramref name="CancelId"/> cancelled while it waited.</summary>
/// <param name="Account">The account (routes the message to its entity).</param>
/// <param name="CancelId">The request's name.</param>
internal sealed record CancelTokenRequest(OAuthAccount Account, string CancelId);
