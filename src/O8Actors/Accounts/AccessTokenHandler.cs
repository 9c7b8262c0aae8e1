using System.Net;
using System.Net.Http.Headers;

namespace O8Actors;

/// <summary>
/// Calls an API on behalf of an account with its bearer token (RFC 6750): every request takes the account's current
/// access token from <see cref="IOAuthLogins.GetAccessTokenAsync"/> (the cache, refreshed when due) and sends it as
/// <c>Authorization: Bearer …</c>. When the API answers 401 anyway (it revoked the token, or expired it before its
/// <c>expires_in</c>), the request is sent once more with a token the API has not refused: the account's newer one if it
/// already has one, else one refreshed for it. Many requests refused together cause one refresh.
/// </summary>
/// <remarks>
/// A refresh the provider refuses surfaces as <see cref="InteractionRequiredException"/> from the call: the user must sign
/// in again. The body of a request is buffered before it is sent, so the one retry can send it again. For DPoP-bound tokens
/// (a provider with <c>UseDpop</c>) use <see cref="Dpop.DpopHandler"/>: a bound token is refused here, not sent as a bearer.
/// </remarks>
/// <example>
/// <code>
/// using var api = new HttpClient(new AccessTokenHandler(logins, account) { InnerHandler = new SocketsHttpHandler() });
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

    private readonly IOAuthLogins _logins;
    private readonly Func<CancellationToken, ValueTask<OAuthAccount>> _account;
    private readonly IReadOnlyList<string>? _scopes;

    /// <summary>Calls on behalf of <paramref name="account"/>.</summary>
    /// <param name="logins">Where the account's tokens come from.</param>
    /// <param name="account">Whose token each request carries.</param>
    /// <param name="scopes">Scopes the token must cover (a refresh asks for them); null for the account's own.</param>
    public AccessTokenHandler(IOAuthLogins logins, OAuthAccount account, IReadOnlyList<string>? scopes = null)
    {
        ArgumentNullException.ThrowIfNull(logins);
        ArgumentNullException.ThrowIfNull(account);
        _logins = logins;
        _account = _ => ValueTask.FromResult(account);
        _scopes = scopes;
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
        _logins = logins;
        _account = account;
        _scopes = scopes;
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var account = request.Options.TryGetValue(AccountOption, out var named) && named is not null
            ? named
            : await _account(cancellationToken).ConfigureAwait(false)
              ?? throw new InvalidOperationException("The account callback of AccessTokenHandler returned null: it must name the account each request is for.");
        var token = Bearer(await _logins.GetAccessTokenAsync(account, _scopes, cancellationToken: cancellationToken).ConfigureAwait(false));
        // The retry sends the body again: buffer it first (a no-op for the usual string and byte contents).
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        string retryWith;
        try
        {
            retryWith = await TokenOtherThanAsync(account, token, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        // A provider may renew to the very token the API refused: sending it again would only be refused again.
        if (string.Equals(retryWith, token, StringComparison.Ordinal)) return response;
        response.Dispose();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", retryWith);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A token other than <paramref name="refused"/>: the account's current one when another request has already renewed
    /// it, else a forced refresh. The account refreshes once for every request that asks while its refresh runs, and a
    /// request that asks afterwards finds the new token first, so refused requests together cost one refresh.
    /// </summary>
    private async Task<string> TokenOtherThanAsync(OAuthAccount account, string refused, CancellationToken cancellationToken)
    {
        var current = Bearer(await _logins.GetAccessTokenAsync(account, _scopes, cancellationToken: cancellationToken).ConfigureAwait(false));
        if (!string.Equals(current, refused, StringComparison.Ordinal)) return current;
        return Bearer(await _logins.GetAccessTokenAsync(account, _scopes, new AccessTokenOptions(ForceRefresh: true), cancellationToken)
            .ConfigureAwait(false));
    }

    /// <summary>The token to send as a bearer; a token of another kind is refused with the fix (never with the token).</summary>
    private static string Bearer(AccessToken token)
    {
        if (token.DpopKey is not null)
            throw new InvalidOperationException(
                $"The access token of {token.Account} is DPoP-bound (RFC 9449): call the API through DpopHandler, which signs a proof with its key.");
        if (!string.Equals(token.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"The access token of {token.Account} is of type '{token.TokenType}', not a bearer token (RFC 6750).");
        return token.Token;
    }
}
