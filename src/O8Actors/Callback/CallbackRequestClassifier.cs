using System.Net;
using O8Actors.Configuration;

namespace O8Actors.Callback;

/// <summary>What the listener makes of one HTTP request, before any login is touched.</summary>
internal enum CallbackVerdict
{
    /// <summary>A well-formed callback: its state may belong to a login.</summary>
    Candidate,
    /// <summary>Not GET (HEAD, OPTIONS, POST, ...): 405.</summary>
    MethodNotAllowed,
    /// <summary>A path outside the callback path (probes; with a callback path such as <c>/oauth/callback</c>, also the favicon): 404.</summary>
    NotFound,
    /// <summary>The Host header is missing or not a loopback name (DNS rebinding): 400.</summary>
    HostNotLoopback,
    /// <summary>No query string at all: 400.</summary>
    MissingQuery,
    /// <summary>No <c>state</c> parameter, or an empty one: 400.</summary>
    MissingState,
    /// <summary>A parameter the login relies on (<c>state</c>, <c>code</c>, <c>error</c>, <c>error_description</c>, <c>iss</c>) appears twice: 400.</summary>
    DuplicateParameter,
    /// <summary>
    /// Neither <c>code</c> nor <c>error</c>: 400 for a login. The same shape is how a provider sends the browser back after
    /// a sign-out (OpenID Connect RP-Initiated Logout: <c>state</c> only), so the listener routes it to a sign-out's
    /// registration, and to nothing else.
    /// </summary>
    MissingCodeAndError,
}

/// <summary>The verdict on one request and, for a candidate, its decoded OAuth parameters.</summary>
internal readonly record struct CallbackClassification(
    CallbackVerdict Verdict,
    string? State = null,
    string? Code = null,
    string? Error = null,
    string? ErrorDescription = null,
    string? Issuer = null)
{
    /// <summary>Whether the request may be routed to a login.</summary>
    public bool IsCandidate => Verdict == CallbackVerdict.Candidate;

    /// <summary>Whether the request may be a provider's return after a sign-out (a state and nothing else), for the listener to route by its state.</summary>
    public bool MayBeSignOutReturn => Verdict == CallbackVerdict.MissingCodeAndError && State is not null;

    /// <inheritdoc />
    public override string ToString() => $"CallbackClassification {{ Verdict = {Verdict} }}";
}

/// <summary>
/// Sorts requests to the loopback listener into stray ones (answered at once, touching no login) and candidate
/// callbacks. Pure and allocation-light: no regexes, no LINQ; it runs for every favicon and preconnect a browser sends.
/// </summary>
internal static class CallbackRequestClassifier
{
    /// <summary>Classifies one request.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The decoded request path.</param>
    /// <param name="host">The raw Host header (may carry a port).</param>
    /// <param name="query">The raw query string, with or without its leading <c>?</c>.</param>
    /// <param name="callbackPath">
    /// The configured callback path. The callback path itself and the paths under it are served (each provider has its
    /// own, <see cref="RedirectPaths"/>); matching is exact and case-sensitive (RFC 9700 exact redirect matching), and the
    /// login checks that a callback arrived on its provider's path.
    /// </param>
    public static CallbackClassification Classify(string method, string? path, string? host, string? query, string callbackPath)
    {
        if (!string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
            return new(CallbackVerdict.MethodNotAllowed);
        if (!RedirectPaths.IsWithin(callbackPath, path))
            return new(CallbackVerdict.NotFound);
        if (!LoopbackNames.IsLoopbackHost(HostWithoutPort(host)))
            return new(CallbackVerdict.HostNotLoopback);
        // Every path under the callback path may be a provider's redirect path, so each is judged as a callback (a
        // malformed one gets 400 wherever it arrives); the login then checks that the path is its provider's.
        return ClassifyQuery(query);
    }

    /// <summary>The host part of a Host header: <c>localhost:41539</c> → <c>localhost</c>, <c>[::1]:41539</c> → <c>[::1]</c>.</summary>
    internal static string? HostWithoutPort(string? host)
    {
        if (string.IsNullOrEmpty(host)) return null;
        if (host[0] == '[')
        {
            var close = host.IndexOf(']');
            if (close < 0) return null;
            // After "]" only ":port" may follow.
            return close == host.Length - 1 || host[close + 1] == ':' ? host[..(close + 1)] : null;
        }

        var colon = host.IndexOf(':');
        if (colon < 0) return host;
        // A second colon means an unbracketed IPv6 literal, which is not a valid Host header.
        return host.IndexOf(':', colon + 1) < 0 ? host[..colon] : null;
    }

    private static CallbackClassification ClassifyQuery(string? query)
    {
        if (string.IsNullOrEmpty(query) || (query.Length == 1 && query[0] == '?'))
            return new(CallbackVerdict.MissingQuery);

        string? state = null, code = null, error = null, errorDescription = null, issuer = null;
        var span = query.AsSpan();
        if (span[0] == '?') span = span[1..];
        while (!span.IsEmpty)
        {
            var amp = span.IndexOf('&');
            var pair = amp < 0 ? span : span[..amp];
            span = amp < 0 ? ReadOnlySpan<char>.Empty : span[(amp + 1)..];
            if (pair.IsEmpty) continue;

            var eq = pair.IndexOf('=');
            var name = eq < 0 ? pair : pair[..eq];
            var rawValue = eq < 0 ? ReadOnlySpan<char>.Empty : pair[(eq + 1)..];
            // Names are matched raw: the five we read are plain ASCII and a provider never percent-encodes them.
            ref string? slot = ref Slot(name, ref state, ref code, ref error, ref errorDescription, ref issuer, out var known);
            if (!known) continue;
            if (slot is not null) return new(CallbackVerdict.DuplicateParameter);
            slot = Decode(rawValue);
        }

        if (string.IsNullOrEmpty(state)) return new(CallbackVerdict.MissingState);
        if (string.IsNullOrEmpty(code) && string.IsNullOrEmpty(error)) return new(CallbackVerdict.MissingCodeAndError, state);
        // The provider's words travel on to logs, events, exceptions and pages: clean them once, here. An empty code or
        // error is as absent (as the check above takes it): "code=abc&error=" is a code, not a refusal without a reason.
        return new(CallbackVerdict.Candidate, state, NullIfEmpty(code),
            ExternalText.Clean(NullIfEmpty(error), ExternalText.MaxErrorLength),
            ExternalText.Clean(errorDescription, ExternalText.MaxTextLength),
            ExternalText.Clean(issuer, ExternalText.MaxTextLength));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static ref string? Slot(ReadOnlySpan<char> name, ref string? state, ref string? code, ref string? error,
        ref string? errorDescription, ref string? issuer, out bool known)
    {
        known = true;
        if (name.SequenceEqual("state")) return ref state;
        if (name.SequenceEqual("code")) return ref code;
        if (name.SequenceEqual("error")) return ref error;
        if (name.SequenceEqual("error_description")) return ref errorDescription;
        if (name.SequenceEqual("iss")) return ref issuer;
        known = false;
        return ref state;
    }

    private static string Decode(ReadOnlySpan<char> raw)
    {
        if (raw.IsEmpty) return "";
        // Most values (state, code) are URL-safe already: skip the decoder's allocations for them.
        if (raw.IndexOfAny('%', '+') < 0) return raw.ToString();
        return WebUtility.UrlDecode(raw.ToString());
    }
}
