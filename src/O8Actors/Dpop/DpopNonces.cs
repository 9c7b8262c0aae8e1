using System.Collections.Concurrent;

namespace O8Actors.Dpop;

/// <summary>
/// The latest <c>DPoP-Nonce</c> each server gave (RFC 9449 section 8), by origin: the next proof to that server carries
/// it, so only a server's first request (or one after the nonce changed) costs a retry.
/// </summary>
internal sealed class DpopNonces
{
    /// <summary>The response header that carries a server's nonce.</summary>
    public const string Header = "DPoP-Nonce";

    /// <summary>
    /// How many servers' nonces are kept before the map starts over: a client that may call any https origin (an access
    /// token handler without allowed origins, which lives as long as the app) would otherwise keep one per origin for good.
    /// Starting over costs each server one retry, as its first request did.
    /// </summary>
    public const int Capacity = 256;

    // A nonce is replaced, never accumulated; the servers are bounded by Capacity.
    private readonly ConcurrentDictionary<string, string> _byOrigin = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many servers' nonces are kept.</summary>
    internal int Count => _byOrigin.Count;

    /// <summary>The nonce to send to <paramref name="target"/>'s server, if it gave one.</summary>
    public string? For(Uri target) => _byOrigin.TryGetValue(Origin(target), out var nonce) ? nonce : null;

    /// <summary>Keeps the nonce a response from <paramref name="target"/>'s server carries, and returns it (null when none).</summary>
    public string? Remember(Uri target, HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(Header, out var values)) return null;
        var nonce = values.FirstOrDefault();
        if (string.IsNullOrEmpty(nonce)) return null;
        Keep(Origin(target), nonce);
        return nonce;
    }

    /// <summary>Keeps a nonce read some other way (a token response parsed by Duende.IdentityModel).</summary>
    public void Remember(Uri target, string? nonce)
    {
        if (!string.IsNullOrEmpty(nonce)) Keep(Origin(target), nonce);
    }

    private void Keep(string origin, string nonce)
    {
        // A known origin first: ConcurrentDictionary.Count takes every lock, and nearly every nonce is a known server's.
        if (!_byOrigin.ContainsKey(origin) && _byOrigin.Count >= Capacity) _byOrigin.Clear();
        _byOrigin[origin] = nonce;
    }

    /// <summary>
    /// The nonces for a client of <paramref name="next"/> that takes over from one of <paramref name="endpoint"/> (discovery
    /// read again): <paramref name="held"/>, the nonces that client was given, while it is the same address; new ones for
    /// another address or when nothing is taken over, which start without a nonce (the server gives its own).
    /// </summary>
    public static DpopNonces CarriedOver(DpopNonces? held, Uri? endpoint, Uri next) =>
        held is not null && endpoint is not null && string.Equals(endpoint.AbsoluteUri, next.AbsoluteUri, StringComparison.Ordinal)
            ? held
            : new();

    private static string Origin(Uri target) => target.GetLeftPart(UriPartial.Authority);
}
