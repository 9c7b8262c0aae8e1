namespace O8Actors.Accounts;

// Messages to the AccountsSupervisor, which forwards the per-account ones to that account's actor (keeping the sender).

/// <summary>Asks for a valid access token; answered with an <see cref="AccessToken"/> or a <c>Status.Failure</c>.</summary>
internal sealed record GetAccessToken(OAuthAccount Account, IReadOnlyList<string>? Scopes, AccessTokenOptions Options)
{
    /// <summary>
    /// A caller of an interactive login that outlived the account's actor, sent on after the login's tokens
    /// (<see cref="OrphanedLogin"/>): the stored version the account had when the login began (0: none). Should the account
    /// have been signed out since, the caller is told so rather than sent to a new login. Null: any other caller.
    /// </summary>
    public long? OrphanedOver { get; init; }

    /// <summary>
    /// Such a caller that had already waited for a login: what is left of its own wait (<c>AccountActor</c>'s
    /// <c>Waiter.Deadline</c>), carried to the account's next actor, on whichever node, as a span (no two nodes' clocks
    /// agree). Null: any other caller.
    /// </summary>
    public TimeSpan? WaitLeft { get; init; }

    /// <summary>
    /// The caller's token (<see cref="IOAuthLogins.GetAccessTokenAsync"/>): should the caller cancel while it waits, the
    /// account's actor starts no interactive login for it, and cancels one it runs once every caller of it has cancelled
    /// (a browser opened for nobody). An Ask's cancellation only ends the caller's wait. This process only: a token never
    /// crosses nodes (the cluster's gateway names the request instead, and the account's entity stands in a token of its
    /// own that it cancels when told the name).
    /// </summary>
    public CancellationToken CallerCancellation { get; init; }
}

/// <summary>
/// A login succeeded for <paramref name="Account"/>: store its tokens (a new version), then answer
/// <see cref="LoginRemembered"/> (or a <c>Status.Failure</c> when the store failed).
/// </summary>
internal sealed record RememberLogin(OAuthAccount Account, TokenSet Tokens)
{
    /// <summary>
    /// The tokens of an interactive login that outlived the account's actor (<see cref="OrphanedLogin"/>): the stored
    /// version the account had when the login began (0: none). The account's next actor does not know the login ran, and
    /// may have signed the account out meanwhile: then it drops (and revokes) these tokens instead of signing the account
    /// in again. Null: any other login.
    /// </summary>
    public long? OrphanedOver { get; init; }

