namespace O8Actors.Providers;

/// <summary>What a strategy needs to start a device login (RFC 8628 section 3.1).</summary>
/// <param name="Scopes">Scopes the caller asked for; empty means the strategy's defaults.</param>
/// <param name="ExtraParameters">Extra parameters for the device authorization request.</param>
public sealed record DeviceAuthorizationContext(IReadOnlyList<string> Scopes, IReadOnlyDictionary<string, string> ExtraParameters)
{
    /// <inheritdoc />
    public override string ToString() => $"DeviceAuthorizationContext {{ Scopes = {string.Join(' ', Scopes)} }}";
}

/// <summary>The device authorization response (RFC 8628 section 3.2).</summary>
/// <param name="DeviceCode">The device code (a secret: never log it, never show it).</param>
/// <param name="UserCode">The code the user enters.</param>
/// <param name="VerificationUri">Where the user enters it.</param>
/// <param name="VerificationUriComplete">The verification URI with the user code in it, or null.</param>
/// <param name="ExpiresIn">How long the device code is valid.</param>
/// <param name="Interval">The minimum time between polls (5 seconds when the provider says nothing).</param>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, Uri VerificationUri, Uri? VerificationUriComplete,
    TimeSpan ExpiresIn, TimeSpan Interval)
{
    /// <summary>RFC 8628 section 3.2: the interval when the response has none.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The device code's lifetime when the provider gives none (or none that is positive): <c>expires_in</c> is required
    /// (RFC 8628 section 3.2), and a device login must still end on its own. The common 15 minutes.
    /// </summary>
    internal static TimeSpan DefaultLifetime { get; } = TimeSpan.FromMinutes(15);

    /// <inheritdoc />
    public override string ToString() =>
        $"DeviceAuthorization {{ VerificationUri = {VerificationUri.GetLeftPart(UriPartial.Path)}, ExpiresIn = {ExpiresIn}, Interval = {Interval} }}";
}

/// <summary>What a strategy needs to poll the token endpoint once (RFC 8628 section 3.4).</summary>
/// <param name="DeviceCode">The device code (a secret).</param>
public sealed record DeviceTokenContext(string DeviceCode)
{
    /// <summary>The login's DPoP key when the provider binds tokens (RFC 9449): sign a proof for the poll with it.</summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <summary>
    /// When waiting for the provider's key set must end (a <see cref="System.Diagnostics.Stopwatch"/> timestamp): a poll
    /// that brought tokens has spent its device code, so a key endpoint that hangs must fail it as an unchecked ID token
    /// (the tokens revoked, the login ended) before the provider actor's timeout makes it look like a silent token
    /// endpoint, which the login would poll again. Null when nobody set one.
    /// </summary>
    internal long? KeysDeadline { get; init; }

    /// <summary>The scopes the login asked for (empty: the provider's defaults), as its device authorization request named them.</summary>
    internal IReadOnlyList<string> Scopes { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => "DeviceTokenContext { DeviceCode = *** }";
}

/// <summary>What one poll of the token endpoint said (RFC 8628 section 3.5).</summary>
public enum DevicePollStatus
{
    /// <summary><c>authorization_pending</c>: the user has not answered yet; poll again after the interval.</summary>
    Pending,
    /// <summary><c>slow_down</c>: poll again, with the interval raised by 5 seconds.</summary>
    SlowDown,
    /// <summary><c>access_denied</c> (Microsoft: <c>authorization_declined</c>): the user refused.</summary>
    Denied,
    /// <summary><c>expired_token</c>: the device code expired before the user answered.</summary>
    Expired,
    /// <summary>The user approved; <see cref="DeviceTokenPoll.Tokens"/> holds the tokens.</summary>
    Issued,
}

/// <summary>The answer to one poll.</summary>
/// <param name="Status">What the token endpoint said.</param>
/// <param name="Tokens">The tokens, when <see cref="DevicePollStatus.Issued"/>.</param>
/// <param name="Error">The provider's <c>error</c> code, when it sent one.</param>
/// <param name="ErrorDescription">The provider's <c>error_description</c>, when it sent one.</param>
public sealed record DeviceTokenPoll(DevicePollStatus Status, TokenSet? Tokens = null, string? Error = null, string? ErrorDescription = null)
{
    /// <summary>Tokens were issued.</summary>
    public static DeviceTokenPoll Issued(TokenSet tokens) => new(DevicePollStatus.Issued, tokens);

    /// <inheritdoc />
    public override string ToString() => $"DeviceTokenPoll {{ Status = {Status}, Error = {Error} }}";
}
