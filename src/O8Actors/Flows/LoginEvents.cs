namespace O8Actors;

/// <summary>
/// Progress of one login, published on the actor system's event stream (and exposed by <see cref="IOAuthLogins.Events"/>)
/// for UIs, progress bars and agents. Events never carry a token, code or verifier.
/// </summary>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Provider">The provider's name.</param>
public abstract record LoginEvent(string LoginId, string Provider)
{
    /// <summary>When it happened.</summary>
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Which account the login signs in, as far as its request says (<see cref="AuthorizationRequest.AccountKey"/>): for the
    /// login an account runs when <see cref="IOAuthLogins.GetAccessTokenAsync"/> allows interaction, that account's
    /// <see cref="OAuthAccount.Key"/>; for a login the app starts itself, the key it gave (null when it gave none). With
    /// many logins at once it tells whose an event is, so each user is shown their own device code
    /// (<see cref="DeviceCodeIssuedEvent"/>) or authorize URL. Set before the event is published; left out of
    /// <see cref="ToString"/>, since a key may name a person.
    /// </summary>
    public string? AccountKey { get; internal set; }

    /// <summary>The members <see cref="ToString"/> prints: the login, the provider and the time, never <see cref="AccountKey"/>.</summary>
    /// <param name="builder">Where to print them.</param>
    /// <returns>True: members were printed.</returns>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Append("LoginId = ").Append(LoginId).Append(", Provider = ").Append(Provider).Append(", At = ").Append(At);
        return true;
    }
}

/// <summary>A login started.</summary>
public sealed record LoginStartedEvent(string LoginId, string Provider) : LoginEvent(LoginId, Provider)
{
    /// <summary>
    /// The request's <c>login_hint</c>, if any: the TestKit's harness tags each login's script with it and must learn
    /// which login plays which script from its first event, since a login can end before any other event names it (no
    /// authorize URL yet). Internal: a hint can name the user, and no app needs it back from its own request.
    /// </summary>
    internal string? LoginHint { get; init; }
}

/// <summary>The authorize URL is ready (show it if no browser opens).</summary>
/// <remarks>The URL carries the login's <c>state</c> (and PKCE challenge): show it to the user, never log it.
/// <see cref="ToString"/> prints it without its query.</remarks>
public sealed record AuthorizeUrlReadyEvent(string LoginId, string Provider, Uri AuthorizeUrl) : LoginEvent(LoginId, Provider)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"AuthorizeUrlReadyEvent {{ LoginId = {LoginId}, Provider = {Provider}, AuthorizeUrl = {AuthorizeUrl.GetLeftPart(UriPartial.Path)}?… }}";
}

/// <summary>The browser launcher finished: <paramref name="Launched"/> says whether a browser opened.</summary>
public sealed record BrowserLaunchedEvent(string LoginId, string Provider, bool Launched, string Detail) : LoginEvent(LoginId, Provider);

/// <summary>
/// The browser came back to the listener. <c>Error</c> is the redirect's <c>error</c> (cleaned) once the redirect is
/// known to be this provider's answer in this login's browser; null for a redirect that failed those checks (another
/// provider's path, another browser, a foreign <c>iss</c>), whose words are not this provider's refusal.
/// </summary>
public sealed record CallbackReceivedEvent(string LoginId, string Provider, bool HasCode, string? Error) : LoginEvent(LoginId, Provider);

/// <summary>The code was exchanged for tokens.</summary>
public sealed record TokensExchangedEvent(string LoginId, string Provider) : LoginEvent(LoginId, Provider);

/// <summary>The login ended; <paramref name="Reason"/> is safe to show (never a secret).</summary>
public sealed record LoginEndedEvent(string LoginId, string Provider, LoginOutcomeKind Outcome, string? Reason, TimeSpan Duration)
    : LoginEvent(LoginId, Provider);
