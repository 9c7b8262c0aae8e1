using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// Where <see cref="AccessTokenHandler"/> and <see cref="Dpop.DpopHandler"/> may send an access token: never in clear text off this machine (RFC 6750
/// section 5.3, RFC 9700: https, or plain http to a loopback host only), and, when the app named origins, only to those.
/// A refusal names the destination's origin (scheme, host, port), never its path or query, and never the token.
/// </summary>
internal sealed class TokenDestinations
{
    /// <summary>Any origin the cleartext rule lets through.</summary>
    public static TokenDestinations Anywhere { get; } = new(null, null);

    // "scheme://host:port" of each origin named; null for any.
    private readonly HashSet<string>? _allowed;

    private TokenDestinations(HashSet<string>? allowed, IReadOnlyCollection<Uri>? origins)
    {
        _allowed = allowed;
        Origins = origins;
    }

    /// <summary>
    /// The origins the rule was made from, as it compares them: scheme, host and port, each origin once in the order first
    /// named, a host lowercased and in its ASCII (punycode) form; null for any origin.
    /// </summary>
    public IReadOnlyCollection<Uri>? Origins { get; }

    /// <summary>
    /// The rule for <paramref name="origins"/>: null for any origin; else each must be an absolute http or https URL with
    /// nothing past its origin (a path would suggest a restriction the rule does not make), and usable by the cleartext
    /// rule (an http origin off loopback could never be sent to).
    /// </summary>
    /// <exception cref="ArgumentException">An origin is not one, or the list is empty.</exception>
    public static TokenDestinations Of(IReadOnlyCollection<Uri>? origins, string paramName)
    {
        if (origins is null) return Anywhere;
        if (origins.Count == 0)
            throw new ArgumentException("The allowed origins are empty, so no request could carry a token: name at least one, or give null for any origin.", paramName);
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<Uri>(origins.Count);
        foreach (var origin in origins)
        {
            if (origin is null) throw new ArgumentException("An allowed origin is null.", paramName);
            if (!origin.IsAbsoluteUri)
                throw new ArgumentException("An allowed origin must be absolute, such as https://api.example.com.", paramName);
            if (origin.Scheme != Uri.UriSchemeHttps && origin.Scheme != Uri.UriSchemeHttp)
                throw new ArgumentException($"An allowed origin must be https (or http on loopback), not of scheme '{origin.Scheme}'.", paramName);
            if (origin.AbsolutePath != "/" || origin.Query.Length > 0 || origin.Fragment.Length > 0 || origin.UserInfo.Length > 0)
                throw new ArgumentException(
                    $"An allowed origin is a scheme, a host and a port, nothing more: {OriginOf(origin)} instead of a URL with a path, query, fragment or user name.", paramName);
            if (IsCleartextOffMachine(origin))
                throw new ArgumentException(
                    $"The allowed origin {OriginOf(origin)} is plain http off this machine, where no token is sent (RFC 6750 section 5.3): use https.", paramName);
            if (allowed.Add(Key(origin))) kept.Add(new UriBuilder(origin.Scheme, origin.IdnHost.ToLowerInvariant(), origin.Port).Uri);
        }

        return new TokenDestinations(allowed, kept.AsReadOnly());
    }

    /// <summary>Refuses <paramref name="destination"/> unless a token may go there.</summary>
    /// <param name="destination">The request's URI.</param>
    /// <param name="handler">The handler's name, for the message.</param>
    /// <exception cref="InvalidOperationException">The destination is not absolute, is plain http off loopback, or is not an allowed origin.</exception>
    public void Require(Uri? destination, string handler = nameof(AccessTokenHandler))
    {
        if (destination is null || !destination.IsAbsoluteUri)
            throw new InvalidOperationException($"{handler} needs a request with an absolute URI to decide whether its token may go there.");
        if (IsCleartextOffMachine(destination))
            throw new InvalidOperationException(
                $"{handler} sends no access token to {OriginOf(destination)}: a token travels only over https, or over plain " +
                $"http to this machine's loopback (RFC 6750 section 5.3). The request was not sent; call the API over https.");
        if (_allowed is not null && !_allowed.Contains(Key(destination)))
            throw new InvalidOperationException(
                $"{handler} sends the access token only to its allowed origins, and {OriginOf(destination)} is not one of them. " +
                "The request was not sent; add the origin if the API is there.");
    }

    // Not https, and not http to localhost, 127.0.0.0/8 or ::1 (RFC 8252 section 7.3 allows those for a redirect too).
    private static bool IsCleartextOffMachine(Uri url) =>
        url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && EndpointRules.IsLoopback(url));

    // Uri lowercases the scheme and a host name; IdnHost makes an internationalised name and its punycode one origin.
    private static string Key(Uri url) => $"{url.Scheme}://{url.IdnHost.ToLowerInvariant()}:{url.Port}";

    // Scheme, host and port only: a path or query may carry what is none of a message's business, user info a password.
    private static string OriginOf(Uri url) => url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
}
