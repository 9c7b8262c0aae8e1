namespace O8Actors.Providers;

/// <summary>
/// Every timeout of one code exchange, derived from the one setting (<c>o8.login.exchange-timeout</c>), in one place.
/// They nest, innermost first, so each layer gives up after the one inside it and reports the inner layer's reason:
/// the token request (HTTP pipeline and provider actor) → the login's exchange deadline → the browser's wait for its page.
/// </summary>
internal static class ExchangeTimeouts
{
    /// <summary>The margin the login adds for the provider actor's answer to reach it.</summary>
    private static readonly TimeSpan ReplyMargin = TimeSpan.FromSeconds(1);

    /// <summary>The margin the browser's request adds on top of the login's deadline, for the page to come back.</summary>
    private static readonly TimeSpan PageMargin = TimeSpan.FromSeconds(4);

    /// <summary>One token request: the HTTP pipeline's per-attempt and total timeouts and the provider actor's own.</summary>
    public static TimeSpan TokenRequest(TimeSpan exchangeTimeout) => exchangeTimeout;

    /// <summary>
    /// What is left of a login's exchange deadline (<paramref name="loginGivesUp"/>) for its token request sent at
    /// <paramref name="now"/>: at most one token request, and never so long that the answer could come after the login
    /// gave up (a code is spent when it is sent: an answer the login no longer takes throws its tokens away).
    /// </summary>
    public static TimeSpan ExchangeBudget(DateTimeOffset loginGivesUp, DateTimeOffset now, TimeSpan exchangeTimeout)
    {
        var left = loginGivesUp - now - ReplyMargin;
        return left < TokenRequest(exchangeTimeout) ? left : TokenRequest(exchangeTimeout);
    }

    /// <summary>
    /// The least time left worth spending a code on: shorter than a request to a loopback or nearby endpoint ever takes
    /// under load, whatever the endpoint's few earlier answers suggest.
    /// </summary>
    private static readonly TimeSpan ShortestUsefulRequest = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether a code that waited in its provider's queue is too late to send: what is left of its login's deadline is
    /// shorter than the time within which the endpoint has been answering (<paramref name="likelyAnswer"/>; never less
    /// than <see cref="ShortestUsefulRequest"/>, never more than half a token request, and half a token request before the
    /// endpoint's first answer). A code is spent once sent: sent with too little time, its request would most likely
    /// time out with the code gone and the login failed anyway, so it stays unsent and the login is told so.
    /// </summary>
    public static bool TooLateToSend(DateTimeOffset loginGivesUp, DateTimeOffset now, TimeSpan exchangeTimeout, TimeSpan? likelyAnswer)
    {
        var half = TokenRequest(exchangeTimeout) / 2;
        var needed = likelyAnswer is { } likely ? Min(Max(likely, ShortestUsefulRequest), half) : half;
        return ExchangeBudget(loginGivesUp, now, exchangeTimeout) < needed;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The login's deadline from the callback to the provider's answer (ends as ExchangeTimeout).</summary>
    public static TimeSpan LoginDeadline(TimeSpan exchangeTimeout) => TokenRequest(exchangeTimeout) + ReplyMargin;

    /// <summary>How long the browser's callback request waits for its page before it gets a 504.</summary>
    public static TimeSpan BrowserWait(TimeSpan exchangeTimeout) => LoginDeadline(exchangeTimeout) + PageMargin;

    /// <summary>
    /// How long a caller waits for a provider actor's request that is never queued behind token requests (UserInfo, a
    /// logout token's check): one request under the exchange timeout, plus the reply.
    /// </summary>
    public static TimeSpan UnqueuedRequestWait(TimeSpan exchangeTimeout) => TokenRequest(exchangeTimeout) + ReplyMargin;

    /// <summary>How long a caller's refresh waits for the provider actor (a token request, maybe queued, plus the reply).</summary>
    public static TimeSpan RefreshWait(TimeSpan exchangeTimeout) => BrowserWait(exchangeTimeout);

    /// <summary>
    /// The deadline of a queued refresh whose caller stops waiting at <paramref name="callerGivesUp"/>: one token request
    /// and its reply earlier, so a refresh that is sent is answered while the caller still waits (a later answer, whose
    /// refresh token the provider may have rotated, would be dropped).
    /// </summary>
    public static DateTimeOffset RefreshDeadline(DateTimeOffset callerGivesUp, TimeSpan exchangeTimeout) =>
        callerGivesUp - LoginDeadline(exchangeTimeout);
}
