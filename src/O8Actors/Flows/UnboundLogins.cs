namespace O8Actors.Flows;

/// <summary>
/// Server mode's rule that every browser login is bound to the browser that starts it (RFC 9700 section 4.7.1). Only
/// <c>IOAuthConnector.BeginAsync</c> can bind one, since only it has the user's request; any other way of starting a
/// browser login there (<see cref="IOAuthLogins.RunAsync"/>, <see cref="IOAuthLogins.AuthorizeAsync"/>, an account's
/// interactive login) is refused before it starts.
/// </summary>
internal static class UnboundLogins
{
    /// <summary>
    /// Whether <paramref name="request"/> may end up as a browser login: anything but an explicit device login. Auto
    /// chooses the browser when one "can be opened" (server mode's launcher opens nothing and says it did) or when the
    /// provider has no device grant, and a step-up login is always a browser login.
    /// </summary>
    public static bool MayUseBrowser(AuthorizationRequest request, LoginMethod configured) =>
        (request.Method ?? configured) != LoginMethod.Device || StepUp.Requested(request);

    /// <summary>The refusal of an unbound browser login in server mode: names the call to use instead (no secret in it).</summary>
    public static InvalidOperationException Refusal() => new(
        "In server mode (O8:Listener:ExternalRedirectUri is set) a browser login must be bound to the browser that starts it, " +
        "and IOAuthLogins.RunAsync and AuthorizeAsync (or an interactive GetAccessTokenAsync) have no browser to bind: its " +
        "authorize URL, forwarded to anyone, would sign them in. Start the login with IOAuthConnector.BeginAsync(HttpContext, provider) " +
        "and redirect the user's browser to PendingLogin.AuthorizeUrl. A device login (AuthorizationRequest.Method = Device) may still run through RunAsync.");
}
