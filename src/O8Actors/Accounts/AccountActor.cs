using Akka.Actor;
using Akka.Event;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// One signed-in account (a child of <see cref="AccountsSupervisor"/>): holds its current tokens and serves access
/// tokens from them, renewing them one renewal at a time however many callers ask.
/// </summary>
/// <remarks>
/// <para><b>Idle</b>: a caller whose token is still valid (more than the refresh margin before expiry) is answered at
/// once from memory. Any other request starts a renewal and waits in it.</para>
/// <para><b>Renewing</b> (single flight): take the store's refresh lock (which makes another process on the same store
/// wait), read the stored copy (another process may have refreshed already: then serve that), refresh once through the
/// provider actor, store the result (compare-and-set on its version) and only then answer everyone who waited. A
/// rotated refresh token is therefore on disk before any caller sees the new access token; a crash in between loses
/// nothing the provider knows about. Should the store fail to take them, they are kept and served from memory and
/// stored by the next renewal (a timer with backoff starts one), never dropped for the spent ones. A renewal that fails
/// for a reason that may pass serves the callers the current token answers while it is valid (it is only inside its
/// margin), and a refresh that fails for some callers' scopes fails only them.</para>
/// <para><b>Interacting</b>: the refresh token is missing or refused (<c>invalid_grant</c>) and a caller allows the
/// browser: one interactive login runs for all of them; callers that do not allow it fail at once with
/// <see cref="InteractionRequiredException"/>. The login runs in the flows supervisor, not under this actor: should this
/// actor stop before it ends (its cluster entity moves, or it fails), the login goes on without it, and its tokens and
/// its callers go to the account's next actor (see <see cref="HandOverLogin"/>). Another login of the account that ends
/// meanwhile (the app's own sign-in) is stored at once in its place, and callers who cancelled are dropped (the login
/// too, once all have).</para>
/// <para><b>Signing out</b>: revoke at the provider, remove from the store, answer, then ask the parent to retire this
/// actor; what reaches it afterwards goes back to the parent, which starts a fresh actor. A sign-out that also ends the
/// provider's browser session asks the parent to stop routing here as soon as the tokens are removed (<see cref="Detached"/>),
/// then finishes that step for its caller. A back-channel logout naming a session first reads the stored tokens to learn
/// whether they are of it, serving the current token meanwhile. A removal the store fails fails the sign-out, and the
/// actor stays to serve the tokens to nobody and retry the removal.</para>
/// <para>Each state is a method that matches on the message's type, and every state's delegate is made once: an account's
/// actor changes state twice per login it remembers, and rebuilding a <c>ReceiveActor</c>'s handler table each time was
/// about 3% of a process's CPU at 256 concurrent logins (2026-12-03, <c>perf</c>).</para>
/// <para>This file holds the actor's state, its start, <b>Idle</b> and serving the callers who wait; each other concern
/// has a file of its own (<c>AccountActor.Renewal.cs</c>, <c>.Saving.cs</c>, <c>.Interaction.cs</c>, <c>.OutlivedLogin.cs</c>, <c>.CancelledCallers.cs</c>,
/// <c>.SignOut.cs</c>, <c>.RemovalPending.cs</c>, <c>.Retirement.cs</c>, <c>.Scopes.cs</c>, <c>.Messages.cs</c>).</para>
/// </remarks>
internal sealed partial class AccountActor : ActorBase, IWithTimers, IWithStash
{
    private const string RenewalTimer = "renewal";
    private const string EndSessionTimer = "end-session";
    private const string SaveRetryTimer = "save-retry";
    private const string RemoveRetryTimer = "remove-retry";
    private const string SignOutStoreTimer = "sign-out-store";
    private const string RemoveDeadlineTimer = "remove-deadline";
    private const string HandOffWaitTimer = "hand-off-wait";
    private const string HandOffDeadlineTimer = "hand-off-deadline";
    private static readonly TimeSpan FirstSaveRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastSaveRetry = TimeSpan.FromMinutes(1);
    private readonly OAuthAccount _account;
    private readonly ITokenStore _store;
    private readonly IActorRef _providers;
    private readonly IActorRef _flows;
    // Where this account's messages go once this actor is gone: the supervisor that made it, or, inside a cluster entity
    // (whose supervisor stops with this actor), the node's routed supervisor, hence the account's entity wherever it runs.
    private readonly IActorRef _home;
    private readonly AccountSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<Waiter> _waiters = [];
    private StoredTokens? _current;
    private bool _loaded;
    // When the current tokens were obtained, as near as this actor knows: when it obtained them (a login it stored, a
    // refresh it ran), or, for a copy another process stored over the one this actor held, when this actor took that one
    // (see Adopt). Null when it first read them from the store, where their lifetime is unknown. A refresh another process
    // stored was obtained after that, so its lifetime counts from earlier and the margin is only wider. A login another
    // process stored after waiting for the store's lock may have been issued before it, by as long as that wait at most:
    // its lifetime counts from later, so its margin may be narrower than the obtaining process's (the token is served a
    // little longer, bounded by that wait, and never past its expiry).
    private DateTimeOffset? _obtainedAt;
    // When this actor took the current tokens (read them, or obtained them).
    private DateTimeOffset _heldSince;
    private AccessToken? _served;
    // The scopes callers asked the current tokens for that their granted scope does not name (WereAskedFor); for those
    // tokens only (a reference to the copy: other tokens made current forget them).
    private (StoredTokens Tokens, List<IReadOnlyList<string>> Scopes)? _askedFor;
    private AccessToken? _published;
    private IAsyncDisposable? _lock;
    // The lock handles granted and on their way here: released, not held, if this actor stops first.
    private readonly LockHandOver _locks = new();
    // The sign-out under way until it is answered, so a stop answers it too (its caller would wait out its ask).
    private (SignOut Request, IActorRef ReplyTo)? _signOutCaller;
    // This actor signed the account out (its tokens revoked and removed, or their removal pending). It started after any
    // earlier actor of the account had stopped, so an interactive login that outlived that one began before this sign-out.
    private bool _signedOut;
    private int _generation;
    // When the renewal under way gives up (its timer); a refresh it sends must be answered before then.
    private DateTimeOffset _renewalEnds;
    // The refresh the renewal under way waits for; cleared whenever a renewal ends, so a late answer of an abandoned
    // refresh is never taken as the result of a later renewal (a login's save in its place).
    private string? _refreshId;
    // The scopes the refresh under way asked for (null: the grant's own); an answer without a scope granted these.
    private IReadOnlyList<string>? _refreshScopes;
    // Past the renewal's deadline with a refresh, or the save of issued tokens, still in flight: its callers have had
    // their timeout, but the renewal (and the store's lock) goes on until that answers or the overtime ends. Released
    // earlier, another process could read the copy whose refresh token the refresh is spending and spend it again.
    private bool _overtime;
    // A refresh given up at the end of its renewal's overtime (the lock released): its answer, should it still come, is
    // kept and stored as tokens the store failed to take are (_unsaved), not dropped with the rotated refresh token.
    private LateRefresh? _lateRefresh;
    // The login whose tokens the renewal under way stores.
    private LoginToSave? _toSave;
    // Who waits for _toSave to be stored (several when logins of this account ended while a renewal ran).
    private readonly List<IActorRef> _rememberTo = [];
    // Logins of this account that ended during a renewal, with nothing stashed before them: the newest one's tokens and
    // every caller waiting. The next renewal stores those tokens once and answers them all, instead of one lock, load
    // and save each (and instead of stashing them, which re-stashed every waiting login after each renewal: quadratic in
    // the number of logins of one account at once, measured as 9% of a process's CPU at 256 concurrent logins of one user).
    private LoginToSave? _queuedLogin;
    private readonly List<IActorRef> _queuedRememberers = [];
    // Messages in the stash: a remember may only be queued (jump ahead of the stash) while nothing but late refresh
    // answers waits there (NothingStashedAheadOfALogin).
    private int _stashed;
    // Of them, a refresh given up whose answer came late: kept in Idle only if the account has not moved on meanwhile
    // (OnLateRefreshWhenIdle), so a login may go ahead of it.
    private int _lateRefreshesStashed;
    // A sign-out of the whole account (not a back-channel logout's conditional one) waits in the stash for the renewal
    // under way to end: callers after it are told the account is signing out instead of being served the token it
    // removes, and no interactive login is started ahead of it.
    private bool _signOutAhead;
    private bool _handOffStashed;
    private string? _loginId;
    private AuthorizationRequest? _loginRequest;
    // The interactive login signs in again an account known by its ID token's subject (KnownBySubject): it must show that subject.
    private bool _loginNeedsSubject;
    // The interactive login runs though the account's token was not refused (a consent for more scopes, or a provider that
    // issues no refresh token): a silent caller gets that token while it is valid, instead of being told to sign in.
    private bool _tokenUsableDuringLogin;
    // The stored version when the interactive login began (0: none), for its tokens should it outlive this actor.
    private long _loginOver;
    // The interactive login's completion while it runs: handed over (HandOverLogin) should this actor stop first.
    private Task<LoginOutcome>? _login;
    // The save in flight of tokens the provider has issued for this actor's own callers (a refresh, an interactive
    // login), with the stored copy they replace (null: nothing stored): should the store fail, they are kept (_unsaved).
    private (TokenSet Tokens, StoredTokens? Over)? _issuedSave;
    // Issued tokens the store failed to take. The provider has them, and a rotated refresh token's predecessor is spent:
    // dropping them would make the next refresh an invalid_grant (and, with reuse detection, revoke the grant). So they
    // are current here and served, and every renewal stores them first (a timer with backoff starts one), unless the
    // store no longer holds the tokens they replace (a newer version, or another grant). Null once stored.
    private TokenSet? _unsaved;
    // The stored copy they replace, version and tokens (null: nothing stored): a store that lost the account (another
    // process signed it out) restarts its versions, so the version alone could match again on another grant's tokens,
    // which the kept ones must never overwrite.
    private StoredTokens? _unsavedOver;
    private int _saveRetries;
    // Its entity is moving (AccountHandOff) and the store was asked once more to take the unsaved tokens.
    private bool _handingOff;
    // Its entity is moving while a refresh given up (_lateRefresh) may still answer: the hand-off waits for that answer
    // until this is set (HandOffWaitOver, a renewal's length later), as it gives unsaved tokens one more try.
    private bool _handOffWaited;
    // Its entity is moving and the hand-off's deadline runs (HandOffDeadlineReached, AccountSettings.HandOffWait after the
    // first AccountHandOff): set once, as a stashed hand-off comes back through AroundReceive.
    private bool _handOffDeadlineSet;
    // The store's latest save, so the lock is not let go while it is still being written (ReleaseLock).
    private Task? _saveInFlight;
    // A sign-out's removal failed, so the store still holds tokens that must never be served (see RemovalPending): the
    // retries so far, whether one is in flight, and the logins of this account that wait for it.
    private bool _removalFailed;
    // The stored copy the sign-out read and revoked (null: none was stored): a retry removes only that copy.
    private StoredTokens? _signedOutCopy;
    private int _removeRetries;
    // The removal retry under way (its answer carries it); null when none is. Its store calls end with this token, which
    // is cancelled once the retry is given up (they hold the store's lock).
    private Attempt? _removing;
    private CancellationTokenSource? _removingCalls;
    private readonly List<(RememberLogin Login, IActorRef ReplyTo)> _loginsAfterRemoval = [];

