using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using O8Actors.Runtime;

namespace O8Actors.Accounts;

/// <summary>
/// The parent of every <see cref="AccountActor"/> (<c>/user/o8/o8-accounts</c>): creates an account's actor on its first
/// message and routes by account, so each account has exactly one actor, and with it one renewal at a time.
/// </summary>
/// <remarks>
/// An account actor that throws is stopped (its waiters are answered in PostStop, and the requests still in its mailbox,
/// or sent to it before this supervisor heard of the stop, by the <see cref="Flows.UndeliveredLoginWatcher"/> from dead
/// letters); the next message for the account creates a fresh one, which reads the store again: the store, not the
/// actor, is what must not be lost.
/// </remarks>
internal sealed class AccountsSupervisor : ReceiveActor, IWithUnboundedStash
{
    private readonly ITokenStore _store;
    // Asked by the cluster package, which warns about it: the guard around the store hides which store it is.
    private readonly bool _storeInMemory;
    private readonly IActorRef _providers;
    private readonly IActorRef _flows;
    private readonly AccountSettings _settings;
    private readonly Dictionary<OAuthAccount, IActorRef> _accounts = [];
    // Account actors no longer routed to that still finish a sign-out's end-session step (AccountActor.Detached), with
    // their accounts; they retire (Forgotten) when it ends. An entity does not stop or passivate before they have.
    private readonly Dictionary<IActorRef, OAuthAccount> _detached = [];
    // Accounts with a detached actor whose end-session step still runs, and no sign-in routed since: the provider's
    // browser session may still be alive, so an interactive token request would sign the user straight back in (SSO)
    // before the user confirmed the logout. Such requests are refused here (see RefusedWhileSigningOut).
    private readonly HashSet<OAuthAccount> _signingOut = [];
    private long _incarnation;
    // Routed (the cluster package): per-account messages go to the accounts' shard region instead of local children,
    // so each account has one actor in the whole cluster. Null until the region is known; meanwhile they wait here.
    private readonly bool _routed;
    private IActorRef? _region;
    // Inside an account's cluster entity: this supervisor runs that one account; a message for another account (an
    // interactive login that signed in someone else) goes back to the node's routed supervisor, hence to its entity.
    private readonly OAuthAccount? _only;
    private readonly IActorRef? _elsewhere;
    // Back-channel logout tokens accepted, per provider (single node; routed, the cluster's guard entity keeps them).
    private readonly Dictionary<string, Logout.LogoutTokenReplayGuard> _logoutTokens = new(StringComparer.Ordinal);
    // Inside an entity that is moving to another node: its account finishes what it does, then this supervisor stops.
    private bool _handingOff;

    public IStash Stash { get; set; } = null!;

    /// <summary>
    /// Props for the supervisor. <c>routed</c> (from <c>o8.accounts.routed</c>): per-account messages go to a shard
    /// region announced later with <see cref="RouteAccounts"/>; until it arrives they wait, so no account can get a
    /// second, local actor meanwhile.
    /// </summary>
    public static Props Props(ITokenStore store, IActorRef providers, IActorRef flows, AccountSettings settings, bool routed = false) =>
        Akka.Actor.Props.Create(() => new AccountsSupervisor(store, providers, flows, settings, routed, null, null));

    /// <summary>
    /// Props for the supervisor inside one account's cluster entity: it runs <paramref name="only"/>, and sends messages
    /// for any other account to <paramref name="elsewhere"/> (the node's routed supervisor).
    /// </summary>
    public static Props ForEntity(ITokenStore store, IActorRef providers, IActorRef flows, AccountSettings settings, OAuthAccount only,
        IActorRef elsewhere) =>
        Akka.Actor.Props.Create(() => new AccountsSupervisor(store, providers, flows, settings, false, only, elsewhere));

