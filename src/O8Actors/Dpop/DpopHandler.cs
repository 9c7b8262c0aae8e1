using System.Net;
using System.Net.Http.Headers;

namespace O8Actors.Dpop;

/// <summary>
/// Sends calls to a resource server with a DPoP-bound access token (RFC 9449 section 7): <c>Authorization: DPoP
/// &lt;token&gt;</c> and a fresh proof signed with the account's key, carrying the token's hash and the server's latest
/// nonce. A 401 that asks for a nonce (<c>use_dpop_nonce</c>) is retried once with it.
/// </summary>
/// <example>
/// <code>
/// var handler = new DpopHandler(key, async ct => (await logins.GetAccessTokenAsync(account, cancellationToken: ct)).Token)
/// {
///     InnerHandler = new HttpClientHandler(),
/// };
/// using var http = new HttpClient(handler);
/// </code>
/// </example>
public sealed class DpopHandler : DelegatingHandler
{
    private readonly DpopKey _key;
    private readonly Func<CancellationToken, ValueTask<string>> _accessToken;
    private readonly TimeProvider _time;
    private readonly DpopNonces _nonces = new();

    /// <summary>Signs with <paramref name="key"/> and sends the token <paramref name="accessToken"/> gives for each request.</summary>
    /// <param name="key">The key the tokens are bound to.</param>
    /// <param name="accessToken">The current access token (called once per request; the account's cache answers it).</param>
    /// <param name="time">Clock for the proofs' <c>iat</c>; the system clock by default.</param>
    public DpopHandler(DpopKey key, Func<CancellationToken, ValueTask<string>> accessToken, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(accessToken);
        _key = key;
        _accessToken = accessToken;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = request.RequestUri ?? throw new InvalidOperationException("A DPoP request needs an absolute request URI.");
        var token = await _accessToken(cancellationToken).ConfigureAwait(false);
        // A retry sends the body again: buffer it first (a no-op for the usual string and byte contents).
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);

        Sign(request, target, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var newNonce = _nonces.Remember(target, response);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !newNonce || !AsksForNonce(response)) return response;

        // The server wants a nonce it has just given (section 9): once more with it, a new proof (a proof is used once).
        response.Dispose();
        Sign(request, target, token);
        response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        _nonces.Remember(target, response);
        return response;
    }

    private void Sign(HttpRequestMessage request, Uri target, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Remove("DPoP");
        request.Headers.TryAddWithoutValidation("DPoP", DpopProof.Create(_key, request.Method, target, _time.GetUtcNow(), _nonces.For(target), token));
    }

    private static bool AsksForNonce(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Any(h => string.Equals(h.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)
            && h.Parameter?.Contains("use_dpop_nonce", StringComparison.Ordinal) == true);
}