    // Each state's handler, made once (see the remarks).
    private readonly Receive _idle;
    private readonly Receive _renewing;
    private readonly Receive _interacting;
    private readonly Receive _forwarding;
    private readonly Receive _removalPending;

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>Props for one account's actor.</summary>
    /// <param name="account">The account.</param>
    /// <param name="store">The token store.</param>
    /// <param name="providers">The provider registry.</param>
    /// <param name="flows">The flows supervisor, which runs its interactive logins.</param>
    /// <param name="settings">What every account actor shares.</param>
    /// <param name="home">
    /// Where the account's messages go once this actor is gone (an <see cref="AccountsSupervisor"/> that outlives it), for
    /// what an interactive login brings after this actor stopped.
    /// </param>
    public static Props Props(OAuthAccount account, ITokenStore store, IActorRef providers, IActorRef flows, AccountSettings settings, IActorRef home) =>
        Akka.Actor.Props.Create(() => new AccountActor(account, store, providers, flows, settings, home));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public AccountActor(OAuthAccount account, ITokenStore store, IActorRef providers, IActorRef flows, AccountSettings settings, IActorRef home)
    {
        _account = account;
        _store = GuardedTokenStore.Around(store);
        _providers = providers;
        _flows = flows;
        _home = home;
        _settings = settings;
        _idle = Idle;
        _renewing = Renewing;
        _interacting = Interacting;
        _forwarding = Forwarding;
        _removalPending = RemovalPending;
        // Idle from the start (the behavior below): only the idle timeout is set here, as BecomeIdle does later.
        Context.SetReceiveTimeout(_settings.IdleTimeout);
    }