    /// <summary>Creates the actor; use <see cref="Props"/> or <see cref="ForEntity"/>.</summary>
    public AccountsSupervisor(ITokenStore store, IActorRef providers, IActorRef flows, AccountSettings settings, bool routed,
        OAuthAccount? only, IActorRef? elsewhere)
    {
        _store = GuardedTokenStore.Around(store);
        _storeInMemory = store is InMemoryTokenStore;
        _providers = providers;
        _flows = flows;
        _settings = settings;
        _routed = routed;
        _only = only;
        _elsewhere = elsewhere;

        Receive<GetAccessToken>(msg =>
        {
            if (!RefusedWhileSigningOut(msg)) Route(msg.Account, msg);
        });
        Receive<RememberLogin>(msg =>
        {
            NoteSignIn(msg);
            Route(msg.Account, msg);
        });
        Receive<SignOut>(msg => Route(msg.Account, msg));
        Receive<AfterStop>(AfterStop);
        Receive<Logout.AcceptLogoutToken>(AcceptLogoutToken);
        Receive<Logout.ForgetLogoutToken>(ForgetLogoutToken);
        Receive<Logout.RenewLogoutToken>(RenewLogoutToken);
        Receive<Logout.CompleteLogoutToken>(CompleteLogoutToken);
        Receive<RouteAccounts>(msg =>
        {
            _region = msg.Region;
            Stash.UnstashAll();
        });
        Receive<GetAccountParts>(_ => Sender.Tell(new AccountParts(_store, _providers, _flows, _settings, Self) { StoreInMemory = _storeInMemory }));
        Receive<ListAccounts>(msg =>
        {
            var store = _store;
            store.ListAsync(msg.Provider).PipeTo(Sender, success: list => new AccountList(list));
        });
        Receive<AccountActor.Detached>(msg =>
        {
            // The account is signed out; its actor finishes the end-session step for its caller. A fresh actor takes the
            // account's next messages (a new sign-in among them) meanwhile.
            if (_accounts.TryGetValue(msg.Account, out var routed) && routed.Equals(Sender)) _accounts.Remove(msg.Account);
            _detached[Sender] = msg.Account;
            _signingOut.Add(msg.Account);
        });
        Receive<AccountActor.Forgotten>(msg =>
        {
            if (_detached.ContainsKey(Sender))
            {
                // Its step ended. What was routed to it before it detached is ahead of the PoisonPill and comes back here.
                Sender.Tell(PoisonPill.Instance);
                return;
            }

            // Messages already sent to the retired actor reach it before the PoisonPill and come back here.
            // Only the actor now routed to may retire the route: a late word from one before it leaves the current one be.
            if (!_accounts.TryGetValue(msg.Account, out var retired) || !retired.Equals(Sender)) return;
            _accounts.Remove(msg.Account);
            Context.Unwatch(retired);
            retired.Tell(PoisonPill.Instance);
            StopIfHandedOff();
            PassivateIfRetired();
        });
        Receive<Terminated>(t =>
        {
            foreach (var (account, actor) in _accounts)
            {
                if (!actor.Equals(t.ActorRef)) continue;
                _accounts.Remove(account);
                break;
            }
            // Out of the detached ones before the hand-off's check: a detached actor that is the last to stop during a
            // hand-off still counted otherwise, and this supervisor never stopped (sharding waited out its hand-off timeout).
            var wasDetached = _detached.Remove(t.ActorRef, out var signedOut);
            if (wasDetached && !_detached.ContainsValue(signedOut!)) _signingOut.Remove(signedOut!);
            StopIfHandedOff();
            // A detached actor ends after its sign-out's step: nothing of the account runs here any more, should no fresh actor.
            if (wasDetached) PassivateIfRetired();
        });
        Receive<AccountHandOff>(_ => HandOff());
    }

