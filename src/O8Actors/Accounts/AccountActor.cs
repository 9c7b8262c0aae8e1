using Akka.Actor;
using Akka.Event;
using O8Actors.Diagnostics;
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
/// stored by the next renewal (a timer with backoff starts one), never dropped for the spent ones.</para>
/// <para><b>Interacting</b>: the refresh token is missing or refused (<c>invalid_grant</c>) and a caller allows the
/// browser: one interactive login runs for all of them; callers that do not allow it fail at once with
/// <see cref="InteractionRequiredException"/>. The login runs in the flows supervisor, not under this actor: should this
/// actor stop before it ends (its cluster entity moves, or it fails), the login goes on without it, and its tokens and
/// its callers go to the account's next actor (see <see cref="HandOverLogin"/>).</para>
/// <para><b>Signing out</b>: revoke at the provider, remove from the store, answer, then ask the parent to retire this
/// actor; what reaches it afterwards goes back to the parent, which starts a fresh actor. A back-channel logout naming a
/// session first reads the stored tokens to learn whether they are of it, serving the current token meanwhile. A removal
/// the store fails fails the sign-out, and the actor stays to serve the tokens to nobody and retry the removal.</para>
/// <para>Each state is a method that matches on the message's type, and every state's delegate is made once: an account's
/// actor changes state twice per login it remembers, and rebuilding a <c>ReceiveActor</c>'s handler table each time was
/// about 3% of a process's CPU at 256 concurrent logins (2026-12-03, <c>perf</c>).</para>
/// </remarks>
internal sealed class AccountActor : ActorBase, IWithTimers, IWithStash
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
    // When this actor obtained the current tokens (a login it stored, a refresh it ran); null when it read them from the
    // store, where their lifetime is unknown.
    private DateTimeOffset? _obtainedAt;
    private AccessToken? _served;
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
    private TokenSet? _toSave;
    // _toSave's RememberLogin.OrphanedOver: set whenever _toSave is, so it always describes the login to save.
    private long? _toSaveOver;
    // Who waits for _toSave to be stored (several when logins of this account ended while a renewal ran).
    private readonly List<IActorRef> _rememberTo = [];
    // Logins of this account that ended during a renewal, with nothing stashed before them: the newest one's tokens and
    // every caller waiting. The next renewal stores those tokens once and answers them all, instead of one lock, load
    // and save each (and instead of stashing them, which re-stashed every waiting login after each renewal: quadratic in
    // the number of logins of one account at once, measured as 9% of a process's CPU at 256 concurrent logins of one user).
    private TokenSet? _queuedTokens;
    private long? _queuedOver;
    private readonly List<IActorRef> _queuedRememberers = [];
    // Messages in the stash: a remember may only be queued (jump ahead of the stash) while it is empty.
    private int _stashed;
    private string? _loginId;
    private AuthorizationRequest? _loginRequest;
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
    }
    private sealed record Locked(int Generation, IAsyncDisposable Handle);
    private sealed record Loaded(int Generation, StoredTokens? Stored);
    private sealed record Saved(int Generation, TokenSet Tokens, long? Version);
    // The store's exceptions are the app's (its ITokenStore) and may quote what it stored: these print their type only.
    private sealed record StoreFailed(int Generation, Exception Cause)
    {
        public override string ToString() => $"StoreFailed {{ Generation = {Generation}, Cause = {Printed.TypeOf(Cause)} }}";
    }
    private sealed record RenewalTimedOut(int Generation);
    private sealed record InteractiveDone(int Generation, LoginOutcome Outcome);
    /// <summary>One sign-out (or one removal retry): the store's answers carry it, so a late answer of an abandoned one is told apart.</summary>
    private sealed class Attempt;
    private sealed record SignOutLoaded(Attempt Attempt, StoredTokens? Stored);
    private sealed record SignOutLoadFailed(Attempt Attempt, Exception Cause, bool Locking = false)
    {
        public override string ToString() => $"SignOutLoadFailed {{ Cause = {Printed.TypeOf(Cause)}, Locking = {Locking} }}";
    }
    private sealed record SignOutLocked(Attempt Attempt, IAsyncDisposable Handle);
    private sealed record SignOutRemoved(Attempt Attempt, SignOutResult Answer);
    private sealed record SignOutRemoveFailed(Attempt Attempt, SignOutResult Revoked, Exception Cause)
    {
        public override string ToString() => $"SignOutRemoveFailed {{ Revoked = {Revoked}, Cause = {Printed.TypeOf(Cause)} }}";
    }
    private sealed record RetryRemove;
    /// <param name="Attempt">The retry it answers.</param>
    /// <param name="Cause">Why the retry failed; null when it did not.</param>
    /// <param name="Replaced">The store held other tokens than the signed-out copy (another process stored them since): left there.</param>
    private sealed record RemoveRetried(Attempt Attempt, Exception? Cause, bool Replaced = false)
    {
        public override string ToString() => $"RemoveRetried {{ Cause = {Printed.TypeOf(Cause)}, Replaced = {Replaced} }}";
    }
    private sealed record RetrySave;
    /// <summary>A hand-off has waited its renewal's length for a refresh given up to answer: it goes on without it.</summary>
    private sealed record HandOffWaitOver;
    /// <summary>A hand-off has lasted <see cref="AccountSettings.HandOffWait"/>: the actor stops, whatever is still under way.</summary>
    private sealed record HandOffDeadlineReached;
    /// <summary>A refresh given up: its id, the stored copy it replaces (whose refresh token it spent) and the scopes it asked for.</summary>
    private sealed record LateRefresh(string Id, StoredTokens Over, IReadOnlyList<string>? Scopes);

    /// <summary>Sent to the parent once signed out: it stops routing here and retires this actor.</summary>
    internal sealed record Forgotten(OAuthAccount Account);

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
                _toSave = msg.Tokens;
                _toSaveOver = msg.OrphanedOver;
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
        var waiter = new Waiter(msg, Sender, SeenNow);
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
    private static bool Answers(StoredTokens tokens, Waiter waiter) =>
        (!waiter.Request.Options.ForceRefresh || waiter.SeenVersion is { } seen && tokens.Version > seen) && Covers(tokens.Tokens.Scope, waiter.Request.Scopes);

    /// <summary>The version a caller asking now has seen: the current one, or unknown (null) before the store was read.</summary>
    private long? SeenNow => _loaded ? _current?.Version ?? 0 : null;

    /// <summary>
    /// Valid for more than the refresh margin. The margin is capped at half the token's lifetime when this actor obtained
    /// the token itself (so a provider whose tokens live shorter than the margin is not refreshed on every call); a token
    /// read from the store has an unknown lifetime and gets the whole margin, which costs at most one early refresh.
    /// </summary>
    private bool Fresh(TokenSet tokens) => Now < FreshUntil(tokens);

    private DateTimeOffset FreshUntil(TokenSet tokens)
    {
        // A DPoP-bound token read back without its key (a token store that drops TokenSet.DpopKey) can be presented
        // nowhere: as good as expired, so it is renewed (a refresh token bound to the lost key asks for a sign-in).
        if (tokens.DpopKey is null && string.Equals(tokens.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase)) return DateTimeOffset.MinValue;
        if (tokens.ExpiresAt is not { } expires) return DateTimeOffset.MaxValue;
        var margin = _settings.RefreshMargin;
        if (_obtainedAt is { } obtained && expires - obtained is var lifetime && lifetime > TimeSpan.Zero && lifetime / 2 < margin)
            margin = lifetime / 2;
        return expires - margin;
    }

    /// <summary>
    /// Whether the granted scope holds every requested one (an unknown granted scope is taken as covering). Split on
    /// spaces (RFC 6749 section 3.3) and on commas, which some providers answer with (GitHub's <c>repo,gist</c>).
    /// </summary>
    private static bool Covers(string? granted, IReadOnlyList<string>? requested)
    {
        if (requested is not { Count: > 0 } || string.IsNullOrWhiteSpace(granted)) return true;
        var have = granted.Split(ScopeSeparators, StringSplitOptions.RemoveEmptyEntries);
        return requested.All(s => have.Contains(s, StringComparer.Ordinal));
    }

    private static readonly char[] ScopeSeparators = [' ', ','];

    /// <summary>
    /// The current token as handed out; one instance per stored version, so serving from cache allocates nothing here.
    /// Published to the <see cref="AccountCache"/> when it is made, for callers that need no message at all.
    /// </summary>
    private AccessToken Served()
    {
        if (_served is { } served) return served;
        var tokens = _current!.Tokens;
        served = _served = new AccessToken(_account, tokens.AccessToken, tokens.TokenType, tokens.ExpiresAt, tokens.Scope) { DpopKey = tokens.DpopKey, IdTokenSubject = tokens.IdTokenClaims?.Subject };
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
            _obtainedAt = obtained ? Now : null;
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

    // ---- renewing -------------------------------------------------------------------------------------------------

    private void BeginRenewal()
    {
        Context.SetReceiveTimeout(null);
        var generation = ++_generation;
        _refreshId = null;
        _overtime = false;
        Become(_renewing);
        _renewalEnds = Now + _settings.RenewalTimeout;
        Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(generation), _settings.RenewalTimeout);
        var store = _store;
        var account = _account;
        var lockWait = _settings.LockWait;
        _locks.LockAsync(store, account, lockWait).PipeTo(Self,
            success: handle => new Locked(generation, handle),
            failure: e => new StoreFailed(generation, e));
    }

    private bool Renewing(object message)
    {
        switch (message)
        {
            case GetAccessToken msg:
                _waiters.Add(new Waiter(msg, Sender, SeenNow));
                return true;
            case RememberLogin msg:
                OnRememberWhileRenewing(msg);
                return true;
            case SignOut:
            // Moving only once the renewal is over (back in Idle): its answer may carry a rotated refresh token.
            case AccountHandOff:
                StashMessage();
                return true;
            case Locked msg:
                OnLocked(msg);
                return true;
            case Loaded msg when msg.Generation == _generation:
                OnLoaded(msg.Stored);
                return true;
            case CodeExchanged msg when msg.LoginId == _refreshId:
                LeaveOvertime();
                OnRefreshed(msg);
                return true;
            case CodeExchangeFailed msg when msg.LoginId == _refreshId:
                LeaveOvertime();
                OnRefreshFailed(msg);
                return true;
            case Saved msg when msg.Generation == _generation:
                LeaveOvertime();
                OnSaved(msg);
                return true;
            case StoreFailed msg when msg.Generation == _generation:
                LeaveOvertime();
                OnStoreFailed(msg);
                return true;
            case RenewalTimedOut msg when msg.Generation == _generation:
                if (_overtime) OnOvertimeEnded();
                else OnRenewalTimedOut();
                return true;
            // A refresh given up by an earlier renewal answers now: kept once this renewal is over (back in Idle).
            case CodeExchanged msg when IsLateRefresh(msg.LoginId):
                StashMessage();
                return true;
            default:
                return StaleReply(message);
        }
    }

    private void OnRememberWhileRenewing(RememberLogin msg)
    {
        if (_stashed > 0)
        {
            StashMessage();
            return;
        }

        // The newest login's tokens are stored, but an outlived login's never in place of an ordinary one (the app's own, say,
        // after a sign-out): the outlived login's are dropped should the account have been signed out since it began, and
        // must not take an ordinary login down with them.
        if (_queuedTokens is null || msg.OrphanedOver is null)
        {
            _queuedTokens = msg.Tokens;
            _queuedOver = msg.OrphanedOver;
        }

        _queuedRememberers.Add(Sender);
        _log.Debug("Account {0}: a login ended during a renewal; its tokens are stored after it", _account);
    }

    private void OnLocked(Locked msg)
    {
        if (msg.Generation != _generation)
        {
            Release(msg.Handle);
            return;
        }

        _lock = msg.Handle;
        Load(msg.Generation);
    }

    private void OnRefreshed(CodeExchanged msg)
    {
        _refreshId = null;
        SaveIssued(Refreshed(msg.Tokens, _current!.Tokens, _refreshScopes), _current);
    }

    /// <summary>A refresh's answer completed from the tokens it replaces (<paramref name="previous"/>) and the scopes it asked for.</summary>
    private static TokenSet Refreshed(TokenSet answer, TokenSet previous, IReadOnlyList<string>? askedScopes)
    {
        // A refresh response may leave out what did not change: the refresh token (handled by the token reader),
        // the ID token and its claims (they identify the account, which has not changed).
        var tokens = answer.IdToken is null
            ? answer with { IdToken = previous.IdToken, IdTokenClaims = previous.IdTokenClaims }
            : answer;
        // Without a scope the answer grants what was asked (RFC 6749 section 5.1), and a refresh that named none asks for
        // the grant's own (section 6): keep that, or the token would be taken as covering any scope a caller names.
        if (tokens.Scope is null && (askedScopes is { Count: > 0 } asked ? string.Join(' ', asked) : previous.Scope) is { } granted)
            tokens = tokens with { Scope = granted };
        return tokens;
    }

    private void OnRefreshFailed(CodeExchangeFailed msg)
    {
        _refreshId = null;
        if (msg.Cause is NotSupportedException)
        {
            NeedsInteraction(InteractionReason.NoRefreshToken, $"The provider '{_account.Provider}' does not refresh tokens; {_account} must sign in again.");
            return;
        }

        if (msg.Cause is TokenExchangeException { NoDpopKey: true })
        {
            NeedsInteraction(InteractionReason.NoDpopKey,
                $"No DPoP key is stored for {_account}, but the provider '{_account.Provider}' binds its tokens with DPoP (stored before DPoP " +
                "was turned on, or by a token store that drops TokenSet.DpopKey): the refresh token was not sent unbound; sign in again.");
            return;
        }

        if (msg.ProviderError == "invalid_grant")
        {
            NeedsInteraction(InteractionReason.RefreshRefused,
                $"The provider '{_account.Provider}' refused the refresh token of {_account} (invalid_grant: revoked, expired or already used); sign in again.");
            return;
        }

        FailAll(RefreshException(msg));
        EndRenewal();
    }

    private void OnStoreFailed(StoreFailed msg)
    {
        _log.Warning("Account {0}: the token store failed ({1})", _account, msg.Cause.GetType().Name);
        var cause = new AuthorizationFailedException(LoginFailure.Internal,
            $"The token store failed for {_account}: {msg.Cause.GetType().Name}.");
        KeepIssued();
        // Callers that came during the renewal and whom the current tokens serve (kept ones among them) get them.
        ServeWhatCan();
        FailAll(cause);
        FailRemember(cause);
        EndRenewal();
    }

    private void OnRenewalTimedOut()
    {
        _log.Warning("Account {0}: the renewal did not finish within {1}", _account, _settings.RenewalTimeout);
        var inFlight = _refreshId is not null || _issuedSave is not null;
        // A save that hangs is a store that failed: tokens the provider issued are kept all the same.
        KeepIssued();
        FailTimedOut();
        if (inFlight)
        {
            // The callers have their answer; the refresh (or the save of what it issued) goes on. Its answer is taken as
            // this renewal's, under the lock still held: the provider may answer after the deadline it was sent with (a
            // slow endpoint, a starved thread pool), and dropping that answer would lose the rotated refresh token.
            _overtime = true;
            _log.Warning("Account {0}: its refresh or save is still under way; the refresh lock is held for it up to {1} more", _account, _settings.OvertimeWait);
            Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(_generation), _settings.OvertimeWait);
            return;
        }

        _generation++;
        EndRenewal();
    }

    /// <summary>Fails the callers and logins waiting for a renewal that passed its deadline.</summary>
    private void FailTimedOut()
    {
        var cause = new AuthorizationFailedException(LoginFailure.ExchangeTimeout,
            $"Renewing the tokens of {_account} did not finish within {_settings.RenewalTimeout.TotalSeconds:0} seconds.");
        FailAll(cause);
        FailRemember(cause);
    }

    /// <summary>
    /// The refresh or save a renewal went on for after its deadline answered: what follows (storing a refresh's tokens,
    /// a round for callers who came meanwhile) is a renewal with a deadline of its own.
    /// </summary>
    private void LeaveOvertime()
    {
        if (!_overtime) return;
        _overtime = false;
        _renewalEnds = Now + _settings.RenewalTimeout;
        Timers.StartSingleTimer(RenewalTimer, new RenewalTimedOut(_generation), _settings.RenewalTimeout);
    }

    /// <summary>
    /// The overtime passed without an answer: the lock is released (a store or provider that never answers must not keep
    /// it). A refresh still unanswered is remembered, so that its tokens are kept should it answer after all.
    /// </summary>
    private void OnOvertimeEnded()
    {
        _overtime = false;
        _log.Warning("Account {0}: its refresh or save did not answer within {1} past the renewal's deadline; the refresh lock is released",
            _account, _settings.OvertimeWait);
        if (_refreshId is { } id && _current is { } over) _lateRefresh = new LateRefresh(id, over, _refreshScopes);
        KeepIssued();
        FailTimedOut();
        _generation++;
        EndRenewal();
    }

    private bool IsLateRefresh(string requestId) => _lateRefresh is { } late && late.Id == requestId;

    /// <summary>
    /// The answer of a refresh given up (its renewal's lock released) came: its tokens are kept as tokens the store failed
    /// to take are (current here, stored over the copy the refresh replaced if the store still holds it), and a renewal
    /// stores them now. Not when this actor has moved on from that copy (a login stored, another process's tokens read).
    /// </summary>
    private void OnLateRefreshWhenIdle(CodeExchanged msg, LateRefresh late)
    {
        _lateRefresh = null;
        if (_unsaved is not null || !SameCopy(_current, late.Over))
        {
            _log.Warning("Account {0}: a refresh given up answered after this account moved on to other tokens; its tokens are dropped", _account);
            UnstashAll(); // a hand-off that waited for it goes on
            return;
        }

        _log.Warning("Account {0}: a refresh given up answered late; its tokens are kept and stored now", _account);
        Keep(Refreshed(msg.Tokens, late.Over.Tokens, late.Scopes), late.Over);
        BeginRenewal();
    }

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

    private void Load(int generation)
    {
        var store = _store;
        var account = _account;
        store.LoadAsync(account).PipeTo(Self,
            success: stored => new Loaded(generation, stored),
            failure: e => new StoreFailed(generation, e));
    }

    private void OnLoaded(StoredTokens? stored)
    {
        DropLoginIfSignedOut(stored);
        if (_unsaved is { } unsaved)
        {
            if (StillReplaces(stored))
            {
                // The store still holds what they replace (so _current, which is they, stays): store them now, or a
                // login's tokens in their place.
                if (_toSave is { } newer) SaveLogin(newer, _unsavedOver);
                else SaveIssued(unsaved, _unsavedOver);
                return;
            }

            if (_toSave is null)
                _log.Warning("Account {0}: the tokens kept since the store failed are dropped, the store no longer holds the tokens they replace", _account);
            RevokeDropped(unsaved, stored);
            ForgetUnsaved();
            // Their version here is the one they would have had in the store: take the store's copy afresh.
            _loaded = false;
        }

        Adopt(stored);
        if (_toSave is { } login)
        {
            SaveLogin(login, stored);
            return;
        }

        ContinueRenewal();
    }

    /// <summary>With the current tokens known: serve who they serve, then refresh for the others (or sign in again).</summary>
    private void ContinueRenewal()
    {
        // Another process (or an earlier renewal) may have stored a newer token while this one waited for the lock.
        ServeWhatCan();
        if (_waiters.Count == 0)
        {
            EndRenewal();
            return;
        }

        if (_current is null)
        {
            NeedsInteraction(InteractionReason.NoAccount, $"No tokens are stored for {_account}; sign in first.");
            return;
        }

        if (!_current.Tokens.CanRefresh)
        {
            NeedsInteraction(InteractionReason.NoRefreshToken, $"The access token of {_account} expired and the provider issued no refresh token; sign in again.");
            return;
        }

        _refreshId = $"refresh-{_generation}-{FlowSecrets.RandomToken(6)}";
        var scopes = _refreshScopes = RefreshScopes();
        // Dropped unsent by the provider actor when it would be answered after this renewal gave up (its queue can be long).
        _providers.Tell(new RefreshTokens(_account.Provider, _refreshId, _current.Tokens.RefreshToken!, scopes, _current.Tokens.DpopKey,
            ExchangeTimeouts.RefreshDeadline(_renewalEnds, _settings.ExchangeTimeout)) { PreviousIdToken = _current.Tokens.IdTokenClaims });
    }

    /// <summary>
    /// The scopes this round's refresh asks for: those of the first caller that named scopes (null, the grant's own, when
    /// none did). Each caller that asked for the same set is marked as asked for; callers that asked for other scopes
    /// are served by the answer only if it covers them, else renewed for in a round of their own: one refresh per
    /// distinct set of scopes, never a union, which a provider may refuse (Entra ID takes the scopes of one resource per
    /// request).
    /// </summary>
    private IReadOnlyList<string>? RefreshScopes()
    {
        IReadOnlyList<string>? scopes = null;
        foreach (var waiter in _waiters)
        {
            if (waiter.Request.Scopes is { Count: > 0 } named)
            {
                scopes = named;
                break;
            }
        }

        foreach (var waiter in _waiters) waiter.AskedFor = WantsScopes(waiter.Request, scopes);
        return scopes;
    }

    /// <summary>
    /// Whether a token request that asks for <paramref name="asked"/> (null: the grant's own) is made for this caller: it
    /// named the same scopes, in any order, or named none and the request names none.
    /// </summary>
    private static bool WantsScopes(GetAccessToken request, IReadOnlyList<string>? asked) => SameOrNone(request.Scopes, asked);

    /// <summary>Whether a login asking for <paramref name="asked"/> is the one this caller's own would be (<see cref="LoginScopes"/>).</summary>
    private static bool WantsLogin(GetAccessToken request, IReadOnlyList<string>? asked) => SameOrNone(LoginScopes(request), asked);

    /// <summary>
    /// The scopes a login started for this caller asks for: its own login request's, else those it wants a token for;
    /// null when it names neither.
    /// </summary>
    private static IReadOnlyList<string>? LoginScopes(GetAccessToken request) =>
        request.Options.Login?.Scopes ?? (request.Scopes is { Count: > 0 } scopes ? scopes : null);

    /// <summary>The same scopes in any order; no scopes (null or empty) on both sides counts as the same.</summary>
    private static bool SameOrNone(IReadOnlyList<string>? named, IReadOnlyList<string>? asked) =>
        named is not { Count: > 0 } ? asked is not { Count: > 0 } : SameScopes(named, asked);

    private static bool SameScopes(IReadOnlyList<string> named, IReadOnlyList<string>? asked) =>
        asked is not null && named.All(s => asked.Contains(s, StringComparer.Ordinal)) && asked.All(s => named.Contains(s, StringComparer.Ordinal));

    /// <summary>
    /// Saves a login's tokens: those of an interactive renewal, and those of a login that outlived the account's earlier
    /// actor (nobody else has them: on a cluster its remember comes through the entity's ask, but no caller waits for it),
    /// are kept should the store fail.
    /// </summary>
    /// <param name="tokens">The login's tokens.</param>
    /// <param name="over">The stored copy they replace (null: nothing stored).</param>
    private void SaveLogin(TokenSet tokens, StoredTokens? over)
    {
        if (_toSaveOver is not null || _rememberTo.All(caller => caller.IsNobody())) SaveIssued(tokens, over);
        else Save(tokens, over?.Version ?? 0);
    }

    /// <summary>Saves tokens the provider issued for this actor's callers; kept in memory should the store fail.</summary>
    /// <param name="tokens">The issued tokens.</param>
    /// <param name="over">The stored copy they replace (null: nothing stored).</param>
    private void SaveIssued(TokenSet tokens, StoredTokens? over)
    {
        _issuedSave = (tokens, over);
        Save(tokens, over?.Version ?? 0);
    }

    /// <summary>
    /// The store failed (or hung) while saving tokens the provider had just issued: they become current here and the
    /// callers get them; the next renewal stores them (see <see cref="_unsaved"/>). A retry of tokens already kept that
    /// fails again changes nothing.
    /// </summary>
    private void KeepIssued()
    {
        if (_issuedSave is not { } issued) return;
        _issuedSave = null;
        if (ReferenceEquals(issued.Tokens, _unsaved)) return;
        Keep(issued.Tokens, issued.Over);
        _toSave = null;
        _toSaveOver = null;
        _rememberTo.Clear();
        _log.Warning("Account {0}: the token store did not take the new tokens; they are served from memory and stored again later", _account);
        ServeNewTokens();
    }

    /// <summary>
    /// Kept tokens dropped because the store no longer holds what they replace: another process signed the account out
    /// (it could revoke only the spent copy it read) and maybe in again (the store counts from 1 again, so at most the
    /// version they replace). They are live at the provider and nothing holds them after this, so they are revoked
    /// (RFC 7009), nobody waiting for the answer. Not when the store has moved past that version: the kept tokens may
    /// have reached it after all (a save that hung, then landed) and another process refreshed with them, and revoking
    /// them would end its live grant (RFC 7009 section 2.1); nor when the stored copy shares a token with them.
    /// </summary>
    private void RevokeDropped(TokenSet dropped, StoredTokens? stored)
    {
        var revoke = RevokeTokens.Of(dropped);
        if (revoke.Count == 0) return;
        if (stored is { Tokens: var held } && (stored.Version > (_unsavedOver?.Version ?? 0)
            || revoke.Any(r => r.Token == held.RefreshToken || r.Token == held.AccessToken)))
            return;
        _providers.Tell(new RevokeTokens(_account.Provider, $"revoke-dropped-{FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
    }

    /// <summary>Makes issued tokens the store has not taken current here, to be stored over <paramref name="over"/> (see <see cref="_unsaved"/>).</summary>
    private void Keep(TokenSet tokens, StoredTokens? over)
    {
        _unsaved = tokens;
        _unsavedOver = over;
        // The version they will have once stored: a force-refresh caller that saw them asks for newer ones.
        Adopt(new StoredTokens(tokens, (over?.Version ?? 0) + 1), obtained: true);
    }

    private void ForgetUnsaved()
    {
        _unsaved = null;
        _unsavedOver = null;
        _saveRetries = 0;
        Timers.Cancel(SaveRetryTimer);
    }

    /// <summary>
    /// Whether the store still holds what the kept tokens replace: the same version and the same tokens (by value: a store
    /// hands back copies). A version alone is not enough: after another process's sign-out and new sign-in the store
    /// counts its versions again from 1.
    /// </summary>
    private bool StillReplaces(StoredTokens? stored) => SameCopy(stored, _unsavedOver);

    /// <summary>Two reads of the store that hold the same copy: the same version and the same tokens (by value: a store hands back copies).</summary>
    private static bool SameCopy(StoredTokens? a, StoredTokens? b) => (a, b) switch
    {
        (null, null) => true,
        ({ } x, { } y) => x.Version == y.Version
            && string.Equals(x.Tokens.AccessToken, y.Tokens.AccessToken, StringComparison.Ordinal)
            && string.Equals(x.Tokens.RefreshToken, y.Tokens.RefreshToken, StringComparison.Ordinal),
        _ => false,
    };

    private void ScheduleSaveRetry()
    {
        var delay = RetryDelay(_saveRetries);
        _saveRetries++;
        Timers.StartSingleTimer(SaveRetryTimer, new RetrySave(), delay);
    }

    private void Save(TokenSet tokens, long expectedVersion)
    {
        var generation = _generation;
        var store = _store;
        var account = _account;
        var saving = store.SaveAsync(account, tokens, expectedVersion);
        _saveInFlight = saving;
        saving.PipeTo(Self,
            success: version => new Saved(generation, tokens, version),
            failure: e => new StoreFailed(generation, e));
    }

    private void OnSaved(Saved msg)
    {
        _issuedSave = null;
        if (msg.Version is not { } version)
        {
            // Someone wrote without the lock (or a store without locking): the stored copy is newer than the one this
            // renewal read. Read it again; a login's tokens are then saved over it, a refresh's are dropped for it.
            _log.Info("Account {0}: the stored tokens changed during the renewal; reading them again", _account);
            Load(_generation);
            return;
        }

        // Whatever was saved replaced what kept tokens would have: they are stored, or a login's tokens superseded them.
        var wasKept = ReferenceEquals(msg.Tokens, _unsaved);
        if (_unsaved is not null) ForgetUnsaved();
        Adopt(new StoredTokens(msg.Tokens, version), obtained: true);
        if (_toSave is not null)
        {
            foreach (var caller in _rememberTo) caller.Tell(new LoginRemembered(_account, version));
            _toSave = null;
            _toSaveOver = null;
            _rememberTo.Clear();
        }

        if (wasKept)
        {
            _log.Info("Account {0}: the tokens kept since the store failed are stored", _account);
            ContinueRenewal();
            return;
        }

        // Callers that asked for other scopes meanwhile get a refresh of their own, under the same lock.
        ServeNewTokens();
        ContinueRenewal();
    }

    private void EndRenewal()
    {
        _refreshId = null;
        _overtime = false;
        Timers.Cancel(RenewalTimer);
        ReleaseLock();
        BackToIdle();
    }

    /// <summary>Makes the login queued during the renewal (its newest tokens, all its callers) the one to save; false when none is.</summary>
    private bool TakeQueuedLogin()
    {
        if (_queuedTokens is not { } newest) return false;
        _toSave = newest;
        _toSaveOver = _queuedOver;
        _rememberTo.AddRange(_queuedRememberers);
        _queuedTokens = null;
        _queuedOver = null;
        _queuedRememberers.Clear();
        return true;
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

    private void StashMessage()
    {
        Stash.Stash();
        _stashed++;
    }

    private void UnstashAll()
    {
        _stashed = 0;
        Stash.UnstashAll();
    }

    private void ReleaseLock()
    {
        if (_lock is { } held)
        {
            // A save still in flight (its renewal timed out, or the actor stops at its hand-off deadline) keeps the lock
            // until it lands: the next holder, this account's successor on another node among them, would otherwise read
            // the copy it replaces and spend that refresh token again. Bounded by a store call's wait, so a hung store
            // does not keep the account locked for good.
            if (_saveInFlight is { IsCompleted: false } saving)
            {
                Task.WhenAny(saving, Task.Delay(_settings.StoreCallWait)).ContinueWith(_ => Release(held),
                    CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            else Release(held);
        }

        _lock = null;
    }

    private void Release(IAsyncDisposable handle)
    {
        var log = _log;
        var account = _account;
        // Releasing is quick (a semaphore, closing a lock file); a failure is logged, never awaited on the actor.
        handle.DisposeAsync().AsTask().ContinueWith(
            t => log.Warning("Account {0}: releasing the refresh lock failed ({1})", account, t.Exception?.InnerException?.GetType().Name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void FailRemember(Exception cause)
    {
        foreach (var caller in _rememberTo) caller.Tell(new Status.Failure(cause));
        _rememberTo.Clear();
        _toSave = null;
        _toSaveOver = null;
    }

    /// <summary>Fails the logins queued behind the current renewal (the actor stops before it could store them).</summary>
    private void FailQueuedRemembers(Exception cause)
    {
        foreach (var caller in _queuedRememberers) caller.Tell(new Status.Failure(cause));
        _queuedTokens = null;
        _queuedOver = null;
        _queuedRememberers.Clear();
    }

    private OAuthFlowException RefreshException(CodeExchangeFailed failed) => failed.Failure switch
    {
        LoginFailure.UnknownProvider => new UnknownProviderException(_account.Provider),
        LoginFailure.ExchangeQueueFull => new ProviderBusyException(failed.Reason),
        LoginFailure.ProviderUnavailable or LoginFailure.Internal => new AuthorizationFailedException(failed.Failure, failed.Reason),
        // Without the strategy's own exception (the reason names its type): should the caller's Ask have timed out,
        // this failure goes to dead letters, which Akka logs with the exception's full text, and an app's exception may
        // quote a token response. A login's failure (LoginFailureExceptions) and a caller on another node
        // (WireAccountFailure) do not carry it either. O8Actors' own verdicts keep their type as the inner exception,
        // made afresh from the reason (O8Actors' own words), so a caller can still tell a refused ID token apart.
        _ => new TokenExchangeException(failed.Reason, failed.ProviderError, OwnVerdict(failed)),
    };

    /// <summary>The inner exception a refresh's caller gets: O8Actors' own verdict, rebuilt from its reason; never an app's exception.</summary>
    private static Exception? OwnVerdict(CodeExchangeFailed failed) => failed.Failure switch
    {
        LoginFailure.IdTokenInvalid => new IdTokenValidationException(failed.Reason),
        LoginFailure.ExchangeTimeout => new TimeoutException(failed.Reason),
        _ => null,
    };

    // ---- interactive login ----------------------------------------------------------------------------------------

    private void NeedsInteraction(InteractionReason reason, string message)
    {
        if (TakeQueuedLogin() && !DropLoginIfSignedOut(_current))
        {
            // A login of this account ended during this renewal: its tokens are what a new sign-in would bring. Store
            // them and serve the callers with them (the next round refreshes with them for those they do not cover),
            // rather than open a browser and then store the older login over the newer one. It was made for none of them:
            // the refused refresh's marks would hand its tokens to callers whose scopes they lack.
            foreach (var waiter in _waiters) waiter.AskedFor = false;
            SaveLogin(_toSave!, _current);
            return;
        }

        // Callers of a login that outlived the account's earlier actor, whose tokens were dropped: no browser for them.
        FailAll(SignedOutMeanwhile(), w => SignedOutSince(w.Request.OrphanedOver, _current));
        FailAll(new InteractionRequiredException(_account, reason, message), w => !w.Request.Options.AllowInteraction);
        if (_waiters.Count == 0)
        {
            EndRenewal();
            return;
        }

        var first = _waiters[0].Request;
        // The caller's login request was copied when it asked (LoginClient.GetAccessTokenAsync, or the wire from another node).
        var request = (first.Options.Login ?? AuthorizationRequest.Default) with { AccountKey = _account.Key, Scopes = LoginScopes(first) };
        // Every caller still here waits for this login. It is made for the first (its scopes are the login's) and for those
        // whose own login would ask for the same scopes, and they get its tokens; the others get them only if they cover their scopes, else a round
        // of their own.
        foreach (var waiter in _waiters) waiter.AskedFor = WantsLogin(waiter.Request, request.Scopes);
        if (_settings.ServerMode && UnboundLogins.MayUseBrowser(request, _settings.Login.Method))
        {
            // Server mode: this actor has no browser to bind the login to, and an unbound one would accept its callback
            // from any browser (the flows supervisor refuses it). Only the app can sign the user in again, from the
            // user's own request: say so, as to a silent caller.
            FailAll(new InteractionRequiredException(_account, reason,
                $"{message} In server mode an account cannot sign in again by itself: the login must be bound to the user's browser, so " +
                "start it with IOAuthConnector.BeginAsync(HttpContext, provider) from the user's request."));
            EndRenewal();
            return;
        }

        // The login takes minutes: nobody else needs to wait for this process's lock meanwhile.
        ReleaseLock();
        Timers.Cancel(RenewalTimer);
        var generation = ++_generation;
        _loginRequest = request;
        // What the store holds now (kept tokens the store has not taken are not in it).
        _loginOver = (_unsaved is not null ? _unsavedOver : _current)?.Version ?? 0;
        var loginId = _loginId = FlowSecrets.RandomToken(9);
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _log.Info("Account {0}: {1}; starting an interactive login for {2} waiting caller(s)", _account, reason, _waiters.Count);
        // The login ends by itself (its deadline, the exchange deadline), so no timer is needed as a backstop here.
        _flows.Tell(new StartFlow(loginId, _account.Provider, request, completion));
        _login = completion.Task;
        completion.Task.PipeTo(Self, success: outcome => new InteractiveDone(generation, outcome),
            failure: e => new InteractiveDone(generation, new LoginFailed(loginId, LoginFailure.Internal, e.GetType().Name)));
        Become(_interacting);
    }

    private bool Interacting(object message)
    {
        switch (message)
        {
            case GetAccessToken msg when SignedOutSince(msg.OrphanedOver, _current):
                Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
                return true;
            case GetAccessToken msg:
                if (msg.Options.AllowInteraction) _waiters.Add(new Waiter(msg, Sender, SeenNow) { AskedFor = WantsLogin(msg, _loginRequest?.Scopes) });
                else Sender.Tell(new Status.Failure(new InteractionRequiredException(_account, InteractionReason.RefreshRefused,
                    $"{_account} is signing in again in the browser; a silent request cannot be served until it has.")));
                return true;
            case RememberLogin { OrphanedOver: not null } msg:
                OnOutlivedLoginWhileInteracting(msg);
                return true;
            case RememberLogin:
            // A refresh given up by an earlier renewal: kept, if it still can be, back in Idle.
            case CodeExchanged late when IsLateRefresh(late.LoginId):
                StashMessage();
                return true;
            case AccountHandOff:
                // Moving (cluster): not after the login, which may wait for its user for half an hour while sharding holds
                // every message of this account's shard. The login goes on, and its tokens and callers follow the account
                // to its next node; what waits here (a login to store, a sign-out) is done first, as by a hand-off in Idle.
                HandOverLogin("is moving");
                StashMessage();
                BackToIdle();
                return true;
            case SignOut:
                // Signing out ends the login that would sign the account in again.
                if (_loginId is not null) _flows.Tell(new CancelFlow(_loginId));
                StashMessage();
                return true;
            case InteractiveDone msg when msg.Generation == _generation:
                OnInteractiveDone(msg.Outcome);
                return true;
            default:
                return StaleReply(message);
        }
    }

    private void OnInteractiveDone(LoginOutcome outcome)
    {
        _loginId = null;
        _login = null;
        if (outcome is LoginSucceeded succeeded)
        {
            var signedIn = AccountKeys.For(_account.Provider, succeeded.Tokens, _loginRequest);
            if (signedIn == _account)
            {
                _toSave = succeeded.Tokens;
                _toSaveOver = null;
                BeginRenewal();
                return;
            }

            // Someone else signed in: their tokens are theirs (remembered under their account), not this one's.
            if (signedIn is not null) Context.Parent.Tell(new RememberLogin(signedIn, succeeded.Tokens), ActorRefs.NoSender);
            FailAll(NotThisAccount(_account, signedIn));
        }
        else
        {
            FailAll(LoginException(outcome, _account, _settings));
        }

        BackToIdle();
    }

    /// <summary>What the callers of <paramref name="account"/>'s interactive login get when it signed in someone else.</summary>
    internal static InteractionRequiredException NotThisAccount(OAuthAccount account, OAuthAccount? signedIn) =>
        new(account, InteractionReason.AccountMismatch, $"The interactive login signed in {signedIn?.ToString() ?? "an unidentified account"}, not {account}.");

    /// <summary>What the callers of <paramref name="account"/>'s interactive login get when it did not succeed.</summary>
    internal static Exception LoginException(LoginOutcome outcome, OAuthAccount account, AccountSettings settings) => outcome switch
    {
        LoginDenied d => new AuthorizationDeniedException(d.Error, d.ErrorDescription) { LoginId = d.LoginId },
        LoginTimedOut t => AuthorizationTimeoutException.For(t),
        LoginCancelled => new OperationCanceledException("The interactive login was cancelled."),
        LoginFailed f => LoginFailureExceptions.For(f, account.Provider, settings.Login.MaxPending, settings.Login.MaxPendingPerPartition),
        _ => new InvalidOperationException($"Unexpected outcome {outcome.GetType().Name}."),
    };

    /// <summary>
    /// This actor stops (<paramref name="why"/>) while its interactive login runs: the login goes on in the flows supervisor,
    /// and its user may still approve it. Its end is followed off this actor (<see cref="OrphanedLogin"/>): the tokens go to
    /// the account's next actor as a remembered login, and the callers waiting here follow them there, to be served with
    /// them; an outcome other than success is told to the callers. Otherwise the tokens went to dead letters: the user who
    /// approved was not signed in, and a live refresh token was left at the provider with nobody holding it.
    /// </summary>
    private void HandOverLogin(string why)
    {
        if (_login is not { } login) return;
        var callers = _waiters.Select(waiter => (waiter.Request, waiter.ReplyTo)).ToArray();
        _log.Info("Account {0}: {1} during its interactive login; the login goes on, and its tokens and {2} waiting caller(s) go to the account's next actor",
            _account, why, callers.Length);
        var orphaned = new OrphanedLogin(_loginId!, _account, _loginRequest, Self, _home, callers, _settings, _loginOver);
        _ = orphaned.FollowAsync(login);
        _waiters.Clear();
        _login = null;
        _loginId = null;
        // Its answer, should it still reach this actor, is stale: the login is followed elsewhere now.
        _generation++;
    }

    /// <summary>
    /// The login an earlier actor of this account handed over (<see cref="HandOverLogin"/>) ended with the account's tokens
    /// while this actor runs a login of its own: it knew nothing of the other, so its callers opened a second one (a second
    /// browser tab). The user approved the first, so the second is not needed: it is cancelled, and its callers are
    /// answered from the first's tokens once they are stored, instead of waiting for a login the user may never finish
    /// (and failing with its timeout though the user signed in). Unless the account was signed out since the first began:
    /// then its tokens are dropped, and this login, asked for after that sign-out, goes on.
    /// </summary>
    private void OnOutlivedLoginWhileInteracting(RememberLogin msg)
    {
        if (SignedOutSince(msg.OrphanedOver, _current))
        {
            DropSignedOutLogin(msg.Tokens, _current?.Tokens);
            Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
            return;
        }

        _log.Info("Account {0}: an interactive login begun by its earlier actor ended; the one this actor started is cancelled", _account);
        if (_loginId is not null) _flows.Tell(new CancelFlow(_loginId));
        _loginId = null;
        _login = null;
        // Made for none of them (as a login queued during a renewal): served if its tokens cover their scopes, else refreshed for.
        foreach (var waiter in _waiters) waiter.AskedFor = false;
        _toSave = msg.Tokens;
        _toSaveOver = msg.OrphanedOver;
        _rememberTo.Add(Sender);
        // Under the store's lock, which also checks the stored copy once more; its cancelled login's answer is stale then.
        BeginRenewal();
    }

    /// <summary>
    /// Whether the account was signed out since an interactive login that outlived the account's earlier actor began
    /// (<paramref name="began"/>: <see cref="RememberLogin.OrphanedOver"/>; null, any other login or caller, never).
    /// Either this actor signed it out (it started after that login's actor stopped), or the store held tokens when the
    /// login began and now holds none, or an earlier version than then (a removal restarts the store's count).
    /// </summary>
    /// <remarks>
    /// Not told apart: a login that began with nothing stored, whose account was signed in and out again by another
    /// actor meanwhile (the store holds nothing, as when the login began); nor a sign-out followed by a new sign-in that
    /// brought the store back to the version it had. The login's tokens are then stored as any login's.
    /// </remarks>
    private bool SignedOutSince(long? began, StoredTokens? stored) =>
        began is { } over && (_signedOut || over > 0 && (stored is null || stored.Version < over));

    /// <summary>
    /// What the callers of a login get whose account was signed out while it ran: what any caller of a signed-out account
    /// gets (it has no tokens; signing in is the way on), not a failure of the login or of O8Actors.
    /// </summary>
    private InteractionRequiredException SignedOutMeanwhile() => new(_account, InteractionReason.NoAccount,
        $"{_account} was signed out while its interactive login waited for the user; that login's tokens are not kept. Sign in again.");

    /// <summary>Drops the login to save (<see cref="_toSave"/>) when it outlived the account's earlier actor and the account was signed out since.</summary>
    /// <param name="stored">The stored copy the login would replace, read under the store's lock.</param>
    /// <returns>Whether it was dropped.</returns>
    private bool DropLoginIfSignedOut(StoredTokens? stored)
    {
        if (_toSave is not { } tokens || !SignedOutSince(_toSaveOver, stored)) return false;
        DropSignedOutLogin(tokens, stored?.Tokens);
        FailRemember(SignedOutMeanwhile());
        return true;
    }

    /// <summary>
    /// The tokens of a login whose account was signed out since it began: storing them would undo the sign-out, so they are
    /// dropped, and revoked (RFC 7009) since nothing else holds them, unless <paramref name="held"/> shares one with them.
    /// </summary>
    private void DropSignedOutLogin(TokenSet tokens, TokenSet? held)
    {
        _log.Info("Account {0}: an interactive login of its earlier actor ended after the account was signed out; its tokens are revoked, not stored", _account);
        RevokeUnheld(tokens, held, "revoke-signed-out");
    }

    /// <summary>Revokes tokens nothing will hold, nobody waiting for the answer; not when <paramref name="held"/> shares a token with them.</summary>
    private void RevokeUnheld(TokenSet tokens, TokenSet? held, string requestPrefix)
    {
        var revoke = RevokeTokens.Of(tokens);
        if (revoke.Count > 0 && (held is null || !revoke.Any(r => r.Token == held.RefreshToken || r.Token == held.AccessToken)))
            _providers.Tell(new RevokeTokens(_account.Provider, $"{requestPrefix}-{FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
    }

    // ---- signing out ----------------------------------------------------------------------------------------------

    private void BeginSignOut(SignOut request, IActorRef replyTo)
    {
        var options = request.Options;
        var urlTo = request.EndSessionUrlTo;
        Context.SetReceiveTimeout(null);
        // From now on callers come here (and are told the account is signing out) instead of taking the cached token. Not
        // yet for a back-channel logout naming a session: it is sent to every account of the provider, and until the
        // stored tokens are read this one is as signed in as before (see WhileChecking).
        if (request.Session is null) Withdraw();
        var attempt = new Attempt();
        _signOutCaller = (request, replyTo);
        Become(SigningOut(options, urlTo, replyTo, request.Session, counted: !request.CountedByCaller, attempt));
        // Under the account's refresh lock, from reading the tokens to removing them: another process sharing the store
        // (a FileTokenStore's second app) may be rotating the refresh token, and the sign-out must revoke the tokens that
        // rotation stores, not the spent ones it replaced, and remove them only once nobody can store newer ones.
        _log.Debug("Account {0}: signing out; taking the refresh lock", _account);
        // Each store step has a deadline of its own on this actor's clock, set before the step starts: a store that never
        // answers (or ignores the lock's cancellation) fails the sign-out instead of leaving the account signing out for good.
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutLoadFailed(attempt, StoreTimedOut("take the refresh lock"), Locking: true),
            _settings.LockWait + _settings.StoreCallWait);
        _locks.LockAsync(_store, _account, _settings.LockWait).PipeTo(Self, success: handle => new SignOutLocked(attempt, handle),
            // Cancelled by the lock's own wait: say so, as the deadline does.
            failure: e => new SignOutLoadFailed(attempt, e is OperationCanceledException ? StoreTimedOut("take the refresh lock") : e, Locking: true));
    }

    private void LoadForSignOut(Attempt attempt, IAsyncDisposable handle)
    {
        _lock = handle;
        // A store that cannot be read is not a store without tokens: the sign-out fails (the tokens stay usable, and a
        // back-channel logout's token stays unspent so the provider can post it again) rather than skip or revoke nothing.
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutLoadFailed(attempt, StoreTimedOut("read the tokens")), _settings.StoreCallWait);
        _store.LoadAsync(_account).PipeTo(Self, success: stored => new SignOutLoaded(attempt, stored),
            failure: e => new SignOutLoadFailed(attempt, e));
    }

    /// <summary>A store failure as a message may name it: its type (an app's store may quote anything), or this actor's own deadline.</summary>
    private static string StoreFailure(Exception cause) => cause is StoreDeadlinePassed ? cause.Message : cause.GetType().Name;

    /// <summary>A sign-out's store step that passed its deadline; its message is this actor's own.</summary>
    private sealed class StoreDeadlinePassed(string message) : TimeoutException(message);

    private StoreDeadlinePassed StoreTimedOut(string what) =>
        new($"The token store did not {what} within {_settings.StoreCallWait.TotalSeconds:0} seconds.");

    /// <summary>The sign-out's state: its revocation's id and the ID token it read live with it.</summary>
    private Receive SigningOut(SignOutOptions options, TaskCompletionSource<Uri?>? urlTo, IActorRef replyTo, EndedSession? session, bool counted,
        Attempt attempt)
    {
        var revokeId = $"revoke-{FlowSecrets.RandomToken(6)}";
        // The ID token names the session to end (id_token_hint, when the caller allows it); read before the stored copy is removed.
        string? idTokenHint = null;
        // A back-channel logout naming a session, until the stored tokens tell whether they are of it.
        var checking = session is not null;
        return message =>
        {
            switch (message)
            {
                case SignOutLocked msg when msg.Attempt == attempt:
                    LoadForSignOut(attempt, msg.Handle);
                    return true;
                case SignOutLoaded msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    checking = false;
                    idTokenHint = OnSignOutLoaded(msg, options, replyTo, session, revokeId);
                    return true;
                case SignOutLoadFailed { Locking: false, Cause: StoredTokensUnreadableException } msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    // A record that will never read (a newer format, damage) is not a store failing for now: failing would
                    // leave the account stuck, since only a sign-out clears it. Nothing in it can be revoked; the tokens
                    // this process holds are, and the record is removed.
                    _log.Warning("Account {0}: its stored tokens do not read ({1}); signing out removes them unrevoked", _account, msg.Cause.GetType().Name);
                    checking = false;
                    idTokenHint = OnSignOutLoaded(new SignOutLoaded(attempt, null), options, replyTo, session, revokeId);
                    return true;
                case SignOutLoadFailed msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    ReleaseLock();
                    // The detail says why: the store's exception type, or this actor's deadline with its length.
                    var what = msg.Locking ? "its refresh lock could not be taken" : "its stored tokens could not be read";
                    _log.Warning("Account {0}: the sign-out failed, {1} ({2})", _account, what, StoreFailure(msg.Cause));
                    urlTo?.TrySetResult(null);
                    AnswerSignOut(replyTo, new Status.Failure(new AuthorizationFailedException(LoginFailure.Internal,
                        $"{_account} was not signed out: {what} ({StoreFailure(msg.Cause)}).")));
                    if (_removalFailed)
                    {
                        // Asked again after a failed removal: the store still holds the signed-out tokens.
                        ResumeRemovalPending();
                        return true;
                    }

                    // Still signed in: back on the fast path it was withdrawn from.
                    _served = null;
                    if (_current is not null) _ = Served();
                    BackToIdle();
                    return true;
                case RevocationDone msg when msg.RequestId == revokeId:
                    if (msg.Outcome == RevocationOutcome.Failed)
                        _log.Warning("Account {0}: revocation failed ({1}); the local copy is removed all the same", _account, msg.Reason);
                    Remove(attempt, new SignOutResult(_account, msg.Outcome, msg.Reason));
                    return true;
                case SignOutRemoveFailed msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    EndRemovalCalls(); // given up: the lock is released next, so the removal must not go on
                    OnRemoveFailed(msg, urlTo, replyTo);
                    return true;
                case SignOutRemoved msg when msg.Attempt == attempt:
                    Timers.Cancel(SignOutStoreTimer);
                    EndRemovalCalls();
                    ReleaseLock();
                    _signedOut = true;
                    _removalFailed = false;
                    _signedOutCopy = null;
                    if (_unsaved is not null) ForgetUnsaved();
                    Withdraw();
                    _current = null;
                    _served = null;
                    if (options.EndProviderSession) EndProviderSession(options, idTokenHint, urlTo, msg.Answer, replyTo);
                    else
                    {
                        urlTo?.TrySetResult(null);
                        if (counted) O8Metrics.SignedOut(msg.Answer);
                        AnswerSignOut(replyTo, msg.Answer);
                        Retire();
                    }

                    return true;
                default:
                    return (checking ? WhileChecking(message) : WhileSigningOut(message)) || StaleReply(message);
            }
        };
    }

    /// <summary>With the stored tokens read: revoke them (or skip a back-channel logout of another session); returns the ID token hint.</summary>
    private string? OnSignOutLoaded(SignOutLoaded msg, SignOutOptions options, IActorRef replyTo, EndedSession? session, string revokeId)
    {
        // Tokens the store has not taken yet are the live ones (the stored copy's refresh token is spent).
        var tokens = _unsaved is not null && StillReplaces(msg.Stored) ? _unsaved : msg.Stored?.Tokens ?? _current?.Tokens;
        if (session is not null && !InSession(tokens, session))
        {
            // A back-channel logout of another session (or of an account with no tokens): nothing changes. Its token was
            // never withdrawn (see BeginSignOut), so the fast path still holds it.
            ReleaseLock();
            AnswerSignOut(replyTo, new SignOutSkipped(_account));
            if (_removalFailed) ResumeRemovalPending();
            else
            {
                BecomeIdle();
                UnstashAll();
            }

            return null;
        }

        // Of the ended session (or an unconditional sign-out): from now on callers are told the account is signing out.
        Withdraw();
        // Tokens kept since the store failed whose stored copy another process has replaced (it signed the account out and
        // in again): their grant may still be live at the provider, and after this sign-out nothing holds them to revoke.
        var kept = _unsaved is { } unsaved && !ReferenceEquals(unsaved, tokens) ? unsaved : null;
        var revoke = RevokeTokens.Of(tokens, kept);
        _signedOutCopy = msg.Stored;
        if (revoke.Count == 0) Remove(msg.Attempt, new SignOutResult(_account, RevocationOutcome.NothingToRevoke));
        else _providers.Tell(new RevokeTokens(_account.Provider, revokeId, revoke));
        return options.SendIdTokenHint ? tokens?.IdToken : null;
    }

    /// <summary>
    /// The sign-out's browser step, after the tokens are revoked and forgotten (so a browser that never comes back leaves
    /// nothing usable behind): the flows supervisor opens the provider's end-session endpoint and answers once the browser
    /// is back, or the step's deadline passed. A backstop timer answers the caller should that answer be lost.
    /// </summary>
    private void EndProviderSession(SignOutOptions options, string? idTokenHint, TaskCompletionSource<Uri?>? urlTo, SignOutResult result,
        IActorRef replyTo)
    {
        var requestId = $"end-session-{FlowSecrets.RandomToken(6)}";
        var timeout = _settings.EndSessionTimeout(options);
        _flows.Tell(new EndProviderSession(_account.Provider, requestId, idTokenHint, timeout) { UrlTo = urlTo });
        Timers.StartSingleTimer(EndSessionTimer, new ProviderSessionEnded(requestId, ProviderSessionOutcome.Failed,
            ProviderSessionEnded.NoAnswer), timeout + _settings.RenewalTimeout);
        Become(message =>
        {
            if (message is not ProviderSessionEnded msg || msg.RequestId != requestId) return WhileSigningOut(message) || StaleReply(message);
            Timers.Cancel(EndSessionTimer);
            urlTo?.TrySetResult(null); // the backstop answered: no URL will come
            if (msg.Outcome is not ProviderSessionOutcome.Ended)
                _log.Warning("Account {0}: the provider's session was not ended ({1}: {2})", _account, msg.Outcome, msg.Reason);
            var ended = result with { ProviderSession = msg.Outcome, ProviderSessionReason = msg.Reason };
            O8Metrics.SignedOut(ended);
            AnswerSignOut(replyTo, ended);
            Retire();
            return true;
        });
    }

    /// <summary>Whether <paramref name="tokens"/> belong to the provider session a back-channel logout ended (their validated ID token's <c>sid</c>).</summary>
    private static bool InSession(TokenSet? tokens, EndedSession session)
    {
        if (tokens is null) return false;
        var sid = tokens.IdTokenClaims?.All.FirstOrDefault(c => c.Type == "sid")?.Value;
        return sid is null ? session.AlsoWithoutSessionId : string.Equals(sid, session.SessionId, StringComparison.Ordinal);
    }

    /// <summary>
    /// While a back-channel logout naming a session reads the stored tokens to learn whether they are of it (under the
    /// store's lock, up to its wait when another process holds it): the account is still signed in, so a token it would
    /// serve from memory is served (the fast path keeps it too). What needs the store (a renewal, a login) or would change
    /// the account waits for the answer: served by Idle after a skip, told the account is gone after a sign-out.
    /// </summary>
    private bool WhileChecking(object message)
    {
        switch (message)
        {
            case GetAccessToken msg when Servable(new Waiter(msg, Sender, SeenNow)):
                Sender.Tell(Served());
                return true;
            case GetAccessToken or RememberLogin or SignOut or AccountHandOff:
                StashMessage();
                return true;
            default:
                return false;
        }
    }

    /// <summary>Until the sign-out is answered: callers are told the account is signing out; logins and sign-outs wait for the fresh actor.</summary>
    private bool WhileSigningOut(object message)
    {
        switch (message)
        {
            case GetAccessToken:
                Sender.Tell(new Status.Failure(new InteractionRequiredException(_account, InteractionReason.NoAccount, $"{_account} is signing out.")));
                return true;
            case RememberLogin or SignOut or AccountHandOff:
                StashMessage();
                return true;
            default:
                return false;
        }
    }

    /// <summary>Answers the sign-out under way; from then on a stop of this actor owes it nothing.</summary>
    private void AnswerSignOut(IActorRef replyTo, object answer)
    {
        replyTo.Tell(answer);
        _signOutCaller = null;
    }

    private void Remove(Attempt attempt, SignOutResult result)
    {
        Timers.StartSingleTimer(SignOutStoreTimer, new SignOutRemoveFailed(attempt, result, StoreTimedOut("remove the tokens")), _settings.StoreCallWait);
        // Ended with the sign-out's wait (EndRemovalCalls): the lock is released then, and a removal that went on could
        // delete what another process stores after it.
        _store.RemoveAsync(_account, NewRemovalCalls()).PipeTo(Self, success: () => new SignOutRemoved(attempt, result),
            failure: e => new SignOutRemoveFailed(attempt, result, e));
    }

    /// <summary>
    /// The store kept the tokens it was asked to remove. Answering success would be false: this actor retires, and the
    /// next one reads them from the store and serves them (still valid where the provider has no revocation, or it
    /// failed). So the sign-out fails, as when the store cannot be read (a back-channel logout's token is then
    /// forgotten, so the provider may post it again), and the tokens are not served: this actor stays, answers as for an
    /// account without tokens, and retries the removal until the store takes it or the account signs out or in again.
    /// </summary>
    private void OnRemoveFailed(SignOutRemoveFailed msg, TaskCompletionSource<Uri?>? urlTo, IActorRef replyTo)
    {
        ReleaseLock();
        _log.Warning("Account {0}: the sign-out failed, the stored tokens could not be removed ({1}); they are not served, and their removal is retried",
            _account, StoreFailure(msg.Cause));
        urlTo?.TrySetResult(null);
        AnswerSignOut(replyTo, new Status.Failure(new AuthorizationFailedException(LoginFailure.Internal,
            $"{_account} was not signed out: its stored tokens could not be removed ({StoreFailure(msg.Cause)}; revocation: {msg.Revoked.Revocation}). " +
            "They are no longer served here and their removal is retried; sign out again to finish now.")));
        if (_unsaved is not null) ForgetUnsaved();
        Withdraw();
        _current = null;
        _served = null;
        _removalFailed = true;
        // Revoked, and never served again: signed out, though the store still has to let the tokens go.
        _signedOut = true;
        _removeRetries = 0;
        ResumeRemovalPending();
    }

    private void ResumeRemovalPending()
    {
        Context.SetReceiveTimeout(null);
        ScheduleRemoveRetry();
        Become(_removalPending);
        UnstashAll();
    }

    private void StartRemoveRetry()
    {
        Timers.Cancel(RemoveRetryTimer);
        var attempt = _removing = new Attempt();
        Timers.StartSingleTimer(RemoveDeadlineTimer, new RemoveRetried(attempt, StoreTimedOut("remove the tokens")), _settings.LockWait + _settings.StoreCallWait);
        RemoveIfStillStoredAsync(_store, _account, _signedOutCopy, NewRemovalCalls()).PipeTo(Self,
            success: removed => new RemoveRetried(attempt, null, Replaced: !removed), failure: e => new RemoveRetried(attempt, e));
    }

    /// <summary>A token for a removal's store calls, ended by <see cref="EndRemovalCalls"/> (an earlier removal's, ended now).</summary>
    private CancellationToken NewRemovalCalls()
    {
        EndRemovalCalls();
        return (_removingCalls = new CancellationTokenSource()).Token;
    }

    /// <summary>
    /// Ends the store calls of a removal given up (its deadline), answered, or of this actor's end: they hold the store's
    /// lock (a retry) or ran under the sign-out's, which is released then. Cancelled, never disposed: the store may still
    /// hold the token (a source with no timer owns nothing to free).
    /// </summary>
    private void EndRemovalCalls()
    {
        if (_removingCalls is not { } calls) return;
        _removingCalls = null;
        calls.Cancel();
    }

    /// <summary>
    /// One retry of a failed sign-out's removal, under the store's lock as the sign-out itself was: the signed-out copy is
    /// removed only while the store still holds it. Between the retries the lock is free, so another process may have
    /// signed the account in again, and its tokens are not this sign-out's to remove. Returns false when the store held
    /// other tokens (left as they are), true when the signed-out copy is gone.
    /// </summary>
    private static async Task<bool> RemoveIfStillStoredAsync(ITokenStore store, OAuthAccount account, StoredTokens? signedOut,
        CancellationToken givenUp)
    {
        var handle = await store.LockAsync(account, givenUp).ConfigureAwait(false);
        try
        {
            StoredTokens? stored;
            try
            {
                stored = await store.LoadAsync(account, givenUp).ConfigureAwait(false);
                if (stored is null) return true;
            }
            catch (StoredTokensUnreadableException) when (signedOut is null)
            {
                // The sign-out found the record unreadable too: still that record (nobody can save over it), removed as
                // the sign-out would have.
                stored = null;
            }

            if (stored is not null && !SameCopy(stored, signedOut)) return false;
            await store.RemoveAsync(account, givenUp).ConfigureAwait(false);
            return true;
        }
        finally
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Answers the logins waiting for the removal with <paramref name="failure"/>: they are not stored (as when a save fails).</summary>
    private void FailLoginsAfterRemoval(Exception failure)
    {
        foreach (var (_, replyTo) in _loginsAfterRemoval) replyTo.Tell(new Status.Failure(failure));
        _loginsAfterRemoval.Clear();
    }

    /// <summary>The store's retry backoff: doubling from <see cref="FirstSaveRetry"/> up to <see cref="LastSaveRetry"/>.</summary>
    private static TimeSpan RetryDelay(int retriesSoFar) =>
        TimeSpan.FromTicks(Math.Min(LastSaveRetry.Ticks, FirstSaveRetry.Ticks << Math.Min(retriesSoFar, 16)));

    private void ScheduleRemoveRetry()
    {
        var delay = RetryDelay(_removeRetries);
        _removeRetries++;
        Timers.StartSingleTimer(RemoveRetryTimer, new RetryRemove(), delay);
    }

    /// <summary>
    /// After a sign-out whose removal failed: no token is served (nor read from the store, which still holds them), and
    /// no idle retirement (the next actor would read them). A login of the account removes them first, then goes to a
    /// fresh actor; a removal in flight finishes before a sign-out runs.
    /// </summary>
    private bool RemovalPending(object message)
    {
        switch (message)
        {
            case GetAccessToken:
                Sender.Tell(new Status.Failure(new InteractionRequiredException(_account, InteractionReason.NoAccount,
                    $"{_account} was signed out but its stored tokens could not be removed yet; they are not served. Sign in again.")));
                return true;
            case RetryRemove:
                if (_removing is null) StartRemoveRetry();
                return true;
            case RemoveRetried msg when msg.Attempt != _removing:
                return true; // the answer of a retry that timed out
            case RemoveRetried { Cause: null } msg:
                Timers.Cancel(RemoveDeadlineTimer);
                _removing = null;
                EndRemovalCalls();
                _removalFailed = false;
                _signedOutCopy = null;
                if (msg.Replaced)
                    _log.Info("Account {0}: the store holds other tokens than those of the failed sign-out (another process stored them since); they are left", _account);
                else _log.Info("Account {0}: the stored tokens of the failed sign-out are removed", _account);
                Retire();
                // After Forgotten: the parent hands them to a fresh actor, which stores them as after any sign-out.
                foreach (var (login, replyTo) in _loginsAfterRemoval) Context.Parent.Tell(login, replyTo);
                _loginsAfterRemoval.Clear();
                return true;
            case RemoveRetried msg:
                Timers.Cancel(RemoveDeadlineTimer);
                _removing = null;
                EndRemovalCalls(); // given up (its deadline): a call still hanging must not keep the store's lock
                _log.Warning("Account {0}: removing the stored tokens failed again ({1}); retrying", _account, StoreFailure(msg.Cause!));
                FailLoginsAfterRemoval(new AuthorizationFailedException(LoginFailure.Internal,
                    $"The login of {_account} was not stored: the store could not remove the tokens of its earlier sign-out ({StoreFailure(msg.Cause)})."));
                ScheduleRemoveRetry();
                UnstashAll();
                return true;
            case SignOut when _removing is not null:
                StashMessage();
                return true;
            case SignOut msg:
                // Asked again: the whole sign-out runs again (read, revoke, remove), and its caller hears how it went.
                Timers.Cancel(RemoveRetryTimer);
                BeginSignOut(msg, Sender);
                return true;
            case RememberLogin msg when SignedOutSince(msg.OrphanedOver, null):
                DropSignedOutLogin(msg.Tokens, null);
                Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
                return true;
            case RememberLogin msg:
                // Signed in again: the signed-out copy goes first, so that it is never read back in the new login's place.
                _loginsAfterRemoval.Add((msg, Sender));
                if (_removing is null) StartRemoveRetry();
                return true;
            case AccountHandOff:
                // Moving (cluster): the next incarnation reads the store, which may still hold the tokens (docs/security.md says so).
                // Whoever waits here is answered first: a sign-out asked again during a removal retry, logins waiting for it.
                var moved = new AuthorizationFailedException(LoginFailure.Internal,
                    $"{_account} moved to another node while the tokens of its failed sign-out were being removed; ask again.");
                foreach (var stashed in Stash.ClearStash())
                    if (stashed.Message is SignOut) AccountRequestFailures.Answer(stashed.Message, moved, stashed.Sender, Self);
                FailLoginsAfterRemoval(moved);
                Context.Stop(Self);
                return true;
            default:
                return StaleReply(message);
        }
    }

    /// <summary>
    /// Asks the parent to retire this actor (after sign-out, or idle): it stops routing here and sends a PoisonPill, and
    /// messages already on their way here are sent back to it meanwhile (see <see cref="Forwarding"/>).
    /// </summary>
    private void Retire()
    {
        Context.SetReceiveTimeout(null);
        Context.Parent.Tell(new Forgotten(_account));
        Become(_forwarding);
        UnstashAll();
    }

    /// <summary>After sign-out, until the parent stops it: everything goes back to the parent, which routes it to a fresh actor.</summary>
    private bool Forwarding(object message)
    {
        switch (message)
        {
            // Signed out here: a login that outlived the account's earlier actor must not sign it in again through the next one.
            case RememberLogin msg when SignedOutSince(msg.OrphanedOver, null):
                DropSignedOutLogin(msg.Tokens, null);
                Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
                return true;
            case GetAccessToken msg when SignedOutSince(msg.OrphanedOver, null):
                Sender.Tell(new Status.Failure(SignedOutMeanwhile()));
                return true;
            case GetAccessToken or RememberLogin or SignOut:
                Context.Parent.Forward(message);
                return true;
            case AccountHandOff:
                Context.Stop(Self);
                return true;
            default:
                return StaleReply(message);
        }
    }

    /// <summary>
    /// Whether <paramref name="request"/> from <paramref name="sender"/> is among what this actor answers when it stops
    /// (its waiters, the sign-out under way, the logins to store). A login's remember is known by its sender alone, which
    /// is its own ask (or nobody, who needs no answer).
    /// </summary>
    private bool Holds(object request, IActorRef sender) => request switch
    {
        GetAccessToken get => _waiters.Exists(w => ReferenceEquals(w.Request, get)),
        SignOut signOut => _signOutCaller is var (underWay, _) && ReferenceEquals(underWay, signOut),
        RememberLogin => _rememberTo.Contains(sender) || _queuedRememberers.Contains(sender) || _loginsAfterRemoval.Exists(l => l.ReplyTo.Equals(sender)),
        _ => false,
    };

    /// <inheritdoc />
    protected override void PostStop()
    {
        EndRemovalCalls();
        // The request whose handler threw, unless the handler had already taken it (then it is answered below, or by the
        // login handed over next, which takes the waiters, and a second answer would reach dead letters). Told apart before
        // the hand-over empties the waiters.
        var inHand = _inHand is var (held, heldFrom) && Holds(held, heldFrom) ? null : _inHand;
        // Stopped on a failure (or any way but a hand-off, which hands it over itself) during an interactive login: its
        // callers wait for it still, and its tokens go to the account's next actor.
        HandOverLogin("stopped");
        var cause = AccountRequestFailures.Stopped(_account);
        if (inHand is var (request, sender)) AccountRequestFailures.AnswerStopped(request, _account, sender, Self);
        FailAll(cause);
        FailRemember(cause);
        FailQueuedRemembers(cause);
        FailLoginsAfterRemoval(cause);
        if (_signOutCaller is var (signOut, signOutReplyTo)) AccountRequestFailures.AnswerStopped(signOut, _account, signOutReplyTo, Self);
        // What waited for a renewal or a sign-out to end: sign-outs and logins are answered, not left to their asks.
        foreach (var stashed in Stash.ClearStash())
            if (AccountRequestFailures.AccountOf(stashed.Message) is not null) AccountRequestFailures.AnswerStopped(stashed.Message, _account, stashed.Sender, Self);
        if (_unsaved is not null)
            _log.Warning("Account {0}: stopped with tokens the store never took; the stored copy's refresh token may be spent", _account);
        if (_lateRefresh is not null || _overtime)
            _log.Warning("Account {0}: stopped before a refresh it gave up answered; the stored copy's refresh token may be spent", _account);
        ReleaseLock();
        foreach (var granted in _locks.Close()) Release(granted);
        _locks.Dispose();
        // A stopped actor no longer keeps its entry up to date; the next one publishes again.
        Withdraw();
        base.PostStop();
    }
}

/// <summary>What every account actor shares.</summary>
/// <param name="RefreshMargin">Refresh this long before expiry (<c>o8.tokens.refresh-margin</c>).</param>
/// <param name="ExchangeTimeout">The token request timeout (<c>o8.login.exchange-timeout</c>).</param>
/// <param name="Login">The login settings (for the exceptions of an interactive login).</param>
/// <param name="Cache">Where fresh tokens are published for the message-free fast path; null publishes nothing.</param>
internal sealed record AccountSettings(TimeSpan RefreshMargin, TimeSpan ExchangeTimeout, Configuration.O8Settings.LoginSettings Login,
    AccountCache? Cache = null)
{
    /// <summary>
    /// Server mode (<c>o8.listener.external-redirect-uri</c>): an account's interactive login would not be bound to the
    /// user's browser, so a caller that allows interaction is told interaction is required instead.
    /// </summary>
    public bool ServerMode { get; init; }

    /// <summary>How long an account's actor stays without a request before it is retired (its tokens stay in the store).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a renewal waits for the store's lock (another process refreshing the same account).</summary>
    public TimeSpan LockWait => ExchangeTimeouts.RefreshWait(ExchangeTimeout) + TimeSpan.FromSeconds(5);

    /// <summary>
    /// The backstop of one renewal: the lock, then a refresh the provider actor always answers within its own timeout.
    /// Longer than both, so it fires only when something is broken (a store that never answers).
    /// </summary>
    public TimeSpan RenewalTimeout => LockWait + ExchangeTimeouts.RefreshWait(ExchangeTimeout) + TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long past a renewal's deadline the renewal, and the store's lock, wait for a refresh (or the save of its
    /// tokens) still in flight. The provider actor sends a refresh no later than one token request and a second before
    /// that deadline and answers within one token request, so this is for a provider, a queue or a thread pool running
    /// late by up to one more token request: until then no other process reads the copy whose refresh token it spends.
    /// </summary>
    public TimeSpan OvertimeWait => ExchangeTimeouts.RefreshWait(ExchangeTimeout);

    /// <summary>
    /// The longest an account's actor takes to stop once its cluster entity is told to move (<see cref="AccountHandOff"/>):
    /// a renewal under way runs to its end, its overtime included, and a refresh it gave up is waited for within the same
    /// time; by then the actor stops whatever is still under way. O8Actors.Cluster derives sharding's hand-off timeout and
    /// a leaving node's shutdown phases from it, so that sharding never stops an account sooner (a refresh's rotated
    /// refresh token would be lost).
    /// </summary>
    public TimeSpan HandOffWait => RenewalTimeout + OvertimeWait;

    /// <summary>How long a sign-out waits for one answer of the token store (a read, a removal) before it fails.</summary>
    public TimeSpan StoreCallWait => LockWait;

    /// <summary>How long a sign-out waits for the browser to come back from the provider's end-session endpoint.</summary>
    public TimeSpan EndSessionTimeout(SignOutOptions options) => options.Timeout ?? Login.Timeout;

    /// <summary>How long a caller waits for a sign-out: revocation and removal, then the browser's round trip when asked for.</summary>
    public TimeSpan SignOutWait(SignOutOptions options) =>
        RenewalTimeout + RenewalTimeout + (options.EndProviderSession ? EndSessionTimeout(options) + RenewalTimeout : TimeSpan.Zero);

    /// <summary>How long a caller waits for a token: a renewal, or an interactive login when it allows one.</summary>
    /// <remarks>
    /// The account's actor answers when the login ends, and the login's deadline is the flow's: o8.login.timeout for a
    /// browser login, the device code's lifetime (at most <see cref="FlowActor.MaximumDeviceLoginTime"/>) for a device
    /// login, which Auto may switch to at any time. So a caller without a timeout of its own waits for the longer of the
    /// two: cutting the device login short to fit the browser's wait would fail users who need minutes to reach their
    /// phone, and stopping the caller before the login ends would leave it polling for tokens nobody waits for.
    /// </remarks>
    public TimeSpan CallerWait(bool interactive, TimeSpan? loginTimeout) =>
        RenewalTimeout + TimeSpan.FromSeconds(5) + (interactive
            ? (loginTimeout ?? (Login.Timeout > FlowActor.MaximumDeviceLoginTime ? Login.Timeout : FlowActor.MaximumDeviceLoginTime)) + RenewalTimeout
            : TimeSpan.Zero);
}