    /// <inheritdoc />
    protected override bool Receive(object message) => Idle(message);

    // The account request being handled (see AroundReceive); null between messages.
    private (object Request, IActorRef Sender)? _inHand;

    /// <inheritdoc />
    protected override bool AroundReceive(Receive receive, object message)
    {
        // Whatever state takes it (held, or released as stale), a lock handle that arrives is this actor's to release.
        if (message is Locked locked) _locks.Received(locked.Handle);
        else if (message is SignOutLocked signOutLocked) _locks.Received(signOutLocked.Handle);
        // Whatever state it is in (a renewal, its overtime, a sign-out, the wait for a refresh it gave up), a moving account
        // stops by its deadline: sharding's hand-off timeout and a leaving node's shutdown phases are derived from it
        // (O8Actors.Cluster), so the account, not sharding, decides when to give up, and logs what it leaves behind.
        // (The deadline itself reaches every state through StaleReply, which each falls back to: a timer's message comes
        // here still wrapped.)
        if (message is AccountHandOff && !_handOffDeadlineSet)
        {
            _handOffDeadlineSet = true;
            Timers.StartSingleTimer(HandOffDeadlineTimer, new HandOffDeadlineReached(), _settings.HandOffWait);
        }

        // A request is in hand until its handler returns: should the handler throw, the supervisor stops this actor, and
        // PostStop answers the request as it answers those it held (its caller would otherwise wait out its ask).
        if (message is GetAccessToken or RememberLogin or SignOut) _inHand = (message, Sender);
        var handled = base.AroundReceive(receive, message);
        _inHand = null;
        return handled;
    }

