using System.Net;
using System.Net.Http.Headers;

namespace O8Actors.Dpop;

/// <summary>
/// Sends one request with a DPoP-bound access token (RFC 9449 section 7): <c>Authorization: DPoP &lt;token&gt;</c> and a
/// fresh proof signed with the token's key, carrying the token's hash and the server's latest nonce. A 401 that asks for a
/// nonce (<c>use_dpop_nonce</c>, section 9) and gives one the proof did not carry is sent once more with it. Shared by
/// <see cref="DpopHandler"/> and <see cref="AccessTokenHandler"/>; one per handler, so each keeps the nonces its servers gave.
/// </summary>
internal sealed class DpopSender(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly DpopNonces _nonces = new();

    /// <summary>
    /// Signs <paramref name="request"/> (whose body is already buffered) for <paramref name="token"/> and sends it through
    /// <paramref name="send"/>; the server's nonce is remembered for the next request.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, DpopKey key, string token,
        Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        var target = request.RequestUri ?? throw new InvalidOperationException("A DPoP request needs an absolute request URI.");
        var sent = Sign(request, target, key, token);
        var response = await send(request, cancellationToken).ConfigureAwait(false);
        // A handler below followed a redirect: the answer is another address's (its nonce is not the target's), and the
        // request now names that address, which a retry would hand the token.
        if (!Equals(request.RequestUri, target)) return response;
        var given = _nonces.Remember(target, response);
        // Compared with the nonce this proof carried, not the stored one: requests sent together all get the same new
        // nonce, and the first 401 to come back stores it before the others are read; each of them still needs its retry.
        if (response.StatusCode != HttpStatusCode.Unauthorized || given is null || string.Equals(given, sent, StringComparison.Ordinal)
            || !AsksForNonce(response)) return response;

        // The server wants a nonce this proof did not carry: once more with it, and a new proof (a proof is used once).
        response.Dispose();
        Sign(request, target, key, token);
        response = await send(request, cancellationToken).ConfigureAwait(false);
        _nonces.Remember(target, response);
        return response;
    }

    /// <summary>Puts the token and a new proof on <paramref name="request"/>; returns the nonce the proof carries.</summary>
    private string? Sign(HttpRequestMessage request, Uri target, DpopKey key, string token)
    {
        var nonce = _nonces.For(target);
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Remove("DPoP");
        request.Headers.TryAddWithoutValidation("DPoP", DpopProof.Create(key, request.Method, target, _time.GetUtcNow(), nonce, token));
        return nonce;
    }

    private static bool AsksForNonce(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Any(h => string.Equals(h.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)
            && h.Parameter?.Contains("use_dpop_nonce", StringComparison.Ordinal) == true);
}