    /// <summary>
    /// Sent by O8Actors itself, with nobody waiting for the answer (a login that signed in another account than the one
    /// it was for): its tokens exist nowhere else, so the account keeps them in memory should the store fail, as it keeps
    /// any tokens it alone holds. Said here because its sender is no sign: on a cluster the account's entity asks for it.
    /// </summary>
    public bool NoCallerWaits { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"RememberLogin {{ Account = {Account} }}";

    /// <summary>
    /// Remembers a login's tokens for <paramref name="account"/>, with the scopes <paramref name="request"/> asked for
    /// when the token response named none (<see cref="GrantedScope.OfLogin"/>).
    /// </summary>
    public static RememberLogin Of(OAuthAccount account, TokenSet tokens, AuthorizationRequest? request) => new(account, GrantedScope.OfLogin(tokens, request));
}

/// <summary>The login's tokens are stored.</summary>
internal sealed record LoginRemembered(OAuthAccount Account, long Version);

/// <summary>
/// Revokes the account's tokens at the provider and forgets them, then ends the provider's browser session when
/// <paramref name="Options"/> ask for it; answered with a <see cref="SignOutResult"/>.
/// </summary>
/// <param name="Account">The account.</param>
/// <param name="Options">How.</param>
/// <param name="Session">
/// A back-channel logout's condition: sign out only when the account's tokens belong to this provider session;
/// otherwise answered with <see cref="SignOutSkipped"/> and nothing changes. Null: sign out in any case.
/// </param>
/// <param name="CountedByCaller">
/// The caller records the sign-out in <c>o8.signouts</c> (a cluster's server-mode sign-out, whose provider-session step
/// runs on the node that began it, counts it once that step has ended); false: the account counts it.
/// </param>
internal sealed record SignOut(OAuthAccount Account, SignOutOptions Options, EndedSession? Session = null, bool CountedByCaller = false)
{
    /// <summary>
    /// Server mode (this process only, never across nodes): the end-session URL is handed here for the app to redirect its
    /// user to, instead of opening a browser; completed with null when there is none (no endpoint, or the step failed).
    /// </summary>
    public TaskCompletionSource<Uri?>? EndSessionUrlTo { get; init; }
}

/// <summary>
/// For the account's next actor, from one that has stopped while its interactive login went on (<see cref="OrphanedLogin"/>):
/// <paramref name="Message"/>, the login's tokens to remember or a caller's request that waited for the login, routed as
/// if it came now, keeping its sender. Local only: it goes to an <see cref="AccountsSupervisor"/> of the same node.
/// </summary>
/// <param name="Stopped">
/// The actor that stopped: should the supervisor still route <paramref name="Account"/> to it (its <c>Terminated</c> not
/// taken yet), it stops doing so first, and the message reaches a fresh actor instead of dead letters.
/// </param>
/// <param name="Account">The account <paramref name="Message"/> is for.</param>
/// <param name="Message">A <see cref="RememberLogin"/> or a <see cref="GetAccessToken"/>.</param>
internal sealed record AfterStop(Akka.Actor.IActorRef Stopped, OAuthAccount Account, object Message);

/// <summary>Lists stored accounts; answered with <see cref="AccountList"/>.</summary>
internal sealed record ListAccounts(string? Provider);

/// <summary>The stored accounts.</summary>
internal sealed record AccountList(IReadOnlyList<OAuthAccount> Accounts);

/// <summary>
/// From now on, per-account messages go to <paramref name="Region"/> (the cluster package's node-local way to the
/// accounts' shard region), which delivers them to the account's one entity wherever it runs.
/// </summary>
internal sealed record RouteAccounts(Akka.Actor.IActorRef Region);

/// <summary>Asks this node's supervisor for what an account's actor needs here; answered with <see cref="AccountParts"/> (never crosses nodes).</summary>
internal sealed record GetAccountParts;

/// <summary>
/// What an account's actor on this node works with: the node's store, provider registry, flows supervisor and settings,
/// and the node's accounts supervisor (which routes to the other accounts' entities).
/// </summary>
internal sealed record AccountParts(ITokenStore Store, Akka.Actor.IActorRef Providers, Akka.Actor.IActorRef Flows, AccountSettings Settings,
    Akka.Actor.IActorRef Node)
{
    /// <summary>
    /// Whether <see cref="Store"/> keeps the tokens in this process's memory (an <see cref="InMemoryTokenStore"/>, the
    /// default when no store is configured): on a cluster, an account that moves to another node leaves them behind.
    /// </summary>
    public bool StoreInMemory { get; init; }
}

/// <summary>
/// The provider session a back-channel logout ended (its logout token's <c>sid</c>): an account is signed out only when
/// its ID token carries the same <c>sid</c>, or carries none and <paramref name="AlsoWithoutSessionId"/> (the logout token
/// also named the account's subject, so tokens that cannot be placed in a session are taken as the ended one's).
/// </summary>
internal sealed record EndedSession(string SessionId, bool AlsoWithoutSessionId);

/// <summary>A conditional sign-out left the account as it was: its tokens belong to another provider session (or it has none).</summary>
internal sealed record SignOutSkipped(OAuthAccount Account);

/// <summary>
/// An account's entity is moving to another node (a rebalance, or its node leaving): sharding's hand-off stop message
/// for the accounts' region. The account finishes what it is doing first (a refresh whose rotated tokens the provider
/// has already issued, a save, a sign-out), then stops, within <see cref="AccountSettings.HandOffWait"/> (sharding's
/// hand-off timeout is derived from it); a PoisonPill would stop it between sending a refresh and storing its answer,
/// and the rotated refresh token would be lost with it. An interactive login, which waits for its user, is not waited
/// for: it goes on, and its tokens and callers follow the account to its next node (<see cref="OrphanedLogin"/>).
/// Local only: never crosses nodes.
/// </summary>
internal sealed record AccountHandOff
{
    /// <summary>The one instance.</summary>
    public static AccountHandOff Instance { get; } = new();
}

/// <summary>
/// To an account's cluster entity, from its supervisor: the account's actor retired (idle, with nothing the store has
/// not taken, or signed out), so the entity may ask its shard to passivate it. The account's actor decides when it is
/// idle, not sharding's timer: it never retires while it holds tokens the store failed to take, or a sign-out whose
/// removal is pending, which a passivation would lose (the rotated refresh token) or serve again (the signed-out tokens).
/// </summary>
internal sealed record AccountRetiredInEntity
{
    /// <summary>The one instance.</summary>
    public static AccountRetiredInEntity Instance { get; } = new();
}