    /// <summary>A caller waiting for a renewal.</summary>
    private sealed class Waiter(GetAccessToken request, IActorRef replyTo, long? seenVersion)
    {
        public GetAccessToken Request { get; } = request;

        public IActorRef ReplyTo { get; } = replyTo;

        /// <summary>
        /// The version current when the caller asked; a forced refresh is answered only by a newer one. Null while this
        /// actor has not read the store yet: the version it then reads is the one the caller saw (the caller had it from
        /// the fast path or an earlier incarnation of this actor), so a forced refresh is not answered by it.
        /// </summary>
        public long? SeenVersion { get; set; } = seenVersion;

        /// <summary>
        /// Whether the token request under way was made for this caller: a refresh or an interactive login that asked for
        /// its scopes, or the interactive login started for it. It gets that request's tokens whatever scope the provider reports granting
        /// (a provider may name a granted scope otherwise than it was asked); any other caller gets them only if they
        /// cover its scopes, and is otherwise renewed for in a round of its own.
        /// </summary>
        public bool AskedFor { get; set; }

        /// <summary>
        /// The provider refused to refresh for this caller's scopes (<c>invalid_grant</c>): no refresh is asked for them
        /// again; it is served if another round's token covers them, else it goes to a sign-in once the others are done.
        /// </summary>
        public bool ScopesRefused { get; set; }

