namespace O8Actors;

/// <summary>
/// A device login has its user code (RFC 8628 section 3.2): show <see cref="UserCode"/> and <see cref="VerificationUri"/>
/// to the user (and <see cref="VerificationUriComplete"/>, for example as a QR code: <see cref="DeviceCodePrompt"/>).
/// The login polls until the user answers or <see cref="ExpiresIn"/> has passed. The device code itself is never in an event.
/// </summary>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="UserCode">The code the user types on the verification page.</param>
/// <param name="VerificationUri">Where the user goes to enter the code.</param>
/// <param name="VerificationUriComplete">The verification URI with the code in it, when the provider sends one (for a QR code).</param>
/// <param name="ExpiresIn">How long the code is valid for this login: the provider's lifetime for it, shortened to the
/// login's <see cref="AuthorizationRequest.Timeout"/> when that ends sooner, and to 30 minutes at most.</param>
/// <param name="Interval">How often the login polls (at first; each <c>slow_down</c> adds 5 seconds).</param>
public sealed record DeviceCodeIssuedEvent(string LoginId, string Provider, string UserCode, Uri VerificationUri, Uri? VerificationUriComplete,
    TimeSpan ExpiresIn, TimeSpan Interval) : LoginEvent(LoginId, Provider)
{
    /// <inheritdoc />
    /// <remarks>Without the user code (it is for the user's eyes, not for logs).</remarks>
    public override string ToString() =>
        $"DeviceCodeIssuedEvent {{ LoginId = {LoginId}, Provider = {Provider}, VerificationUri = {VerificationUri.GetLeftPart(UriPartial.Path)}, ExpiresIn = {ExpiresIn}, Interval = {Interval} }}";
}

/// <summary>
/// A login chose how the user signs in (always for <see cref="LoginMethod.Auto"/> and <see cref="LoginMethod.Device"/>):
/// <paramref name="Reason"/> says why, for example "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)".
/// </summary>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="Method">What it chose: <see cref="LoginMethod.Browser"/> or <see cref="LoginMethod.Device"/>.</param>
/// <param name="Reason">Why, safe to show and log.</param>
public sealed record LoginMethodChosenEvent(string LoginId, string Provider, LoginMethod Method, string Reason) : LoginEvent(LoginId, Provider);

/// <summary>A device login asked the token endpoint whether the user has answered (RFC 8628 section 3.4).</summary>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="Poll">How many polls so far, this one included.</param>
/// <param name="Interval">The interval now in force (raised by each <c>slow_down</c>).</param>
public sealed record DevicePollEvent(string LoginId, string Provider, int Poll, TimeSpan Interval) : LoginEvent(LoginId, Provider);
