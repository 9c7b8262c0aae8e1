namespace O8Actors.Dpop;

/// <summary>
/// Sends calls to a resource server with a DPoP-bound access token (RFC 9449 section 7): <c>Authorization: DPoP
/// &lt;token&gt;</c> and a fresh proof signed with the account's key, carrying the token's hash and the server's latest
/// nonce. A 401 that asks for a nonce (<c>use_dpop_nonce</c>) is retried once with it.
/// </summary>
/// <remarks>
/// As <see cref="AccessTokenHandler"/>, it sends a token only over https or over plain http to this machine's loopback, and
/// only to <see cref="AllowedOrigins"/> when they are set: another request is refused with
/// <see cref="InvalidOperationException"/> before a token is fetched or anything is sent.
/// </remarks>
/// <example>
/// <code>
/// using var api = new HttpClient(new DpopHandler(logins, account) { InnerHandler = new SocketsHttpHandler() });
/// </code>
/// </example>
public sealed class DpopHandler : DelegatingHandler
{
    private readonly Func<CancellationToken, ValueTask<(DpopKey Key, string Token)>> _credentials;
    private readonly DpopSender _sender;
    // Where a token may go: https or loopback, and the allowed origins when there are any.
    private readonly Accounts.TokenDestinations _destinations = Accounts.TokenDestinations.Anywhere;

    /// <summary>
    /// Calls on behalf of <paramref name="account"/>: each request takes the account's current token (from the cache,
    /// refreshed when due) and signs with the key that token is bound to, so a refresh or a new login's key is followed.
    /// </summary>
    /// <exception cref="InvalidOperationException">On a request: the account's token is not DPoP-bound (its provider does not use DPoP).</exception>
    public DpopHandler(IOAuthLogins logins, OAuthAccount account, TimeProvider? time = null)
        : this(ct => new ValueTask<AccessToken>(logins.GetAccessTokenAsync(account, cancellationToken: ct)), time)
    {
        ArgumentNullException.ThrowIfNull(logins);
        ArgumentNullException.ThrowIfNull(account);
    }

    /// <summary>Calls with the tokens <paramref name="tokens"/> serves, each signed with the key it is bound to.</summary>
    internal DpopHandler(Func<CancellationToken, ValueTask<AccessToken>> tokens, TimeProvider? time = null)
        : this(async ct =>
        {
            var token = await tokens(ct).ConfigureAwait(false);
            // The message names the account and the fix, never the token.
            return (token.DpopKey ?? throw new InvalidOperationException(
                $"The access token of {token.Account} is not DPoP-bound: turn UseDpop on for provider '{token.Account.Provider}'."), token.Token);
        }, time)
    {
    }

    /// <summary>Signs with <paramref name="key"/> and sends the token <paramref name="accessToken"/> gives for each request.</summary>
    /// <param name="key">The key the tokens are bound to.</param>
    /// <param name="accessToken">The current access token (called once per request; the account's cache answers it).</param>
    /// <param name="time">Clock for the proofs' <c>iat</c>; the system clock by default.</param>
    public DpopHandler(DpopKey key, Func<CancellationToken, ValueTask<string>> accessToken, TimeProvider? time = null)
        : this(async ct => (key, await accessToken(ct).ConfigureAwait(false)), time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(accessToken);
    }

    private DpopHandler(Func<CancellationToken, ValueTask<(DpopKey Key, string Token)>> credentials, TimeProvider? time)
    {
        _credentials = credentials;
        _sender = new DpopSender(time);
    }

    /// <summary>
    /// The origins (scheme, host and port, such as <c>https://api.example.com</c>) the token may be sent to; null (the
    /// default) for any https origin or loopback http one. A request to another origin is refused with
    /// <see cref="InvalidOperationException"/> before it is sent.
    /// Read back as the handler compares them: each origin once, as scheme, host (lowercased, an international name in
    /// its punycode form) and port.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The list is empty, or an entry is not an https origin (an http one only on loopback) or has a path, query, fragment or
    /// user name.
    /// </exception>
    public IReadOnlyCollection<Uri>? AllowedOrigins
    {
        get => _destinations.Origins;
        init => _destinations = Accounts.TokenDestinations.Of(value, nameof(AllowedOrigins));
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Before the token is asked for: a refused destination costs no refresh. The nonce retry keeps the request's URI.
        _destinations.Require(request.RequestUri, nameof(DpopHandler));
        var (key, token) = await _credentials(cancellationToken).ConfigureAwait(false);
        // A retry sends the body again: buffer it first (a no-op for the usual string and byte contents).
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        return await _sender.SendAsync(request, key, token, base.SendAsync, cancellationToken).ConfigureAwait(false);
    }
}