        /// <summary>
        /// When this caller stops waiting for interactive logins: its own timeout (or the longest a login may take, when
        /// it has none) and one token exchange after the first login it waited for began, or it joined it
        /// (<see cref="RideLogin"/>); <see cref="DateTimeOffset.MaxValue"/> while it has waited for none.
        /// </summary>
        public DateTimeOffset Deadline { get; set; } = DateTimeOffset.MaxValue;

        /// <summary>Whether its <see cref="Deadline"/> runs on a timer: it comes from elsewhere than the running login's start.</summary>
        public bool Watched { get; set; }
    }

    /// <summary>A caller that waits here from now on; one sent on by a login that outlived an earlier actor keeps what was left of its wait.</summary>
    private Waiter NewWaiter(GetAccessToken msg) =>
        new(msg, Sender, SeenNow) { Deadline = msg.WaitLeft is { } left ? Now + left : DateTimeOffset.MaxValue };

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void BecomeIdle()
    {
        // An account nobody asked about for a while is retired: its tokens are in the store, and a server with many users
        // would otherwise keep one actor per user who ever signed in. The next request starts a fresh one.
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        Become(_idle);
    }

    private bool Idle(object message)
    {
        switch (message)
        {
            case ReceiveTimeout:
                // Not while it holds tokens the store has not taken yet, nor while a refresh given up may still answer:
                // they would be lost (the retry timer keeps it busy; the provider answers every refresh it was sent).
                if (_unsaved is null && _lateRefresh is null) Retire();
                return true;
            case CodeExchanged msg when IsLateRefresh(msg.LoginId):
                OnLateRefreshWhenIdle(msg, _lateRefresh!);
                return true;
            case CodeExchangeFailed msg when IsLateRefresh(msg.LoginId):
                // Nothing to keep; a hand-off that waited for it goes on.
                _lateRefresh = null;
                UnstashAll();
                return true;
            case HandOffWaitOver:
                _handOffWaited = true;
                UnstashAll();
                return true;
            case RetrySave:
                BeginRenewal();
                return true;
            case GetAccessToken msg:
                OnGetAccessTokenWhenIdle(msg);
                return true;
            case RememberLogin msg:
                _toSave = LoginToSave.Of(msg);
                _rememberTo.Add(Sender);
                BeginRenewal();
                return true;
            case SignOut msg:
                BeginSignOut(msg, Sender);
                return true;
            case AccountHandOff:
                OnHandOffWhenIdle();
                return true;
            default:
                return StaleReply(message);
        }
    }

    private void OnGetAccessTokenWhenIdle(GetAccessToken msg)
    {
        var waiter = NewWaiter(msg);
        if (Servable(waiter))
        {
            Sender.Tell(Served());
            return;
        }

        _waiters.Add(waiter);
        BeginRenewal();
    }

    private void OnHandOffWhenIdle()
    {
        // A refresh given up may still answer, with a rotated refresh token nobody else will ever have: the hand-off
        // waits for it (then stores it, below), for a renewal's length at most, as the store's one more try is bounded;
        // and never past the hand-off's deadline (HandOffWait from the first hand-off), which stops the actor in any case.
        if (_lateRefresh is not null && !_handOffWaited)
        {
            if (!Timers.IsTimerActive(HandOffWaitTimer))
            {
                _log.Info("Account {0}: moving; it first waits for the answer of a refresh it gave up, up to {1}", _account, _settings.RenewalTimeout);
                Timers.StartSingleTimer(HandOffWaitTimer, new HandOffWaitOver(), _settings.RenewalTimeout);
            }

            StashMessage();
            return;
        }

        // Nothing under way: the entity may move now, its next incarnation reads the store. Tokens the store has not
        // taken yet get one more try first (a second hand-off, after it, stops whatever the store did).
        if (_unsaved is null || _handingOff)
        {
            Context.Stop(Self);
            return;
        }

        _handingOff = true;
        StashMessage();
        BeginRenewal();
    }

    // ---- serving --------------------------------------------------------------------------------------------------

