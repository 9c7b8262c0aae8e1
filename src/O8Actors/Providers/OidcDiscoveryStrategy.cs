namespace O8Actors.Providers;

/// <summary>
/// A provider configured from its issuer URL. <see cref="ResolveAsync"/> reads its metadata (OpenID Connect
/// Discovery, falling back to RFC 8414), checks the metadata <c>issuer</c>, and learns the endpoints, PKCE support
/// and RFC 9207 <c>iss</c> support. The result is cached in the strategy; a failed lookup is retried next time.
/// Concurrent callers share one lookup, and a caller's cancellation token ends only its own wait.
/// </summary>
/// <remarks>
/// The metadata is read again once it is older than <see cref="OidcDiscoveryOptions.MetadataRefreshInterval"/>: the
/// first call after that starts one read in the background and goes on with the metadata held; the new metadata serves
/// the calls after it once it has passed the first read's checks. A read that fails keeps the metadata held.
/// </remarks>
public sealed class OidcDiscoveryStrategy : ProviderStrategy, IRefreshesMetadata
{
    private readonly OidcDiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly StepUp.Requirement? _requiredStepUp;
    private readonly object _gate = new();
    private Task<Resolution>? _pending;
    private volatile Resolution? _resolved;
    // After a failed lookup, no call anyone can make (a back-channel logout's POST) starts another before this (read and
    // written under the gate).
    private DateTimeOffset _anyoneMayRetryAt = DateTimeOffset.MinValue;
    // A background read of the metadata is under way; after a failed one, none starts before _refreshRetryAt, the delay
    // doubling with each failure in a row (the key set's backoff). All three read and written under the gate.
    private bool _refreshing;
    private DateTimeOffset _refreshRetryAt = DateTimeOffset.MinValue;
    private TimeSpan _refreshRetryDelay = TimeSpan.Zero;

