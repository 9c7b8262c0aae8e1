namespace O8Actors.Callback;

// Messages between the CallbackServerActor, the FlowActors and the Kestrel request handler.
// Every message carries the login's LoginId so the shapes stay ready for cluster sharding keyed by state.

/// <summary>A FlowActor asks the listener to route callbacks carrying <paramref name="State"/> to it (the sender).</summary>
/// <param name="State">The login's <c>state</c>.</param>
/// <param name="LoginId">The login it belongs to.</param>
/// <param name="WatchRegistrant">Whether the listener DeathWatches the sender while it waits, to forget its states if it
/// dies without <see cref="UnregisterState"/>. A registrant that always unregisters itself when it stops (as
/// <see cref="O8Actors.Flows.FlowActor"/> does in <c>PostStop</c>) passes <c>false</c> and saves the watch's memory.
/// Either way a browser never waits on a registrant that died: a registrant answers a callback that reached it from its
/// <c>PostStop</c>, and one that reaches it already gone is answered by the dead-letter watcher.</param>
/// <param name="Acknowledge">Whether the registrant waits for <see cref="StateRegistered"/> (to learn the redirect URI).
/// One that already knows the URI passes <c>false</c> and goes on at once: the listener then answers only a refusal,
/// and a callback cannot overtake the registration (the registrant sends it before it hands out any authorize URL, and
/// the listener reads its mailbox in order).</param>
internal sealed record RegisterState(string State, string LoginId, bool WatchRegistrant = true, bool Acknowledge = true)
{
    /// <summary>
    /// The registrant is a sign-out's browser step (<see cref="O8Actors.Flows.EndSessionActor"/>): it is sent
    /// <see cref="SignOutReturned"/> for a return that carries neither a code nor an error, and nothing else; a login's
    /// registration is never sent such a return.
    /// </summary>
    public bool ForSignOut { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"RegisterState {{ LoginId = {LoginId} }}";
}

/// <summary>The listener accepted a registration; <paramref name="RedirectUri"/> is the exact URI to send to the provider.</summary>
internal sealed record StateRegistered(string LoginId, Uri RedirectUri);

/// <summary>The listener could not accept a registration (it failed to start, or is stopping).</summary>
internal sealed record StateRegistrationRefused(string LoginId, string Reason, Exception? Cause = null)
{
    /// <inheritdoc />
    public override string ToString() => $"StateRegistrationRefused {{ LoginId = {LoginId}, Reason = {Reason}, Cause = {Diagnostics.Printed.TypeOf(Cause)} }}";
}

/// <summary>
/// A FlowActor that ended (or stopped) before its callback asks the listener to forget its state; after a callback it
/// does not: the listener removed the state when it routed that callback.
/// </summary>
internal sealed record UnregisterState(string State, string LoginId)
{
    /// <inheritdoc />
    public override string ToString() => $"UnregisterState {{ LoginId = {LoginId} }}";
}

/// <summary>
/// A redirect that matched a registered state, forwarded to its FlowActor. The sender waits for one
/// <see cref="CallbackResponse"/> and renders it as the page the browser shows.
/// </summary>
/// <param name="LoginId">The login it belongs to.</param>
/// <param name="Code">The authorization code (a secret), if present.</param>
/// <param name="Error">The provider's <c>error</c>, if present.</param>
/// <param name="ErrorDescription">The provider's <c>error_description</c>, if present.</param>
/// <param name="Issuer">The <c>iss</c> parameter (RFC 9207), if present.</param>
/// <param name="Path">The path the callback arrived on; the login refuses one that is not its provider's redirect path.</param>
internal sealed record AuthorizationCallback(string LoginId, string? Code, string? Error, string? ErrorDescription, string? Issuer, string? Path = null)
{
    /// <summary>Server mode: the browser-binding secrets the request presented (login id → secret; secrets, never printed).</summary>
    public IReadOnlyDictionary<string, string>? BrowserSecrets { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"AuthorizationCallback {{ LoginId = {LoginId}, HasCode = {Code is not null}, Error = {Error}, Issuer = {Issuer} }}";
}

/// <summary>
/// The provider sent the browser back after ending its session (OpenID Connect RP-Initiated Logout: the
/// <c>post_logout_redirect_uri</c> with the sign-out's <c>state</c>, nothing else). The sender waits for one
/// <see cref="CallbackResponse"/>.
/// </summary>
/// <param name="RequestId">The sign-out step it belongs to.</param>
/// <param name="Path">The path it arrived on; the step refuses one that is not its provider's redirect path.</param>
internal sealed record SignOutReturned(string RequestId, string? Path);

/// <summary>The page to show the browser for a callback.</summary>
/// <param name="StatusCode">HTTP status.</param>
/// <param name="Kind">Which page.</param>
/// <param name="Detail">Plain text shown on the page (HTML-encoded when rendered; may hold provider text, never a secret).</param>
internal sealed record CallbackResponse(int StatusCode, CallbackPageKind Kind, string Detail)
{
    /// <summary>The login that answered, when a login did (server mode clears that login's browser-binding cookie).</summary>
    public string? LoginId { get; init; }

    /// <summary>Server mode: a path of the app to send the browser to (303) instead of showing the page; set by <c>MapOAuthCallback</c>.</summary>
    public string? RedirectTo { get; init; }
}

/// <summary>The pages the listener can show.</summary>
internal enum CallbackPageKind
{
    /// <summary>Tokens obtained: "you can close this tab".</summary>
    Success,
    /// <summary>The provider refused the authorization.</summary>
    Denied,
    /// <summary>The login failed (exchange, issuer, timeout).</summary>
    Failed,
    /// <summary>The request is not a valid callback for any live login.</summary>
    BadRequest,
    /// <summary>Nothing lives at that path.</summary>
    NotFound,
    /// <summary>The method is not GET.</summary>
    MethodNotAllowed,
    /// <summary>The provider ended its session: "you are signed out".</summary>
    SignedOut,
    /// <summary>A sign-out's return that cannot complete it (another address, too early, too late): not a sign-in's page.</summary>
    SignOutRefused,
}

/// <summary>Asks the listener whether it is bound.</summary>
internal sealed record GetListenerStatus
{
    /// <summary>The single instance.</summary>
    public static GetListenerStatus Instance { get; } = new();
}

/// <summary>The listener's state.</summary>
/// <param name="Bound">Whether Kestrel is listening.</param>
/// <param name="RedirectUri">The redirect URI, once bound.</param>
/// <param name="RegisteredStates">Logins currently waiting for a callback.</param>
/// <param name="Failure">Why the listener could not start, if it could not.</param>
internal sealed record ListenerStatus(bool Bound, Uri? RedirectUri, int RegisteredStates, OAuthFlowException? Failure)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"ListenerStatus {{ Bound = {Bound}, RedirectUri = {RedirectUri}, RegisteredStates = {RegisteredStates}, Failure = {Diagnostics.Printed.TypeOf(Failure)} }}";
}