    /// <summary>Whether the current token answers this waiter without a renewal.</summary>
    private bool Servable(Waiter waiter) => _loaded && _current is not null && Fresh(_current.Tokens) && Answers(_current, waiter);

    /// <summary>
    /// Whether <paramref name="tokens"/> answer this waiter's request, fresh or not: they carry its scopes, and a forced
    /// refresh gets tokens newer than those it saw.
    /// </summary>
    private bool Answers(StoredTokens tokens, Waiter waiter) =>
        (!waiter.Request.Options.ForceRefresh || waiter.SeenVersion is { } seen && tokens.Version > seen)
        && (Covers(tokens.Tokens.Scope, waiter.Request.Scopes) || WereAskedFor(tokens, waiter.Request.Scopes));

    /// <summary>
    /// Whether <paramref name="tokens"/> are what a refresh or a login asked for <paramref name="scopes"/> brought, though
    /// their granted scope does not name them (Entra ID answers <c>api://b/.default</c> with the resource's own scopes,
    /// Google <c>email</c> with its URL; a user may consent to fewer): the next caller asking the same gets them too, not
    /// a refresh per call that could bring nothing else.
    /// </summary>
    private bool WereAskedFor(StoredTokens tokens, IReadOnlyList<string>? scopes) =>
        scopes is { Count: > 0 } && _askedFor is { } asked && ReferenceEquals(asked.Tokens, tokens) && asked.Scopes.Any(set => SameScopes(set, scopes));

    /// <summary>Notes that the current tokens were asked for <paramref name="scopes"/>, when their granted scope does not cover them.</summary>
    private void NoteAskedFor(IReadOnlyList<string>? scopes)
    {
        var current = _current!;
        if (scopes is not { Count: > 0 } || Covers(current.Tokens.Scope, scopes) || WereAskedFor(current, scopes)) return;
        if (_askedFor is not { } asked || !ReferenceEquals(asked.Tokens, current)) _askedFor = asked = (current, []);
        asked.Scopes.Add(scopes);
    }

    /// <summary>The version a caller asking now has seen: the current one, or unknown (null) before the store was read.</summary>
    private long? SeenNow => _loaded ? _current?.Version ?? 0 : null;

    /// <summary>
    /// Valid for more than the refresh margin. The margin is capped at half the token's lifetime when this actor knows
    /// when the token was obtained, at the latest (so a provider whose tokens live shorter than the margin is not
    /// refreshed on every call; see <see cref="_obtainedAt"/>); a token first read from the store has an unknown lifetime
    /// and gets the whole margin, which costs at most one early refresh.
    /// </summary>
    private bool Fresh(TokenSet tokens) => Now < FreshUntil(tokens);

    private DateTimeOffset FreshUntil(TokenSet tokens)
    {
        var expires = ValidUntil(tokens);
        // A token that can be presented nowhere, or one without an expiry, has no margin to keep.
        if (expires == DateTimeOffset.MinValue || expires == DateTimeOffset.MaxValue) return expires;
        var margin = _settings.RefreshMargin;
        if (_obtainedAt is { } obtained && expires - obtained is var lifetime && lifetime > TimeSpan.Zero && lifetime / 2 < margin)
            margin = lifetime / 2;
        return expires - margin;
    }

    /// <summary>Until when the access token can be presented at all: its expiry (none: for good).</summary>
    private static DateTimeOffset ValidUntil(TokenSet tokens) =>
        // A DPoP-bound token read back without its key (a token store that drops TokenSet.DpopKey) can be presented
        // nowhere: as good as expired, so it is renewed (a refresh token bound to the lost key asks for a sign-in).
        tokens.DpopKey is null && string.Equals(tokens.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase) ? DateTimeOffset.MinValue
        : tokens.ExpiresAt ?? DateTimeOffset.MaxValue;

