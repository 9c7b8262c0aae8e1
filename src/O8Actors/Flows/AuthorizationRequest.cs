namespace O8Actors;

/// <summary>
/// What one login asks of a provider: scopes, extra authorize parameters and its deadline.
/// </summary>
/// <param name="Scopes">Scopes to request; empty means the provider's default scopes.</param>
/// <param name="Timeout">How long to wait for the browser to come back (more than zero, at most one day); <c>null</c> uses
/// <c>o8.login.timeout</c>.</param>
/// <param name="ExtraParameters">Extra authorize-request parameters (for example <c>prompt</c> or <c>login_hint</c>). Not those
/// O8Actors sets itself (<c>state</c>, <c>redirect_uri</c>, the PKCE pair...), nor a <c>response_mode</c> but <c>query</c>
/// (the listener reads the code from the redirect's query): such a login fails at once as
/// <see cref="LoginFailure.ProviderUnavailable"/>, saying which parameter.</param>
/// <param name="Partition">Server mode: who the login is for (the app's user id, or the client's address for anonymous
/// callers). At most <c>o8.login.max-pending-per-partition</c> logins of one partition run at once; <c>null</c> is not counted.</param>
public sealed record AuthorizationRequest(
    IReadOnlyList<string>? Scopes = null,
    TimeSpan? Timeout = null,
    IReadOnlyDictionary<string, string>? ExtraParameters = null,
    string? Partition = null)
{
    /// <summary>
    /// The key of the account this login signs in, for providers without a validated ID token (GitHub, Discord): the
    /// app's own stable id for the person (a user id it looked up, or simply <c>"default"</c> in a single-user CLI). When
    /// the login returns a validated ID token its <c>sub</c> is the key and this is ignored. With neither, the login's
    /// tokens are returned but not remembered as an account.
    /// </summary>
    public string? AccountKey { get; init; }

    /// <summary>
    /// How the user signs in: <see cref="LoginMethod.Browser"/>, <see cref="LoginMethod.Device"/> (RFC 8628: a code to
    /// enter on any device, for machines without a browser) or <see cref="LoginMethod.Auto"/> (the device grant when no
    /// browser can be opened here and the provider supports it). Null (the default): the configured
    /// <c>o8.login.method</c> (<c>O8:Login:Method</c>), which is <see cref="LoginMethod.Browser"/> unless the app changes it.
    /// </summary>
    public LoginMethod? Method { get; init; }

    /// <summary>
    /// The longest time since the user last actively signed in at the provider that this login accepts (OpenID Connect
    /// <c>max_age</c>, Core 1.0 section 3.1.2.1): the provider must ask the user again when it has been longer, and
    /// <see cref="TimeSpan.Zero"/> always asks (a step-up before a sensitive action). The validated ID token must then
    /// carry an <c>auth_time</c> no earlier than that before the login started (within the provider's clock skew), or
    /// the login fails as <see cref="LoginFailure.IdTokenInvalid"/>: a provider that ignored the request, or an old
    /// session's token, does not pass as a fresh sign-in. For OpenID Connect providers (ID tokens validated) and browser
    /// logins; a <c>max_age</c> given in <see cref="ExtraParameters"/> is checked the same way. Null (the default): none.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>
    /// The authentication context classes the sign-in must satisfy, most preferred first (OpenID Connect
    /// <c>acr_values</c>, Core 1.0 section 3.1.2.1): for example the provider's value for multi-factor or
    /// phishing-resistant authentication. The validated ID token's <c>acr</c> must be one of them, or the login fails as
    /// <see cref="LoginFailure.IdTokenInvalid"/>: a provider that signed the user in with less, or ignored the request,
    /// does not pass as a step-up (section 3.1.3.7 item 12). For OpenID Connect providers and browser logins; an
    /// <c>acr_values</c> given in <see cref="ExtraParameters"/> is checked the same way. A provider that requires
    /// <c>acr_values</c> of every login (its <c>AuthorizeParameters</c>) is not overruled: only these values that are
    /// among the provider's are asked for and accepted (none: the login fails before the browser opens). Null (the
    /// default): none.
    /// </summary>
    public IReadOnlyList<string>? AcrValues { get; init; }

    /// <summary>A request with the provider's default scopes and the configured timeout.</summary>
    public static AuthorizationRequest Default { get; } = new();

    /// <summary>The scopes, never null.</summary>
    public IReadOnlyList<string> ScopeList => Scopes ?? [];

    /// <summary>The extra parameters, never null.</summary>
    public IReadOnlyDictionary<string, string> Parameters =>
        ExtraParameters ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;

    /// <summary>
    /// The longest login timeout: one day. No person takes longer to sign in, and a deadline must stay a sum the
    /// scheduler's clock and the caller's wait can hold (<see cref="TimeSpan.MaxValue"/> would overflow them).
    /// </summary>
    internal static readonly TimeSpan MaximumTimeout = TimeSpan.FromDays(1);

    /// <summary>
    /// Throws for a request no login can run (a timeout that is not positive or longer than a day, a step-up asked wrongly:
    /// <see cref="StepUp"/>, an account key no <see cref="OAuthAccount"/> takes: refused here, before the browser, rather
    /// than after the user signed in).
    /// </summary>
    internal static void ThrowIfInvalid(AuthorizationRequest request, string paramName)
    {
        if (request.AccountKey is { } key) OAuthAccount.ThrowIfIllFormed(key, paramName);
        if (request.Timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(paramName, "The login timeout must be positive.");
        if (request.Timeout is { } longest && longest > MaximumTimeout)
            throw new ArgumentOutOfRangeException(paramName, $"The login timeout must be at most one day ({MaximumTimeout}), not {longest}.");
        StepUp.ThrowIfInvalid(request, paramName);
    }
}
