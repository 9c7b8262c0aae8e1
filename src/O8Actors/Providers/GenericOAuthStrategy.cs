namespace O8Actors.Providers;

/// <summary>
/// An OAuth 2.0 provider with fixed endpoints (RFC 6749 authorization code grant, PKCE per RFC 7636). The presets in
/// <see cref="ProviderPresets"/> are instances of this class; use it directly for any provider they do not cover.
/// </summary>
/// <remarks>
/// Stateless after construction, so any number of exchanges may run at once. Token and refresh requests go through
/// Duende.IdentityModel; a form-encoded token response is accepted as well as JSON.
/// </remarks>
public sealed class GenericOAuthStrategy : ProviderStrategy
{
    private readonly GenericOAuthOptions _options;
    private readonly ProviderDescriptor _descriptor;
    private readonly TokenEndpointClient _tokens;

    /// <summary>Creates the strategy from a validated copy of <paramref name="options"/>.</summary>
    /// <param name="options">The provider's settings.</param>
    /// <param name="timeProvider">Clock used to turn <c>expires_in</c> into <see cref="TokenSet.ExpiresAt"/>; the system clock by default.</param>
    /// <exception cref="ArgumentException">A setting is missing or invalid.</exception>
    public GenericOAuthStrategy(GenericOAuthOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        _descriptor = new ProviderDescriptor(
            Issuer: string.IsNullOrEmpty(_options.Issuer) ? null : _options.Issuer,
            IssuerParameterSupported: _options.IssuerParameterSupported,
            SupportsPkce: _options.UsePkce);
        _tokens = new TokenEndpointClient(_options, timeProvider ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public override string Name => _options.Name;

    /// <summary>A copy of the settings this strategy uses (the client secret included: do not log it).</summary>
    public GenericOAuthOptions Options => _options.Clone();

    /// <summary>What the configuration says; no network call.</summary>
    public ProviderDescriptor Descriptor => _descriptor;

    /// <inheritdoc />
    public override Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(_descriptor);

    /// <inheritdoc />
    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) =>
        AuthorizeUrlBuilder.Build(
            _options.AuthorizationEndpoint!, _options.ClientId, context, _options.DefaultScopes, _options.ScopeSeparator,
            _options.AuthorizeParameters);

    /// <inheritdoc />
    public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
        _tokens.ExchangeCodeAsync(context, http, cancellationToken);

    /// <inheritdoc />
    /// <remarks>When the server does not rotate the refresh token, the returned set keeps the one passed in.</remarks>
    public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) =>
        _tokens.RefreshAsync(context, http, cancellationToken);

    /// <inheritdoc />
    public override string ToString() => $"GenericOAuthStrategy {{ Name = {Name}, TokenEndpoint = {_options.TokenEndpoint} }}";
}