    /// <summary>
    /// The current token as handed out; one instance per stored version, so serving from cache allocates nothing here.
    /// Published to the <see cref="AccountCache"/> when it is made, for callers that need no message at all.
    /// </summary>
    private AccessToken Served()
    {
        if (_served is { } served) return served;
        var tokens = _current!.Tokens;
        served = new AccessToken(_account, tokens.AccessToken, tokens.TokenType, tokens.ExpiresAt, tokens.Scope) { DpopKey = tokens.DpopKey, IdTokenSubject = tokens.IdTokenClaims?.Subject };
        // Not published while a sign-out waits (it withdrew the token: its callers are those who asked before it), nor
        // kept: made again, and published, should the sign-out fail and the tokens stay.
        if (_signOutAhead) return served;
        _served = served;
        _settings.Cache?.Publish(served, FreshUntil(tokens));
        _published = served;
        return served;
    }

    /// <param name="stored">The tokens now current.</param>
    /// <param name="obtained">Whether this actor just obtained them (stored a login or a refresh) rather than read them.</param>
    private void Adopt(StoredTokens? stored, bool obtained = false)
    {
        // Compared whole, not by version alone: after another process signed the account out and in again, the store
        // counts from 1 again, and the new grant's version may be the very one this actor serves the old grant's token of.
        if (!_loaded || !SameCopy(stored, _current))
        {
            _served = null;
            _obtainedAt = obtained ? Now : NewerThanHeld(stored) ? _heldSince : null;
            _heldSince = Now;
        }

        _current = stored;
        if (!_loaded)
        {
            // Callers that asked before the store was read saw this version (or none).
            foreach (var waiter in _waiters) waiter.SeenVersion ??= stored?.Version ?? 0;
        }

        _loaded = true;
        if (stored is null) Withdraw();
        else _ = Served();
    }

    /// <summary>
    /// Whether <paramref name="stored"/>, read from the store, is a copy another process stored over the one this actor
    /// holds. It was obtained after this actor took its own: the store held that one then, and the refresh lock keeps
    /// another process from refreshing between reading the store and writing it (a login it stored may have been issued
    /// earlier, by as long as it waited for the lock). So its lifetime counts from then at the most, and a process
    /// sharing the store does not refresh again the tokens another has just obtained (as it did when their lifetime was
    /// shorter than the whole margin). After another process's sign-out the store counts versions from 1 again: a copy
    /// whose version is not higher is taken as first read.
    /// </summary>
    private bool NewerThanHeld(StoredTokens? stored) => _loaded && _current is { } held && stored is not null && stored.Version > held.Version;

    /// <summary>Takes this actor's published token out of the fast path (only its own: a successor's stays).</summary>
    private void Withdraw()
    {
        _settings.Cache?.Forget(_published);
        _published = null;
    }

    private void ServeWhatCan() => ServeWhere(Servable);

