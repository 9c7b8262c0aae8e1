using System.Net;
using System.Net.Http.Headers;

namespace O8Actors;

/// <summary>
/// Calls an API on behalf of an account with its access token: every request takes the account's current token from
/// <see cref="IOAuthLogins.GetAccessTokenAsync"/> (the cache, refreshed when due) and sends it as its kind demands: a
/// bearer token as <c>Authorization: Bearer …</c> (RFC 6750), a DPoP-bound one (a provider with <c>UseDpop</c>) as
/// <c>Authorization: DPoP …</c> with a fresh proof signed with the key it is bound to (RFC 9449 section 7; a server's
/// nonce is learnt with one extra try and sent from then on). When the API answers 401 anyway (it revoked the token, or
/// expired it before its <c>expires_in</c>), the request is sent once more with a token the API has not refused: the
/// account's newer one if it already has one, else one refreshed for it. Many requests refused together cause one refresh,
/// and once the API has refused a token just renewed for it, its 401s for that token reach the caller with no further
/// refresh. A request a handler below redirected is never sent again (that would hand the redirect's target a token).
/// A 401 that refuses a DPoP proof rather than the token (<c>WWW-Authenticate: DPoP error="use_dpop_nonce"</c> after the
/// nonce retry, or <c>error="invalid_dpop_proof"</c>) is returned as it is, without a refresh: a new token would be
/// signed with the same key and refused the same way.
/// </summary>
/// <remarks>
/// <para>
/// A token goes only where it is safe: a request over plain http to a host other than this machine's loopback
/// (<c>localhost</c>, 127.0.0.0/8, <c>[::1]</c>) is refused with <see cref="InvalidOperationException"/> before anything
/// is sent and before a token is fetched (RFC 6750 section 5.3: bearer tokens only over TLS). Set
/// <see cref="AllowedOrigins"/> to send the token only to the APIs it is for: a request to any other origin is refused the
/// same way. The message names the request's scheme, host and port, never its path or the token.
/// </para>
/// <para>
/// A refresh the provider refuses surfaces as <see cref="InteractionRequiredException"/> from the call: the user must sign
/// in again. The body of a request is buffered before it is sent, so a retry can send it again. A bound token never
/// leaves as a bearer token, and a token of another type is refused before anything is sent.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var api = new HttpClient(new AccessTokenHandler(logins, account)
/// {
///     AllowedOrigins = [new Uri("https://api.example.com")],   // optional: the token goes nowhere else
///     InnerHandler = new SocketsHttpHandler(),
/// });
/// var me = await api.GetStringAsync("https://api.example.com/me");
/// </code>
/// </example>
public sealed class AccessTokenHandler : DelegatingHandler
{
    /// <summary>
    /// Names the account one request is for, over the handler's own:
    /// <c>request.Options.Set(AccessTokenHandler.AccountOption, account)</c>.
    /// </summary>
    public static readonly HttpRequestOptionsKey<OAuthAccount> AccountOption = new("O8Actors.Account");

    // The account's current token; options null for the cached one, ForceRefresh for a renewed one.
    private readonly Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> _tokens;
    private readonly Func<CancellationToken, ValueTask<OAuthAccount>> _account;
    // What the handler learns: renewed tokens the API refused as well (a 401 for one of them is the caller's, with no
    // refresh), and the APIs' DPoP nonces (RFC 9449 section 8) with the sender that uses them.
    private readonly Accounts.AccessTokenHandlerMemory _memory = new();
    // Where a token may go: https or loopback, and the allowed origins when there are any.
    private readonly Accounts.TokenDestinations _destinations = Accounts.TokenDestinations.Anywhere;

    /// <summary>Calls on behalf of <paramref name="account"/>.</summary>
    /// <param name="logins">Where the account's tokens come from.</param>
    /// <param name="account">Whose token each request carries.</param>
    /// <param name="scopes">Scopes the token must cover (a refresh asks for them); null for the account's own.</param>
    public AccessTokenHandler(IOAuthLogins logins, OAuthAccount account, IReadOnlyList<string>? scopes = null)
    {
        ArgumentNullException.ThrowIfNull(logins);
        ArgumentNullException.ThrowIfNull(account);
        _tokens = TokensOf(logins, scopes);
        _account = _ => ValueTask.FromResult(account);
    }

    /// <summary>
    /// Calls on behalf of the account <paramref name="account"/> names for each request: in a web app, the signed-in user's
    /// (one handler serves every user, as <c>IHttpClientFactory</c> shares handlers).
    /// </summary>
    /// <param name="logins">Where the accounts' tokens come from.</param>
    /// <param name="account">Whose token a request carries, asked once per request (the retry after a 401 keeps it).</param>
    /// <param name="scopes">Scopes the token must cover (a refresh asks for them); null for the account's own.</param>
    public AccessTokenHandler(IOAuthLogins logins, Func<CancellationToken, ValueTask<OAuthAccount>> account, IReadOnlyList<string>? scopes = null)
    {
        ArgumentNullException.ThrowIfNull(logins);
        ArgumentNullException.ThrowIfNull(account);
        _tokens = TokensOf(logins, scopes);
        _account = account;
    }

    /// <summary>Calls on behalf of <paramref name="account"/> with the tokens <paramref name="tokens"/> serves.</summary>
    internal AccessTokenHandler(Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> tokens, OAuthAccount account)
    {
        _tokens = tokens;
        _account = _ => ValueTask.FromResult(account);
    }

