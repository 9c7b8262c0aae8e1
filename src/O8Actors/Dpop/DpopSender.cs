using System.Net;
using System.Net.Http.Headers;

namespace O8Actors.Dpop;

/// <summary>
/// Sends one request with a DPoP-bound access token (RFC 9449 section 7): <c>Authorization: DPoP &lt;token&gt;</c> and a
/// fresh proof signed with the token's key, carrying the token's hash and the server's latest nonce. A 401 that asks for a
/// nonce (<c>use_dpop_nonce</c>, section 9) and gives one the proof did not carry is sent once more with it. Shared by
/// <see cref="DpopHandler"/> and <see cref="AccessTokenHandler"/>; one per handler, so each keeps the nonces its servers gave.
/// </summary>
/// <param name="time">Clock for the proofs' <c>iat</c>; the system clock by default.</param>
/// <param name="nonces">Nonces to start from (a client that replaces one of the same endpoint); null for none.</param>
internal sealed partial class DpopSender(TimeProvider? time = null, DpopNonces? nonces = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly DpopNonces _nonces = nonces ?? new();

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
        if (Equals(request.RequestUri, target)) _nonces.Remember(target, response);
        return response;
    }

    /// <summary>Puts the token and a new proof on <paramref name="request"/>; returns the nonce the proof carries.</summary>
    private string? Sign(HttpRequestMessage request, Uri target, DpopKey key, string token)
    {
        var nonce = _nonces.For(target);
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Remove(DpopProof.HeaderName);
        request.Headers.TryAddWithoutValidation(DpopProof.HeaderName, DpopProof.Create(key, request.Method, target, _time.GetUtcNow(), nonce, token));
        return nonce;
    }

    private static bool AsksForNonce(HttpResponseMessage response) => ChallengeError(response) == "use_dpop_nonce";

    /// <summary>
    /// Whether <paramref name="response"/> refuses the DPoP proof rather than the token: a <c>DPoP</c> challenge with
    /// <c>error="use_dpop_nonce"</c> (a nonce this sender's one retry did not satisfy: servers behind a load balancer
    /// that do not share their nonces) or <c>error="invalid_dpop_proof"</c> (RFC 9449 sections 7.1 and 9). A new token
    /// would be signed with the same key and refused the same way, so it is no reason to renew the token.
    /// </summary>
    public static bool RefusesTheProof(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Unauthorized && ChallengeError(response) is "use_dpop_nonce" or "invalid_dpop_proof";

    /// <summary>The <c>error</c> of the response's <c>WWW-Authenticate: DPoP</c> challenge, if it has one.</summary>
    private static string? ChallengeError(HttpResponseMessage response)
    {
        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            if (!string.Equals(challenge.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase) || challenge.Parameter is not { } parameters) continue;
            var match = ErrorParameter().Match(parameters);
            if (match.Success) return match.Groups[1].Value;
        }
        return null;
    }

    // error="..." (or unquoted) as an auth-param of the challenge (RFC 9110 section 11.2), not inside another's value.
    [System.Text.RegularExpressions.GeneratedRegex("""(?:^|,)\s*error\s*=\s*"?([A-Za-z0-9_.-]+)"?""", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ErrorParameter();
}