    /// <summary>Serves the current token to the waiters <paramref name="which"/> picks, and forgets them.</summary>
    private void ServeWhere(Func<Waiter, bool> which)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (!which(_waiters[i])) continue;
            _waiters[i].ReplyTo.Tell(Served());
            _waiters.RemoveAt(i);
        }
    }

    /// <summary>
    /// New tokens are current: serves the callers they were asked for and those whose scopes they cover. Callers that
    /// asked for other scopes during the renewal stay, for a refresh of their own.
    /// </summary>
    /// <remarks>
    /// Not <see cref="Servable"/>: tokens just obtained are as fresh as this account's tokens get, so whether they are
    /// within the refresh margin does not matter here (a provider may issue tokens that live shorter than it, and a
    /// caller must not wait for a second refresh that could do no better).
    /// </remarks>
    private void ServeNewTokens()
    {
        var current = _current!;
        // Marked as asked for a caller's scopes only when its token request named them: a caller whose own login request
        // names other scopes (served the login's token, its choice) did not ask the provider for its call's scopes, and a
        // later caller of those must not be served that token from memory.
        foreach (var waiter in _waiters)
            if (waiter.AskedFor && SameOrNone(LoginScopes(waiter.Request), waiter.Request.Scopes)) NoteAskedFor(waiter.Request.Scopes);
        ServeWhere(waiter => waiter.AskedFor || Answers(current, waiter));
    }

    private void FailAll(Exception cause, Func<Waiter, bool>? which = null)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (which is not null && !which(_waiters[i])) continue;
            _waiters[i].ReplyTo.Tell(new Status.Failure(cause));
            _waiters.RemoveAt(i);
        }
    }

    // ---- every state: late answers, back to Idle, the stash -------------------------------------------------------

    /// <summary>Answers of a renewal that was abandoned (timed out): drop them, releasing a lock that arrives late.</summary>
    private bool StaleReply(object message)
    {
        switch (message)
        {
            case CodeExchanged msg when IsLateRefresh(msg.LoginId):
                // Signing out or signed out (Idle, Renewing and Interacting keep it): nothing will hold these tokens, and
                // they are live at the provider. Revoked, nobody waiting, unless the account's tokens share one with them.
                _lateRefresh = null;
                RevokeUnheld(msg.Tokens, _current?.Tokens, "revoke-late");
                return true;
            case CodeExchangeFailed msg when IsLateRefresh(msg.LoginId):
                _lateRefresh = null;
                return true;
            case Locked msg:
                Release(msg.Handle);
                return true;
            case SignOutLocked msg:
                Release(msg.Handle);
                return true;
            // The store's late answers to a sign-out step that timed out, and a revocation answered after it.
            case SignOutLoaded or SignOutLoadFailed or SignOutRemoved or SignOutRemoveFailed or RevocationDone:
                return true;
            case Loaded or Saved or StoreFailed or RenewalTimedOut or CodeExchanged or CodeExchangeFailed or InteractiveDone or ProviderSessionEnded:
            // A caller of a login that has ended cancelled, or its own deadline passed.
            case CallerCancelled or JoinedCallerTimedOut:
            // Outside Idle the renewal under way (or the next one, when back to Idle) stores the kept tokens.
            case RetrySave:
                return true;
            // Outside Idle: the hand-off waiting in the stash goes on once this state is over (back to Idle, unstashed).
            case HandOffWaitOver:
                _handOffWaited = true;
                return true;
            // In every state: the hand-off has lasted as long as sharding was told it may (see AroundReceive).
            case HandOffDeadlineReached:
                _log.Warning("Account {0}: moving, it did not finish what it was doing within {1}; it stops now", _account, _settings.HandOffWait);
                Context.Stop(Self);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Idle again, after the logins queued behind the last renewal (they came before anything stashed).</summary>
    private void BackToIdle()
    {
        if (_unsaved is not null && !Timers.IsTimerActive(SaveRetryTimer)) ScheduleSaveRetry();
        if (TakeQueuedLogin())
        {
            // Store the newest of them now and answer them all.
            BeginRenewal();
            return;
        }

        BecomeIdle();
        UnstashAll();
    }

    /// <summary>
    /// A sign-out waits for the renewal or login under way: a login its end would start for callers it does not cover is
    /// not started (NeedsInteraction), and from now on the token is served to nobody, here or on the fast path: callers
    /// are told the account is signing out, as once the sign-out has begun, instead of taking the token it removes. A
    /// back-channel logout naming a session is conditional: until its check the account stays as signed in as before.
    /// </summary>
    private void StashSignOut(SignOut request)
    {
        if (request.Session is null)
        {
            _signOutAhead = true;
            Withdraw();
        }
        StashMessage();
    }

    private void StashMessage()
    {
        Stash.Stash();
        _stashed++;
    }

    /// <summary>Stashes a given-up refresh's late answer (a login may go ahead of it: <see cref="NothingStashedAheadOfALogin"/>).</summary>
    private void StashLateRefresh()
    {
        StashMessage();
        _lateRefreshesStashed++;
    }

    /// <summary>
    /// Whether a login that ended may be taken ahead of the stash: nothing waits there that it must follow (a sign-out,
    /// a move, an earlier login), only late refresh answers, which a newer login supersedes.
    /// </summary>
    private bool NothingStashedAheadOfALogin => _stashed == _lateRefreshesStashed;

    private void UnstashAll()
    {
        _stashed = 0;
        _lateRefreshesStashed = 0;
        _signOutAhead = false;
        _handOffStashed = false;
        Stash.UnstashAll();
    }
}
