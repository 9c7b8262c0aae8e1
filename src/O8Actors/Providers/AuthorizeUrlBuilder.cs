using System.Text;

namespace O8Actors.Providers;

/// <summary>Builds an authorization request URL (RFC 6749 section 4.1.1, RFC 7636 section 4.3).</summary>
internal static class AuthorizeUrlBuilder
{
    // The names below are refused in any casing: RFC 6749 names are case-sensitive, but servers built on frameworks that
    // read the query without regard to case (ASP.NET Core's) take "Request_Uri" as request_uri.

    /// <summary>Parameters O8Actors sets itself; letting extras override them would break state, PKCE or redirect matching.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "dpop_jkt",
    };

    /// <summary>
    /// Parameters that carry a whole authorization request (by value or by reference): a provider that takes one uses its
    /// parameters instead of the query's, so an extra one (an app passing a user's query values on) could replace every
    /// parameter in <see cref="Reserved"/>; a pushed request may not hold <c>request_uri</c> at all (RFC 9126 section 2.1).
    /// </summary>
    private static readonly HashSet<string> RequestObjects = new(StringComparer.OrdinalIgnoreCase) { "request", "request_uri" };

    /// <summary>
    /// The client's own credentials: sent only as its <see cref="ClientAuthentication"/> sends them, never as a login's
    /// parameter (in an authorize URL the browser's history and the provider's logs would keep them; beside the Basic
    /// header of a back-channel request they would name another client).
    /// </summary>
    private static readonly HashSet<string> ClientCredentials = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_secret", "client_assertion", "client_assertion_type",
    };

    /// <summary>Why a login's extra parameters may not name a <c>resource</c> of their own when the provider has one.</summary>
    internal const string ResourceConflict = "ExtraParameters must not set 'resource': the provider's Resource is sent on every request.";

    /// <summary>
    /// Throws when an extra parameter tries to replace one that O8Actors controls, or asks for a <c>response_mode</c>
    /// other than <c>query</c>: the listener takes the code from the redirect's query, so a provider told to post it
    /// (<c>form_post</c>), to put it in the fragment, or to wrap it in a JWT (JARM) would send it where the login never
    /// sees it, and the login would wait for its deadline.
    /// </summary>
    public static void RejectReserved(IEnumerable<KeyValuePair<string, string>> parameters, string label)
    {
        foreach (var (key, value) in parameters)
        {
            if (string.IsNullOrWhiteSpace(key))
                throw new ArgumentException($"{label} contains an empty parameter name.");
            if (RequestObjects.Contains(key))
                throw new ArgumentException(
                    $"{label} must not set '{key}': a request object (RFC 9101, OpenID Connect Core section 6) replaces the query's " +
                    "parameters at the provider, the state, PKCE challenge and redirect URI that O8Actors sets among them.");
            if (ClientCredentials.Contains(key))
                throw new ArgumentException(
                    $"{label} must not set '{key}': the client authenticates as its ClientAuthentication says, never through a login's parameters.");
            if (Reserved.Contains(key))
                throw new ArgumentException(
                    $"{label} must not set '{key}': O8Actors sets it itself" +
                    (string.Equals(key, "scope", StringComparison.OrdinalIgnoreCase) ? " (pass scopes as Scopes instead)." : "."));
            if (string.Equals(key, "response_mode", StringComparison.OrdinalIgnoreCase) && !string.Equals(value, "query", StringComparison.Ordinal))
                throw new ArgumentException(
                    $"{label} must not set 'response_mode' to anything but 'query': the redirect listener reads the code from the " +
                    "redirect's query string, so a response posted (form_post), put in the fragment or sent as a JWT (JARM) would never reach the login.");
        }
    }

    /// <summary>Whether <paramref name="parameters"/> name <paramref name="name"/>, in any casing.</summary>
    internal static bool Names(IReadOnlyDictionary<string, string> parameters, string name)
    {
        // Every login's URL asks: a loop over the few extras, no closure or LINQ enumerator per login.
        foreach (var key in parameters.Keys)
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// The endpoint plus <c>response_type=code</c>, <c>client_id</c>, <c>redirect_uri</c> (exactly as given),
    /// <c>scope</c> (<paramref name="scopes"/>, already the login's or the provider's defaults), <c>state</c>, the PKCE pair when a challenge is given, the <c>resource</c> (RFC 8707) when the provider
    /// has one, the provider's parameters and finally the
    /// caller's, which win over the provider's (for example <c>prompt=select_account</c> over <c>prompt=consent</c>).
    /// </summary>
    public static Uri Build(
        Uri endpoint,
        string clientId,
        AuthorizeUrlContext context,
        IReadOnlyList<string> scopes,
        string scopeSeparator,
        IDictionary<string, string> providerParameters,
        Uri? resource = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(context.State))
            throw new ArgumentException("The authorize URL needs a state.", nameof(context));
        if (context.RedirectUri is null || !context.RedirectUri.IsAbsoluteUri)
            throw new ArgumentException("The authorize URL needs an absolute redirect URI.", nameof(context));
        if (context.CodeChallenge is { Length: 0 })
            throw new ArgumentException("The PKCE code challenge is empty; pass null to leave PKCE out.", nameof(context));
        var extras = context.ExtraParameters ?? NoParameters;
        RejectReserved(extras, "ExtraParameters");
        // The provider's resource (RFC 8707) is the audience of every token this client gets; a login naming another one
        // beside it would ask for a grant the token requests then never use.
        if (resource is not null && Names(extras, "resource"))
            throw new ArgumentException(ResourceConflict, nameof(context));
        if (context.Nonce is not null && Names(extras, "nonce"))
            throw new ArgumentException("ExtraParameters must not set 'nonce': O8Actors sends its own per login and checks the ID token against it.", nameof(context));

        if (scopes.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("A requested scope is empty.", nameof(context));

        // Sized once: the nine parameters O8Actors may set, then the provider's and the caller's.
        var query = new List<KeyValuePair<string, string>>(9 + providerParameters.Count + extras.Count)
        {
            new("response_type", "code"),
            new("client_id", clientId),
            // OriginalString: the token request must repeat the redirect URI byte for byte (RFC 6749 section 4.1.3).
            new("redirect_uri", context.RedirectUri.OriginalString),
        };
        if (scopes.Count > 0)
            query.Add(new("scope", string.Join(scopeSeparator, scopes)));
        query.Add(new("state", context.State));
        if (context.CodeChallenge is not null)
        {
            query.Add(new("code_challenge", context.CodeChallenge));
            query.Add(new("code_challenge_method", context.CodeChallengeMethod));
        }
        if (context.Nonce is not null)
            query.Add(new("nonce", context.Nonce));
        if (context.DpopKeyThumbprint is not null)
            query.Add(new("dpop_jkt", context.DpopKeyThumbprint));
        if (resource is not null)
            query.Add(new("resource", resource.OriginalString));
        foreach (var (key, value) in providerParameters)
        {
            // A provider-level nonce would be the same for every login: ours replaces it.
            if (!extras.ContainsKey(key) && !(context.Nonce is not null && key == "nonce"))
                query.Add(new(key, value));
        }
        foreach (var (key, value) in extras)
            query.Add(new(key, value ?? ""));
        return WithQuery(endpoint, query);
    }

    /// <summary>
    /// <paramref name="endpoint"/> followed by <paramref name="query"/>, each name and value percent-encoded (also for the
    /// end-session URL, <see cref="EndSessionUrlBuilder"/>).
    /// </summary>
    internal static Uri WithQuery(Uri endpoint, List<KeyValuePair<string, string>> query)
    {
        // The endpoint as it is written (EndpointRules refuses one with a fragment); a query it carries itself (some
        // tenants put one there) is kept and ours follows it. AbsoluteUri is the Uri's own cached string, not a new one.
        var absolute = endpoint.AbsoluteUri.AsSpan();
        var builder = AcquireBuilder();
        builder.Append(absolute);
        var queryStart = absolute.IndexOf('?');
        if (queryStart < 0) builder.Append('?');
        else if (queryStart < absolute.Length - 1 && absolute[^1] != '&') builder.Append('&');
        for (var i = 0; i < query.Count; i++)
        {
            if (i > 0)
                builder.Append('&');
            builder.Append(Uri.EscapeDataString(query[i].Key)).Append('=').Append(Uri.EscapeDataString(query[i].Value));
        }
        var url = builder.ToString();
        ReleaseBuilder(builder);
        return new Uri(url);
    }

    private static readonly IReadOnlyDictionary<string, string> NoParameters = new Dictionary<string, string>().AsReadOnly();

    // One builder per thread, reused: a login's URL is a few hundred characters, built thousands of times a second, and
    // a new builder each time was its largest allocation. Build never yields, so a thread's builder is never shared.
    [ThreadStatic]
    private static StringBuilder? t_builder;

    private static StringBuilder AcquireBuilder()
    {
        var builder = t_builder ?? new StringBuilder(512);
        t_builder = null;
        return builder.Clear();
    }

    private static void ReleaseBuilder(StringBuilder builder)
    {
        // A URL with very long extra parameters is not worth keeping a large buffer for.
        if (builder.Capacity <= 4096) t_builder = builder;
    }
}