    /// <summary>
    /// The entity is moving (<see cref="AccountHandOff"/>): the account's actor finishes what it is doing and stops, and
    /// this supervisor with it. Messages that come back meanwhile (from an actor that retired) go to the node's routed
    /// supervisor, hence to the region, which holds them until the entity runs on its new node.
    /// </summary>
    private void HandOff()
    {
        _handingOff = true;
        foreach (var actor in _accounts.Values.Concat(_detached.Keys)) actor.Tell(AccountHandOff.Instance);
        StopIfHandedOff();
    }

    private void StopIfHandedOff()
    {
        if (_handingOff && _accounts.Count == 0 && _detached.Count == 0) Context.Stop(Self);
    }

    /// <summary>
    /// In a cluster entity whose one account has retired (and no detached actor still finishes a sign-out's step, which
    /// would stop with the entity): the entity may passivate (see <see cref="AccountRetiredInEntity"/>).
    /// </summary>
    private void PassivateIfRetired()
    {
        if (_only is not null && !_handingOff && _accounts.Count == 0 && _detached.Count == 0) Context.Parent.Tell(AccountRetiredInEntity.Instance);
    }

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>
    /// An interactive token request for an account whose sign-out still ends the provider's browser session (a detached
    /// actor runs that step): answered here with <see cref="InteractionRequiredException"/>, as the signing-out actor
    /// answered it before it was detached. A fresh actor would find no tokens and open a browser, where the provider's
    /// session, not yet ended, signs the user straight back in. Silent requests go to the fresh actor (it has no tokens
    /// either, and opens nothing), and so does everything once the step's actor has stopped or the app signed the account in.
    /// </summary>
    /// <returns>Whether it was refused (and answered).</returns>
    private bool RefusedWhileSigningOut(GetAccessToken msg)
    {
        if (!msg.Options.AllowInteraction || !_signingOut.Contains(msg.Account)) return false;
        Sender.Tell(new Status.Failure(AccountActor.SigningOutNow(msg.Account)));
        return true;
    }

    /// <summary>
    /// What an interactive login brought after its account's actor stopped: for the account's next actor. Not for the
    /// stopped one, whose <c>Terminated</c> may still be on its way here (a login that ended as its actor stopped).
    /// </summary>
    private void AfterStop(AfterStop msg)
    {
        if (_accounts.TryGetValue(msg.Account, out var actor) && actor.Equals(msg.Stopped)) _accounts.Remove(msg.Account);
        // A login handed on from a stopped actor is a sign-in as one that comes straight here is.
        if (msg.Message is RememberLogin signedIn) NoteSignIn(signedIn);
        Route(msg.Account, msg.Message);
    }

    /// <summary>
    /// The user signed the account in explicitly, so an interactive request need no longer be told it is signing out
    /// (<see cref="RefusedWhileSigningOut"/>). An outlived login of the account's own is no such sign-in
    /// (<see cref="RememberLogin.OrphanedOver"/>): its tokens may still be refused as signed out.
    /// </summary>
    private void NoteSignIn(RememberLogin login)
    {
        if (login.OrphanedOver is null) _signingOut.Remove(login.Account);
    }

    private void Route(OAuthAccount account, object message)
    {
        if (_only is not null && (account != _only || _handingOff))
        {
            _elsewhere!.Forward(message);
            return;
        }

        if (!_routed)
        {
            if (_handingOff && !_accounts.ContainsKey(account))
            {
                // Stopping (a dispose or a host stop settles the accounts, waiting for each to stop): an actor made now
                // would hold the stop up (it retires only when idle) and could start a refresh the system then cuts off.
                Sender.Tell(new Status.Failure(new ObjectDisposedException(nameof(IOAuthLogins), "O8Actors is stopping; no account is served any more.")));
                return;
            }

            Of(account).Forward(message);
            return;
        }

        if (_region is null)
        {
            Stash.Stash();
            return;
        }

        // The entity may run on another node: the ID token's claim list (Claim objects do not survive the remote's JSON
        // serializer) stays behind, and the entity reads it back from the ID token itself.
        if (message is RememberLogin { Tokens.IdTokenClaims: { All.Count: > 0 } claims } remember)
            message = remember with { Tokens = remember.Tokens with { IdTokenClaims = claims with { All = [] } } };
        _region.Forward(message);
    }

