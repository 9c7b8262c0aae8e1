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
    // The DPoP nonces (RFC 9449 section 8) the token and UserInfo endpoints gave, kept here to hand to the strategy that
    // takes over (discovery read again) rather than asked of the clients; null with no UserInfo endpoint.
    private readonly Dpop.DpopNonces _tokenNonces;
    private readonly Dpop.DpopNonces? _userInfoNonces;
    private readonly IdTokens.IdTokenValidator? _idTokens;
    private readonly UserInfoClient? _userInfo;
    private readonly StepUp.Requirement? _requiredStepUp;

    /// <summary>Creates the strategy from a validated copy of <paramref name="options"/>.</summary>
    /// <param name="options">The provider's settings.</param>
    /// <param name="timeProvider">Clock used to turn <c>expires_in</c> into <see cref="TokenSet.ExpiresAt"/>; the system clock by default.</param>
    /// <exception cref="ArgumentException">A setting is missing or invalid.</exception>
    public GenericOAuthStrategy(GenericOAuthOptions options, TimeProvider? timeProvider = null)
        : this(options, timeProvider, keys: null)
    {
    }

    /// <summary>
    /// Creates the strategy with what discovery read again carries over: <paramref name="keys"/>, the key set of
    /// <c>JwksUri</c> held already, and from <paramref name="replaced"/>, the strategy this one takes over from, the DPoP
    /// nonces its token and UserInfo endpoints gave, each while that endpoint is the same (a moved one gives its own).
    /// </summary>
    internal GenericOAuthStrategy(GenericOAuthOptions options, TimeProvider? timeProvider, IdTokens.JwksCache? keys,
        GenericOAuthStrategy? replaced = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        _requiredStepUp = StepUp.OfProvider(_options.AuthorizeParameters);
        _descriptor = new ProviderDescriptor(
            Issuer: string.IsNullOrEmpty(_options.Issuer) ? null : _options.Issuer,
            IssuerParameterSupported: _options.IssuerParameterSupported,
            SupportsPkce: _options.UsePkce,
            UsesDpop: _options.UseDpop)
        {
            SupportsDeviceAuthorization = _options.DeviceAuthorizationEndpoint is not null,
        };
        _tokenNonces = Dpop.DpopNonces.CarriedOver(replaced?._tokenNonces, replaced?._options.TokenEndpoint, _options.TokenEndpoint!);
        _tokens = new TokenEndpointClient(_options, timeProvider ?? TimeProvider.System, _tokenNonces);
        if (_options.JwksUri is not null)
        {
            _idTokens = new IdTokens.IdTokenValidator(_options.Name, _options.ClientId,
                string.IsNullOrEmpty(_options.IdTokenIssuer) ? _options.Issuer! : _options.IdTokenIssuer,
                _options.JwksUri, _options.IdTokenClockSkew, timeProvider ?? TimeProvider.System, keys)
            {
                IssuerAliases = [.. _options.IdTokenIssuerAliases],
            };
        }
        // A signed UserInfo response is verified with the same key set, issuer and audience as the ID tokens.
        if (_options.UserInfoEndpoint is { } userInfo)
        {
            _userInfoNonces = Dpop.DpopNonces.CarriedOver(replaced?._userInfoNonces, replaced?._options.UserInfoEndpoint, userInfo);
            _userInfo = new UserInfoClient(_options.Name, userInfo, _userInfoNonces, timeProvider, _idTokens);
        }
    }

    /// <summary>Whether this provider is OpenID Connect here: it sends a <c>nonce</c> and validates ID tokens (it has a key set).</summary>
    public bool ValidatesIdTokens => _idTokens is not null;

    /// <summary>The ID token validator (tests observe its key set).</summary>
    internal IdTokens.IdTokenValidator? IdTokenValidator => _idTokens;

    /// <inheritdoc />
    public override string Name => _options.Name;

    /// <inheritdoc />
    public override string? RedirectPath => string.IsNullOrEmpty(_options.RedirectPath) ? null : _options.RedirectPath;

    /// <inheritdoc />
    public override string? KnownIssuer => string.IsNullOrEmpty(_options.Issuer) ? null : _options.Issuer;

    /// <inheritdoc />
    /// <remarks>True: a step-up login's ID token is checked, and one that this provider cannot validate fails the login.</remarks>
    public override bool EnforcesStepUp => true;

    internal override bool IsConfidentialClient => _options.ClientAuthentication != ClientAuthentication.None;

    /// <inheritdoc />
    internal override bool RedeemsBrowserLoginCodes =>
        !(_options.CodeExchangeNeedsClientAuthentication && _options.ClientAuthentication == ClientAuthentication.None);

    /// <inheritdoc />
    internal override StepUp.Requirement? RequiredStepUp => _requiredStepUp;

    /// <summary>A copy of the settings this strategy uses (the client secret included: do not log it).</summary>
    public GenericOAuthOptions Options => _options.Clone();

    /// <summary>What the configuration says; no network call.</summary>
    public ProviderDescriptor Descriptor => _descriptor;

    /// <inheritdoc />
    public override Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(_descriptor);

    /// <inheritdoc />
    /// <remarks>The login's <c>nonce</c> goes on the URL only when this provider validates ID tokens.</remarks>
    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return AuthorizeUrlBuilder.Build(
            _options.AuthorizationEndpoint!, _options.ClientId, _idTokens is null && context.Nonce is not null ? context with { Nonce = null } : context,
            _options.ScopesFor(context.Scopes), _options.ScopeSeparator, _options.AuthorizeParameters, _options.Resource);
    }

    /// <inheritdoc />
    /// <remarks>
    /// With <see cref="GenericOAuthOptions.PushedAuthorizationRequestEndpoint"/>, pushes the same parameters the plain URL
    /// would carry (RFC 9126 section 2.1) and returns the authorization endpoint with <c>client_id</c> and
    /// <c>request_uri</c> only; without it, <see cref="BuildAuthorizeUrl"/>.
    /// </remarks>
    public override Task<Uri> BuildAuthorizeUrlAsync(AuthorizeUrlContext context, HttpClient http, CancellationToken cancellationToken)
    {
        if (_options.PushedAuthorizationRequestEndpoint is not null) return PushAuthorizationAsync(context, http, cancellationToken);
        // The plain URL is built at once: a completed task, no async state machine per login (a bad context still
        // comes back as a faulted task, as from the pushed path).
        try
        {
            return Task.FromResult(BuildAuthorizeUrl(context));
        }
        catch (Exception e)
        {
            return Task.FromException<Uri>(e);
        }
    }

    private async Task<Uri> PushAuthorizationAsync(AuthorizeUrlContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var plain = BuildAuthorizeUrl(context);
        var requestUri = await _tokens.PushAuthorizationAsync(plain, http, cancellationToken).ConfigureAwait(false);
        var endpoint = _options.AuthorizationEndpoint!;
        var separator = string.IsNullOrEmpty(endpoint.Query) ? "?" : "&";
        return new Uri($"{endpoint.AbsoluteUri}{separator}client_id={Uri.EscapeDataString(_options.ClientId)}&request_uri={Uri.EscapeDataString(requestUri)}");
    }

    /// <summary>Whether logins push their authorize requests (RFC 9126).</summary>
    public bool PushesAuthorizationRequests => _options.PushedAuthorizationRequestEndpoint is not null;

    /// <inheritdoc />
    public override bool AuthorizeUrlSendsARequest => PushesAuthorizationRequests;

    /// <inheritdoc />
    /// <remarks>Sends the token to <see cref="GenericOAuthOptions.RevocationEndpoint"/>; false when none is configured.</remarks>
    public override Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken) =>
        _options.RevocationEndpoint is null ? Task.FromResult(false) : RevokeCoreAsync(context, http, cancellationToken);

    private async Task<bool> RevokeCoreAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        await _tokens.RevokeAsync(context, http, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>The URL of <see cref="GenericOAuthOptions.EndSessionEndpoint"/>; null when none is configured.</remarks>
    public override Task<Uri?> BuildEndSessionUrlAsync(EndSessionContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(_options.EndSessionEndpoint is { } endpoint ? EndSessionUrlBuilder.Build(endpoint, _options.ClientId, context) : null);
    }

    internal override Task<bool?> HasEndSessionEndpointAsync(HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult<bool?>(_options.EndSessionEndpoint is not null);

    /// <inheritdoc />
    /// <remarks>With <see cref="GenericOAuthOptions.JwksUri"/>: checked against the same key set, issuer and client id as the ID tokens; null without it.</remarks>
    public override async Task<LogoutToken?> ValidateLogoutTokenAsync(string logoutToken, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(logoutToken);
        if (_idTokens is null) return null;
        return await _idTokens.ValidateLogoutTokenAsync(logoutToken, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Calls <see cref="GenericOAuthOptions.UserInfoEndpoint"/>; null when none is configured.</remarks>
    public override Task<System.Text.Json.JsonElement?> FetchUserInfoAsync(UserInfoContext context, HttpClient http, CancellationToken cancellationToken) =>
        _userInfo is null ? Task.FromResult<System.Text.Json.JsonElement?>(null) : _userInfo.FetchAsync(context, http, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="IdTokenValidationException">The response's ID token failed validation; no tokens are returned.</exception>
    /// <exception cref="IdTokenValidationException">The login asked for a step-up (<c>max_age</c>, <c>acr_values</c>) and this provider validates no ID tokens.</exception>
    public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_idTokens is null && context.RequiresIdToken)
            // Refused before the code is sent: nothing here could show when and how the user signed in.
            return Task.FromException<TokenSet>(new IdTokenValidationException(
                $"The login asked for max_age or acr_values, but the provider '{Name}' validates no ID tokens, so when and how the user signed in " +
                "cannot be checked (set JwksUri and Issuer, or use an OpenID Connect provider's discovery).") { NoEndpointAnswer = true });
        // Without a validator there is nothing to do after the exchange: its task is the answer (one async layer and its
        // state machine less per login).
        return _idTokens is null
            ? _tokens.ExchangeCodeAsync(context, http, cancellationToken)
            : ExchangeAndValidateAsync(context, http, cancellationToken);
    }

    private async Task<TokenSet> ExchangeAndValidateAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var tokens = await _tokens.ExchangeCodeAsync(context, http, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(tokens.IdToken))
        {
            if (context.RequiresIdToken)
                throw new IdTokenValidationException(
                    $"The login asked for max_age or acr_values, but the provider '{Name}' returned no ID token, so when and how the user signed in cannot be checked (ask for the 'openid' scope).")
                {
                    Issued = tokens,
                };
            // An OpenID Connect request's answer must carry an ID token (OpenID Connect Core 1.0 section 3.1.3.3): without
            // it the login's nonce is never checked, the defence against an injected code when PKCE is off (RFC 9700
            // section 2.1.1), and nothing says who signed in.
            if (context.Nonce is not null && AsksForOpenId(context.Scopes))
                throw new IdTokenValidationException(
                    $"The provider '{Name}' answered an OpenID Connect login (scope 'openid') without an ID token, so its nonce and its user cannot be checked. No tokens were returned.")
                {
                    Issued = tokens,
                };
        }
        return await ValidateAsync(tokens, context.Nonce, http, cancellationToken, context, context.KeysDeadline).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// When the server does not rotate the refresh token, the returned set keeps the one passed in. An ID token in the
    /// answer is validated like a login's, except for <c>nonce</c> (OpenID Connect Core 1.0 section 12.2). When the
    /// provider's key set cannot be fetched, the answer comes back without its ID token (the account keeps the one it
    /// holds) rather than failing a refresh that has already spent its refresh token.
    /// </remarks>
    /// <exception cref="IdTokenValidationException">The response's ID token failed validation.</exception>
    public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) =>
        _idTokens is null ? _tokens.RefreshAsync(context, http, cancellationToken) : RefreshAndValidateAsync(context, http, cancellationToken);

    private async Task<TokenSet> RefreshAndValidateAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var tokens = await _tokens.RefreshAsync(context, http, cancellationToken).ConfigureAwait(false);
        try
        {
            return await ValidateAsync(tokens, null, http, cancellationToken, keysDeadline: context.KeysDeadline).ConfigureAwait(false);
        }
        catch (IdTokenValidationException refused) when (refused.KeysUnavailable || refused.ClockRelated)
        {
            // The provider's key set could not be fetched, so the new ID token is neither good nor bad; or it is signed by
            // the provider for this client, and only this machine's clock disagrees with its times (a laptop's clock off
            // after sleep). It is left out and the account keeps the one it holds (OpenID Connect Core 1.0 section 12.2
            // makes a refresh's ID token optional). Refusing the answer instead would revoke what this request brought,
            // its refresh token spent already: the rotated one, or at Google the access token, whose revocation ends the
            // grant, and the user would be signed out over a passing failure. The access and refresh tokens came from the
            // token endpoint itself, as a provider without ID tokens sends them.
            Diagnostics.O8Metrics.IdTokensUnchecked.Add(1, new KeyValuePair<string, object?>("provider", Name),
                new KeyValuePair<string, object?>("reason", refused.ClockRelated ? "clock" : "keys"));
            return tokens with { IdToken = null, IdTokenClaims = null };
        }
    }

    /// <inheritdoc />
    /// <remarks>Sends the request to <see cref="GenericOAuthOptions.DeviceAuthorizationEndpoint"/>.</remarks>
    public override Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
        CancellationToken cancellationToken) =>
        _options.DeviceAuthorizationEndpoint is null
            ? base.RequestDeviceAuthorizationAsync(context, http, cancellationToken)
            : _tokens.RequestDeviceAuthorizationAsync(context, http, cancellationToken);

    /// <inheritdoc />
    /// <remarks>An ID token in the answer is validated like a refresh's (a device login sends no <c>nonce</c>).</remarks>
    /// <exception cref="IdTokenValidationException">The response's ID token failed validation.</exception>
    public override async Task<DeviceTokenPoll> PollDeviceTokenAsync(DeviceTokenContext context, HttpClient http, CancellationToken cancellationToken)
    {
        if (_options.DeviceAuthorizationEndpoint is null)
            return await base.PollDeviceTokenAsync(context, http, cancellationToken).ConfigureAwait(false);
        var poll = await _tokens.PollDeviceTokenAsync(context, http, cancellationToken).ConfigureAwait(false);
        return poll.Tokens is { } tokens
            ? poll with { Tokens = await ValidateAsync(tokens, null, http, cancellationToken, keysDeadline: context.KeysDeadline).ConfigureAwait(false) }
            : poll;
    }

    /// <summary>Whether a login that asked for <paramref name="scopes"/> (none: the defaults) made an OpenID Connect request.</summary>
    private bool AsksForOpenId(IReadOnlyList<string> scopes) => _options.ScopesFor(scopes).Contains("openid", StringComparer.Ordinal);

    private async Task<TokenSet> ValidateAsync(TokenSet tokens, string? nonce, HttpClient http, CancellationToken cancellationToken,
        CodeExchangeContext? stepUp = null, long? keysDeadline = null)
    {
        // Without a validator an ID token is passed on as it came, with no IdTokenClaims (nothing vouches for them).
        if (_idTokens is null || string.IsNullOrEmpty(tokens.IdToken))
            return tokens;
        try
        {
            var claims = await _idTokens.ValidateAsync(tokens.IdToken, nonce, http, cancellationToken,
                stepUp?.AuthenticatedNotBefore, stepUp?.AcceptedAcrValues, keysDeadline).ConfigureAwait(false);
            return tokens with { IdTokenClaims = claims };
        }
        catch (IdTokenValidationException refused)
        {
            // The token endpoint issued these with it: live grants nobody will use, so the provider actor revokes them.
            throw refused.Carrying(tokens);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"GenericOAuthStrategy {{ Name = {Name}, TokenEndpoint = {_options.TokenEndpoint} }}";
}