    /// <summary>
    /// The origins (scheme, host and port, such as <c>https://api.example.com</c>) the token may be sent to; null (the
    /// default) for any https origin or loopback http one. A request to another origin is refused with
    /// <see cref="InvalidOperationException"/> before it is sent, the retry after a 401 included.
    /// Read back as the handler compares them: each origin once, as scheme, host (lowercased, an international name in
    /// its punycode form) and port.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The list is empty, or an entry is not an https origin (an http one only on loopback) or has a path, query, fragment or
    /// user name (an origin restricts no path: a path would promise what it does not do).
    /// </exception>
    public IReadOnlyCollection<Uri>? AllowedOrigins
    {
        get => _destinations.Origins;
        init => _destinations = Accounts.TokenDestinations.Of(value, nameof(AllowedOrigins));
    }

    /// <summary>
    /// What the handler learns (the tokens the API refused after a renewal, the APIs' DPoP nonces), kept in
    /// <paramref name="value"/> instead of the handler: <c>IHttpClientFactory</c> builds a client's handlers anew every
    /// handler lifetime (2 minutes), and a memory of the handler's own went with each one (a refresh per rebuild for an API
    /// that refuses the account's tokens, an extra round trip per rebuild for a nonce).
    /// </summary>
    internal Accounts.AccessTokenHandlerMemory Memory
    {
        get => _memory;
        init => _memory = value;
    }

    private static Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> TokensOf(IOAuthLogins logins,
        IReadOnlyList<string>? scopes) =>
        (account, options, ct) => logins.GetAccessTokenAsync(account, scopes, options, ct);

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Before the account and its token are asked for: a refused destination costs no refresh.
        _destinations.Require(request.RequestUri);
        var account = request.Options.TryGetValue(AccountOption, out var named) && named is not null
            ? named
            : await _account(cancellationToken).ConfigureAwait(false)
              ?? throw new InvalidOperationException("The account callback of AccessTokenHandler returned null: it must name the account each request is for.");
        var token = Usable(await _tokens(account, null, cancellationToken).ConfigureAwait(false));
        // A retry sends the body again: buffer it first (a no-op for the usual string and byte contents).
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);

        var sentTo = request.RequestUri;
        var response = await SendWithAsync(request, token, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        // A handler below followed a redirect: the request now names the place it was sent on to (perhaps another host,
        // another method, no body), and sending it again would hand that place a token. The caller gets the 401.
        if (!Equals(request.RequestUri, sentTo)) return response;
        // A refused proof is not a refused token: a renewed one would be signed with the same key and refused again, each
        // time rotating the refresh token for nothing.
        if (RefusesTheProof(token, response)) return response;

        AccessToken? retryWith;
        try
        {
            var renewed = await Accounts.RenewedToken.AfterRefusalAsync(_tokens, account, token.Token, _memory.Refused, cancellationToken)
                .ConfigureAwait(false);
            retryWith = renewed is null ? null : Usable(renewed);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        // None when renewed to the very token the API refused (now counted as refused): the caller gets the 401.
        if (retryWith is null) return response;

        response.Dispose();
        var retried = await SendWithAsync(request, retryWith, cancellationToken).ConfigureAwait(false);
        // The renewed token refused too: not for its age. Unless what was refused is the proof (the rule above), which
        // says nothing of the token, and marking it would keep a later real refusal of it from renewing it.
        if (retried.StatusCode == HttpStatusCode.Unauthorized && Equals(request.RequestUri, sentTo)
            && !RefusesTheProof(retryWith, retried))
            _memory.Refused.Add(retryWith.Token);
        return retried;
    }

    /// <summary>
    /// Whether <paramref name="response"/> refuses the DPoP proof sent with <paramref name="token"/> (a nonce the one retry
    /// did not satisfy, an invalid proof) rather than the token itself; never for a bearer token.
    /// </summary>
    private static bool RefusesTheProof(AccessToken token, HttpResponseMessage response) =>
        token.DpopKey is not null && Dpop.DpopSender.RefusesTheProof(response);

    /// <summary>Sends <paramref name="request"/> with <paramref name="token"/> as its kind demands.</summary>
    private Task<HttpResponseMessage> SendWithAsync(HttpRequestMessage request, AccessToken token, CancellationToken cancellationToken)
    {
        // Every send with a token passes here, the retry after a 401 included: none goes where the rule forbids.
        _destinations.Require(request.RequestUri);
        if (token.DpopKey is { } key)
            return _memory.Dpop.SendAsync(request, key, token.Token, base.SendAsync, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        // A retry after a bound token was refused and renewed unbound (UseDpop turned off): not with the first send's proof.
        request.Headers.Remove("DPoP");
        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>
    /// A token this handler can send: a bearer token, or one bound to a DPoP key. Another kind is refused with its type
    /// (never with the token).
    /// </summary>
    private static AccessToken Usable(AccessToken token)
    {
        if (!AccessToken.CanBePresented(token.TokenType, token.DpopKey))
            throw new InvalidOperationException(
                $"The access token of {token.Account} is of type '{Callback.ExternalText.Clean(token.TokenType, Callback.ExternalText.MaxErrorLength)}', neither a bearer token (RFC 6750) nor DPoP-bound (RFC 9449).");
        return token;
    }
}