    /// <summary>
    /// A validated logout token's <c>jti</c>, accepted once: here on a single node (messages are handled one at a time,
    /// so two posts of one token cannot both pass), or by the provider's guard entity when accounts are routed, so a
    /// replay to another node of the cluster is refused too.
    /// </summary>
    private void AcceptLogoutToken(Logout.AcceptLogoutToken msg)
    {
        if (ForwardedToCluster(msg)) return;
        if (!_logoutTokens.TryGetValue(msg.Provider, out var guard)) _logoutTokens.Add(msg.Provider, guard = new Logout.LogoutTokenReplayGuard());
        Sender.Tell(new Logout.LogoutTokenAcceptance(guard.Accept(msg.JwtId, msg.Attempt, msg.KeepUntil, msg.Lease, Context.System.Scheduler.Now)));
    }

    private void CompleteLogoutToken(Logout.CompleteLogoutToken msg)
    {
        if (ForwardedToCluster(msg)) return;
        if (_logoutTokens.TryGetValue(msg.Provider, out var guard)) guard.Complete(msg.JwtId);
        Sender.Tell(new Logout.LogoutTokenCompleted(msg.JwtId));
    }

    private void ForgetLogoutToken(Logout.ForgetLogoutToken msg)
    {
        if (ForwardedToCluster(msg)) return;
        if (_logoutTokens.TryGetValue(msg.Provider, out var guard)) guard.Forget(msg.JwtId, msg.Attempt);
    }

    private void RenewLogoutToken(Logout.RenewLogoutToken msg)
    {
        if (ForwardedToCluster(msg)) return;
        if (_logoutTokens.TryGetValue(msg.Provider, out var guard)) guard.Renew(msg.JwtId, msg.Attempt, msg.Lease, Context.System.Scheduler.Now);
    }

    /// <summary>Routed (a cluster): the message goes to the node's gateway, or waits here until it is known; true then.</summary>
    private bool ForwardedToCluster(object message)
    {
        if (!_routed) return false;
        if (_region is null) Stash.Stash();
        else _region.Forward(message);
        return true;
    }

    private IActorRef Of(OAuthAccount account)
    {
        if (_accounts.TryGetValue(account, out var actor)) return actor;
        actor = Context.ActorOf(AccountActor.Props(account, _store, _providers, _flows, _settings, _elsewhere ?? Self).OnO8Dispatcher(Context.System), ActorName(account, ++_incarnation));
        Context.Watch(actor);
        _accounts[account] = actor;
        return actor;
    }

    private const string ActorNamePrefix = "account-";

    private const int NameHashLength = 16;

    /// <summary>
    /// Whether <paramref name="actor"/> is an account's actor, by the whole shape of its name (<see cref="ActorName"/>):
    /// a cluster's account entity is named after its provider, which may begin the same way.
    /// </summary>
    internal static bool IsAccountActor(IActorRef actor)
    {
        var name = actor.Path.Name.AsSpan();
        if (!name.StartsWith(ActorNamePrefix, StringComparison.Ordinal)) return false;
        var rest = name[ActorNamePrefix.Length..];
        return rest.Length > NameHashLength + 1 && rest[NameHashLength] == '-'
            && !rest[..NameHashLength].ContainsAnyExcept("0123456789abcdef") && !rest[(NameHashLength + 1)..].ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>
    /// A hash, not the account itself: a subject may hold any character, and actor paths end up in logs. The
    /// incarnation keeps names unique while a retired actor is still stopping.
    /// </summary>
    private static string ActorName(OAuthAccount account, long incarnation) =>
        $"{ActorNamePrefix}{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account.Id)).AsSpan(0, NameHashLength / 2))}-{incarnation}";
}