    /// <summary>Creates the strategy; no network call happens until <see cref="ResolveAsync"/>.</summary>
    /// <param name="options">The provider's settings.</param>
    /// <param name="timeProvider">Clock for <c>expires_in</c>; the system clock by default.</param>
    /// <exception cref="ArgumentException">A setting is missing or invalid.</exception>
    public OidcDiscoveryStrategy(OidcDiscoveryOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        _requiredStepUp = StepUp.OfProvider(_options.AuthorizeParameters);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public override string Name => _options.Name;

    /// <summary>The client authentication the options name (null: chosen from the metadata at resolve time).</summary>
    internal ClientAuthentication? ConfiguredClientAuthentication => _options.ClientAuthentication;

    /// <inheritdoc />
    public override string? RedirectPath => string.IsNullOrEmpty(_options.RedirectPath) ? null : _options.RedirectPath;

    /// <inheritdoc />
    public override string? KnownIssuer => _options.Issuer;

    /// <inheritdoc />
    /// <remarks>True: a step-up login's ID token is checked against the metadata's key set.</remarks>
    public override bool EnforcesStepUp => true;

    internal override bool IsConfidentialClient => !_options.IsPublicClient;

    /// <inheritdoc />
    /// <remarks>From the configured <see cref="OidcDiscoveryOptions.AuthorizeParameters"/>, known before the metadata is read.</remarks>
    internal override StepUp.Requirement? RequiredStepUp => _requiredStepUp;

    /// <summary>The scopes a login that asks for none gets (empty: <c>openid</c>); read by the configuration tests.</summary>
    internal IReadOnlyList<string> DefaultScopes => [.. _options.DefaultScopes];

    /// <summary>How long the metadata read is used before it is read again; read by the configuration tests.</summary>
    internal TimeSpan MetadataRefreshInterval => _options.MetadataRefreshInterval;

    /// <summary>The configured issuer.</summary>
    public string Issuer => _options.Issuer;

    /// <summary>The discovered authorization endpoint, once resolved.</summary>
    public Uri? AuthorizationEndpoint => _resolved?.Strategy.Options.AuthorizationEndpoint;

    /// <summary>The discovered token endpoint, once resolved.</summary>
    public Uri? TokenEndpoint => _resolved?.Strategy.Options.TokenEndpoint;

    /// <summary>The client authentication in use, once resolved.</summary>
    public ClientAuthentication? ClientAuthentication => _resolved?.Strategy.Options.ClientAuthentication;

    /// <inheritdoc />
    /// <exception cref="ProviderDiscoveryException">No usable metadata was found.</exception>
    /// <exception cref="IssuerMismatchException">The metadata names a different issuer.</exception>
    public override async Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        return (await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false)).Descriptor;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="ResolveAsync"/> has not completed yet.</exception>
    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context)
    {
        var resolved = _resolved ?? throw new InvalidOperationException(
            $"The provider '{Name}' has not read its metadata yet: call ResolveAsync before building an authorize URL.");
        return resolved.Strategy.BuildAuthorizeUrl(context);
    }

    /// <inheritdoc />
    /// <remarks>As the metadata read last says: it has a <c>pushed_authorization_request_endpoint</c> (or none was read yet).</remarks>
    public override bool AuthorizeUrlSendsARequest => _resolved?.Strategy.PushesAuthorizationRequests ?? true;

    /// <inheritdoc />
    /// <remarks>Pushes the request (RFC 9126) when the metadata has a <c>pushed_authorization_request_endpoint</c>.</remarks>
    public override async Task<Uri> BuildAuthorizeUrlAsync(AuthorizeUrlContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.BuildAuthorizeUrlAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.ExchangeCodeAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.RefreshAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Uses the metadata's <c>revocation_endpoint</c>; false when it has none.</remarks>
    public override async Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.RevokeAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Uses the metadata's <c>end_session_endpoint</c>; null when it has none.</remarks>
    public override async Task<Uri?> BuildEndSessionUrlAsync(EndSessionContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.BuildEndSessionUrlAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    internal override async Task<bool?> HasEndSessionEndpointAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.HasEndSessionEndpointAsync(http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Checked against the metadata's <c>jwks_uri</c> and issuer; null when the metadata has no key set. Anyone can post a
    /// logout token, so one whose form is wrong is refused before the metadata is read, and while the metadata cannot be
    /// read a post starts no new lookup within 30 seconds of the last failure (it fails as that lookup did).
    /// </remarks>
    public override async Task<LogoutToken?> ValidateLogoutTokenAsync(string logoutToken, HttpClient http, CancellationToken cancellationToken)
    {
        IdTokens.IdTokenValidator.CheckLogoutTokenForm(Name, logoutToken);
        var resolved = await EnsureResolvedAsync(http, cancellationToken, anyoneMaySend: true).ConfigureAwait(false);
        return await resolved.Strategy.ValidateLogoutTokenAsync(logoutToken, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Uses the metadata's <c>userinfo_endpoint</c>; null when it has none.</remarks>
    public override async Task<System.Text.Json.JsonElement?> FetchUserInfoAsync(UserInfoContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.FetchUserInfoAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Uses the metadata's <c>device_authorization_endpoint</c>; a provider without one does not support device logins.</remarks>
    public override async Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
        CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.RequestDeviceAuthorizationAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<DeviceTokenPoll> PollDeviceTokenAsync(DeviceTokenContext context, HttpClient http, CancellationToken cancellationToken)
    {
        var resolved = await EnsureResolvedAsync(http, cancellationToken).ConfigureAwait(false);
        return await resolved.Strategy.PollDeviceTokenAsync(context, http, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    ProviderDescriptor? IRefreshesMetadata.LatestDescriptor => _resolved?.Descriptor;

    /// <inheritdoc />
    event Action<MetadataRefreshed>? IRefreshesMetadata.Refreshed
    {
        add { lock (_gate) _refreshed += value; }
        remove { lock (_gate) _refreshed -= value; }
    }

    private Action<MetadataRefreshed>? _refreshed;

    /// <summary>The discovered device authorization endpoint (RFC 8628), once resolved; null when the metadata has none.</summary>
    public Uri? DeviceAuthorizationEndpoint => _resolved?.Strategy.Options.DeviceAuthorizationEndpoint;

    /// <summary>The discovered end-session endpoint (OpenID Connect RP-Initiated Logout), once resolved; null when the metadata has none.</summary>
    public Uri? EndSessionEndpoint => _resolved?.Strategy.Options.EndSessionEndpoint;

    /// <summary>The discovered UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), once resolved; null when the metadata has none.</summary>
    public Uri? UserInfoEndpoint => _resolved?.Strategy.Options.UserInfoEndpoint;

    /// <summary>The discovered revocation endpoint (RFC 7009), once resolved; null when the metadata has none.</summary>
    public Uri? RevocationEndpoint => _resolved?.Strategy.Options.RevocationEndpoint;

    /// <inheritdoc />
    public override string ToString() => $"OidcDiscoveryStrategy {{ Name = {Name}, Issuer = {Issuer} }}";

    /// <summary>
    /// A backstop for one metadata lookup. The lookup is shared by every caller that waits for it, so it runs on a bound
    /// of its own and never on a caller's token: one login's timeout or cancellation must not fail the others waiting
    /// (the key set's rule, in <see cref="IdTokens.JwksCache.FetchTimeout"/>). O8Actors' HTTP client ends it sooner (its
    /// safe-request pipeline's timeout).
    /// </summary>
    internal TimeSpan LookupTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How many background reads of the metadata have started (the tests count them; read under no lock).</summary>
    internal int RefreshesStarted { get; private set; }

    /// <summary>
    /// One lookup at a time; a successful one is kept, a failed one is forgotten so the next call retries: at once for
    /// the app's own calls (a login), only after a backoff for a call anyone can make (<paramref name="anyoneMaySend"/>),
    /// so junk posted while the provider is down cannot drive its metadata endpoints (the key set's rule, in
    /// <see cref="IdTokens.JwksCache"/>). <paramref name="cancellationToken"/> ends this caller's wait only. Once kept,
    /// the metadata is answered at once, and read again in the background when it is due (<see cref="RefreshIfDue"/>).
    /// </summary>
    private Task<Resolution> EnsureResolvedAsync(HttpClient http, CancellationToken cancellationToken, bool anyoneMaySend = false)
    {
        if (_resolved is { } done)
        {
            RefreshIfDue(http, done);
            return Task.FromResult(done);
        }
        Task<Resolution> lookup;
        lock (_gate)
        {
            var failed = _pending is { IsFaulted: true } or { IsCanceled: true };
            if (_pending is null || (failed && (!anyoneMaySend || _time.GetUtcNow() >= _anyoneMayRetryAt)))
            {
                _pending = ResolveNotingFailureAsync(http);
                // Every waiter may have given up before the lookup fails; its failure is then nobody's to observe.
                _pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            lookup = _pending;
        }
        return lookup.WaitAsync(cancellationToken);
    }

    /// <summary>A lookup on its own bound whose failure sets when a call anyone can make may start the next.</summary>
    private async Task<Resolution> ResolveNotingFailureAsync(HttpClient http)
    {
        try
        {
            return _resolved = await ReadBoundedAsync(http, previous: null).ConfigureAwait(false);
        }
        catch
        {
            NoteFailure();
            throw;
        }
    }

    /// <summary>One read of the metadata on its own bound (<see cref="LookupTimeout"/>), never on a caller's token.</summary>
    private async Task<Resolution> ReadBoundedAsync(HttpClient http, Resolution? previous)
    {
        using var bound = new CancellationTokenSource(LookupTimeout);
        try
        {
            return await ResolveCoreAsync(http, previous, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (bound.IsCancellationRequested)
        {
            throw new ProviderDiscoveryException(
                $"Discovery for provider '{Name}' timed out: its metadata did not arrive within {LookupTimeout.TotalSeconds:0.#} seconds.", ex);
        }
    }

    /// <summary>
    /// Starts one background read of the metadata when <paramref name="held"/> is older than the refresh interval, none
    /// is under way, and the backoff after a failed one has passed. Every caller is held to that backoff, so a call
    /// anyone can make (a back-channel logout's POST) cannot drive the metadata endpoints either. The caller does not
    /// wait: the read runs on the thread pool, on its own bound.
    /// </summary>
    private void RefreshIfDue(HttpClient http, Resolution held)
    {
        if (!_options.RefreshesMetadata) return;
        var now = _time.GetUtcNow();
        if (now - held.ReadAt < _options.MetadataRefreshInterval) return;
        lock (_gate)
        {
            if (_refreshing || now < _refreshRetryAt || !ReferenceEquals(_resolved, held)) return;
            _refreshing = true;
            RefreshesStarted++;
        }
        _ = Task.Run(() => RefreshAsync(http, held));
    }

    /// <summary>
    /// The background read: new metadata that passed every check replaces <paramref name="held"/> for the calls after
    /// it; a read that failed (the network, an HTTP error, a timeout, or a document that fails a check) keeps
    /// <paramref name="held"/> and sets the backoff. Either way the provider actor hears of it, to log it.
    /// </summary>
    private async Task RefreshAsync(HttpClient http, Resolution held)
    {
        Resolution? fresh = null;
        string? problem = null;
        try
        {
            fresh = await ReadBoundedAsync(http, held).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Discovery's own messages name URLs and status codes, never a secret; anything else only by its type.
            problem = e is OAuthFlowException or HttpRequestException ? e.Message : e.GetType().Name;
        }

        MetadataRefreshed report;
        Action<MetadataRefreshed>? listeners;
        lock (_gate)
        {
            _refreshing = false;
            if (fresh is not null)
            {
                _resolved = fresh;
                _refreshRetryDelay = TimeSpan.Zero;
                report = new MetadataRefreshed(Name, fresh.Descriptor, null, TimeSpan.Zero);
            }
            else
            {
                // Counted from the failure, not the start: a read that hangs fails late.
                _refreshRetryDelay = IdTokens.JwksCache.NextRetryDelay(_refreshRetryDelay);
                _refreshRetryAt = _time.GetUtcNow() + _refreshRetryDelay;
                report = new MetadataRefreshed(Name, null, problem, _refreshRetryDelay);
            }
            listeners = _refreshed;
        }
        listeners?.Invoke(report);
    }

    /// <summary>Counted from the failure, not the start: a lookup that hangs fails late.</summary>
    private void NoteFailure()
    {
        lock (_gate) _anyoneMayRetryAt = _time.GetUtcNow() + IdTokens.JwksCache.FirstRetryDelay;
    }

    /// <summary>
    /// Reads and checks the metadata; <paramref name="previous"/>, the metadata held, lends its key set when <c>jwks_uri</c>
    /// is unchanged, and the DPoP nonces of its token and UserInfo endpoints while <c>token_endpoint</c> and
    /// <c>userinfo_endpoint</c> are.
    /// </summary>
    private async Task<Resolution> ResolveCoreAsync(HttpClient http, Resolution? previous, CancellationToken cancellationToken)
    {
        var metadata = await MetadataDiscovery.DiscoverAsync(_options.Name, _options.Issuer, http, cancellationToken).ConfigureAwait(false);
        if (!metadata.SupportsS256 && _options.IsPublicClient)
            throw new ProviderDiscoveryException(
                $"The metadata of provider '{Name}' at {metadata.Source} lists code_challenge_methods_supported without S256. " +
                "This client has no secret, so only PKCE S256 protects its codes (RFC 9700 section 2.1.1); O8Actors will not sign in " +
                "without it. Enable S256 at the provider, or register a confidential client and set its ClientSecret.");
        var pkce = _options.UsePkce && metadata.SupportsS256;
        if (_options.UseDpop && metadata.DpopSigningAlgorithms is { } algorithms && !algorithms.Contains("ES256", StringComparer.Ordinal))
            throw new ProviderDiscoveryException(
                $"The metadata of provider '{Name}' at {metadata.Source} lists dpop_signing_alg_values_supported without ES256, the " +
                "only DPoP algorithm O8Actors signs with. Enable ES256 for DPoP at the provider, or turn UseDpop off.");
        var generic = new GenericOAuthOptions
        {
            Name = _options.Name,
            AuthorizationEndpoint = metadata.AuthorizationEndpoint,
            TokenEndpoint = metadata.TokenEndpoint,
            RevocationEndpoint = metadata.RevocationEndpoint,
            EndSessionEndpoint = metadata.EndSessionEndpoint,
            UserInfoEndpoint = metadata.UserInfoEndpoint,
            DeviceAuthorizationEndpoint = metadata.DeviceAuthorizationEndpoint,
            PushedAuthorizationRequestEndpoint = metadata.PushedAuthorizationRequestEndpoint,
            RequirePushedAuthorizationRequests = metadata.RequirePushedAuthorizationRequests,
            ClientId = _options.ClientId,
            ClientSecret = _options.ClientSecret,
            ClientCertificate = _options.ClientCertificate,
            ClientSigningKey = _options.ClientSigningKey,
            ClientSigningKeyId = _options.ClientSigningKeyId,
            ClientAssertionAudience = _options.ClientAssertionAudience,
            Resource = _options.Resource,
            ClientAuthentication = _options.ClientAuthentication ?? ChooseAuthentication(metadata.TokenEndpointAuthMethods),
            DefaultScopes = _options.DefaultScopes.Count > 0 ? new List<string>(_options.DefaultScopes) : ["openid"],
            Issuer = metadata.Issuer,
            IssuerParameterSupported = metadata.IssuerParameterSupported,
            UsePkce = pkce,
            UseDpop = _options.UseDpop,
            // With a key set the provider is OpenID Connect: logins send a nonce and ID tokens are validated (issuer:
            // the metadata's, which was just checked against the configured one).
            JwksUri = metadata.JwksUri,
            IdTokenClockSkew = _options.IdTokenClockSkew,
            IdTokenIssuerAliases = _options.IdTokenIssuerAliases.Count > 0
                ? new List<string>(_options.IdTokenIssuerAliases)
                : ProviderPresets.KnownIssuerAliases(metadata.Issuer),
            AssertionAudienceIsTokenEndpoint = ProviderPresets.TakesAssertionsForTheTokenEndpointOnly(metadata.Issuer),
            AuthorizeParameters = new Dictionary<string, string>(_options.AuthorizeParameters, StringComparer.Ordinal),
            TokenRequestHeaders = new Dictionary<string, string>(_options.TokenRequestHeaders, StringComparer.OrdinalIgnoreCase),
        };
        // Whether ID tokens are checked is fixed by the first read: a refresh that drops jwks_uri (a document that fails and
        // falls back to the RFC 8414 one, say) would take logins on with no ID-token check and accounts without their
        // sub, and one that adds it would check logins begun without a nonce against one. Either is refused, and the
        // metadata held stays in use until a restart takes the change.
        if (previous is not null && (previous.Strategy.IdTokenValidator is null) != (metadata.JwksUri is null))
            throw new ProviderDiscoveryException(metadata.JwksUri is null
                ? $"The metadata of provider '{Name}' at {metadata.Source} no longer lists a jwks_uri, so ID tokens would go unchecked: the metadata read before stays in use (restart the app to take the change)."
                : $"The metadata of provider '{Name}' at {metadata.Source} now lists a jwks_uri it did not before: the metadata read before stays in use (restart the app to check ID tokens).");
        // The same key set goes on (its keys, its refetch limits) while jwks_uri is the same; a new jwks_uri gets its own.
        var keys = previous?.Strategy.IdTokenValidator?.Keys is { } held && metadata.JwksUri is { } jwks
                   && string.Equals(held.Uri.AbsoluteUri, jwks.AbsoluteUri, StringComparison.Ordinal)
            ? held
            : null;
        // Likewise the token and UserInfo endpoints' DPoP nonces (RFC 9449 section 8), or the first token request and the
        // first UserInfo call after every read would be refused for them and sent again; a moved endpoint starts without.
        GenericOAuthStrategy strategy;
        try
        {
            strategy = new GenericOAuthStrategy(generic, _time, keys, previous?.Strategy);
        }
        catch (ArgumentException ex)
        {
            throw new ProviderDiscoveryException($"The metadata of provider '{Name}' at {metadata.Source} is unusable: {ex.Message}", ex);
        }
        return new Resolution(strategy, strategy.Descriptor, _time.GetUtcNow());
    }

    /// <summary>
    /// RFC 8414 section 2: an absent list means <c>client_secret_basic</c>. Without a secret, a configured certificate or
    /// signing key means <c>private_key_jwt</c>, and neither a public client.
    /// </summary>
    private ClientAuthentication ChooseAuthentication(IReadOnlyList<string> methods)
    {
        if (string.IsNullOrEmpty(_options.ClientSecret))
            return !_options.HasClientKey ? Providers.ClientAuthentication.None : Providers.ClientAuthentication.PrivateKeyJwt;
        if (methods.Count == 0 || methods.Contains("client_secret_basic", StringComparer.Ordinal))
            return Providers.ClientAuthentication.Basic;
        return methods.Contains("client_secret_post", StringComparer.Ordinal)
            ? Providers.ClientAuthentication.Post
            : Providers.ClientAuthentication.Basic;
    }

    /// <summary>The metadata as a strategy, and when it was read (<paramref name="ReadAt"/>, for the refresh interval).</summary>
    private sealed record Resolution(GenericOAuthStrategy Strategy, ProviderDescriptor Descriptor, DateTimeOffset ReadAt);
}
