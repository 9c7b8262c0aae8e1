namespace O8Actors.Providers;

// Messages to and from provider actors. The ProviderRegistryActor forwards the per-login ones to the provider named
// in them, keeping the original sender, so a FlowActor never needs to resolve a provider's address itself.

/// <summary>Registers (or replaces) a provider strategy; answered with <see cref="ProviderRegistered"/>.</summary>
public sealed record RegisterProvider(ProviderStrategy Strategy);

/// <summary>A provider is ready to take logins.</summary>
public sealed record ProviderRegistered(string Provider);

/// <summary>Asks a provider for one login's authorize URL; answered with <see cref="AuthorizationPrepared"/> or <see cref="ProviderUnavailable"/>.</summary>
public sealed record PrepareAuthorization(
    string Provider,
    string LoginId,
    string State,
    string? CodeChallenge,
    Uri RedirectUri,
    IReadOnlyList<string> Scopes,
    IReadOnlyDictionary<string, string> ExtraParameters)
{
    /// <inheritdoc />
    public override string ToString() => $"PrepareAuthorization {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>The authorize URL for one login and what the provider supports.</summary>
public sealed record AuthorizationPrepared(string LoginId, Uri AuthorizeUrl, ProviderDescriptor Descriptor)
{
    /// <inheritdoc />
    public override string ToString() => $"AuthorizationPrepared {{ LoginId = {LoginId} }}";
}

/// <summary>The provider could not serve the request (unknown name, discovery failed, bad configuration).</summary>
/// <param name="LoginId">The login (or request) it answers.</param>
/// <param name="Reason">Why, safe to log and show.</param>
/// <param name="Failure"><see cref="LoginFailure.UnknownProvider"/> when no provider has that name, else <see cref="LoginFailure.ProviderUnavailable"/>.</param>
public sealed record ProviderUnavailable(string LoginId, string Reason, LoginFailure Failure = LoginFailure.ProviderUnavailable);

/// <summary>Exchanges one code; answered with <see cref="CodeExchanged"/> or <see cref="CodeExchangeFailed"/>.</summary>
public sealed record ExchangeCode(string Provider, string LoginId, string Code, string? CodeVerifier, Uri RedirectUri)
{
    /// <inheritdoc />
    public override string ToString() => $"ExchangeCode {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>The code was exchanged.</summary>
public sealed record CodeExchanged(string LoginId, TokenSet Tokens);

/// <summary>The exchange failed; <paramref name="Reason"/> is safe to log and show.</summary>
public sealed record CodeExchangeFailed(string LoginId, LoginFailure Failure, string Reason, string? ProviderError, Exception? Cause = null);

/// <summary>Refreshes a token; answered with <see cref="CodeExchanged"/> or <see cref="CodeExchangeFailed"/> (LoginId = <paramref name="RequestId"/>).</summary>
public sealed record RefreshTokens(string Provider, string RequestId, string RefreshToken, IReadOnlyList<string>? Scopes)
{
    /// <inheritdoc />
    public override string ToString() => $"RefreshTokens {{ Provider = {Provider}, RequestId = {RequestId} }}";
}
