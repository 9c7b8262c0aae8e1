using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

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
        RenewalTimeout + TimeSpan.FromSeconds(5) + (interactive ? LoginWait(loginTimeout) + RenewalTimeout : TimeSpan.Zero);

    /// <summary>The longest a login of <paramref name="loginTimeout"/> (null: the caller has none) may wait for its user.</summary>
    private TimeSpan LoginWait(TimeSpan? loginTimeout) =>
        loginTimeout ?? (Login.Timeout > FlowActor.MaximumDeviceLoginTime ? Login.Timeout : FlowActor.MaximumDeviceLoginTime);

    /// <summary>
    /// How long a caller of <paramref name="loginTimeout"/> waits, from its call, for an interactive login started for
    /// another caller: that timeout (or the longest a login may take) and one token exchange. Shorter than
    /// <see cref="CallerWait"/>, so the account's actor answers before the caller's ask gives up, and the login learns
    /// that this caller has gone.
    /// </summary>
    public TimeSpan JoinedLoginWait(TimeSpan? loginTimeout) => LoginWait(loginTimeout) + ExchangeTimeouts.LoginDeadline(ExchangeTimeout);
}
