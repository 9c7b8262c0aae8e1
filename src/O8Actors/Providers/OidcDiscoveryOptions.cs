namespace O8Actors.Providers;

/// <summary>
/// Settings of an OpenID Connect / OAuth 2.0 provider configured from its issuer URL; endpoints, PKCE and
/// <c>iss</c> support come from its metadata (OpenID Connect Discovery 1.0, RFC 8414).
/// </summary>
public sealed class OidcDiscoveryOptions
{
    /// <summary>The provider's registered name, for example <c>keycloak</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// The issuer identifier exactly as the provider publishes it, for example <c>https://login.example.com/realms/main</c>.
    /// The metadata's <c>issuer</c> must equal it (a trailing slash aside). HTTPS, or http on a loopback host.
    /// </summary>
    public string Issuer { get; set; } = "";

    /// <summary>The client id registered at the provider.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The client secret; leave empty for a public client.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The certificate whose private key signs client assertions under <c>private_key_jwt</c>; see <see cref="GenericOAuthOptions.ClientCertificate"/>.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The private key that signs client assertions under <c>private_key_jwt</c>, instead of a certificate; see <see cref="GenericOAuthOptions.ClientSigningKey"/>.</summary>
    public System.Security.Cryptography.AsymmetricAlgorithm? ClientSigningKey { get; set; }

    /// <summary>The <c>kid</c> of <see cref="ClientSigningKey"/>'s (or <see cref="ClientCertificate"/>'s) assertions; see <see cref="GenericOAuthOptions.ClientSigningKeyId"/>.</summary>
    public string? ClientSigningKeyId { get; set; }

    /// <summary>The audience of the client's assertions; see <see cref="GenericOAuthOptions.ClientAssertionAudience"/>.</summary>
    public ClientAssertionAudience? ClientAssertionAudience { get; set; }

    /// <summary>
    /// How to authenticate at the token endpoint. When unset: with a secret, <c>client_secret_basic</c> unless the metadata
    /// lists only <c>client_secret_post</c>; else with a <see cref="ClientCertificate"/> or <see cref="ClientSigningKey"/>,
    /// <c>private_key_jwt</c>; else <c>none</c>.
    /// </summary>
    public ClientAuthentication? ClientAuthentication { get; set; }

    /// <summary>The API this client's tokens are for (RFC 8707); see <see cref="GenericOAuthOptions.Resource"/>.</summary>
    public Uri? Resource { get; set; }

    /// <summary>Scopes used when a login asks for none; empty means <c>openid</c>.</summary>
    public IList<string> DefaultScopes { get; set; } = new List<string>();

    /// <summary>
    /// Whether to send PKCE. A public client (no secret) always does: turning it off, or metadata whose
    /// <c>code_challenge_methods_supported</c> lacks S256, is refused. A confidential client may turn it off, and leaves
    /// it out when the metadata lacks S256; O8Actors then logs a warning once.
    /// </summary>
    public bool UsePkce { get; set; } = true;

    /// <summary>
    /// Whether tokens are bound to a per-login key with DPoP (RFC 9449); see <see cref="GenericOAuthOptions.UseDpop"/>.
    /// Metadata whose <c>dpop_signing_alg_values_supported</c> lacks ES256 is refused. Default false.
    /// </summary>
    public bool UseDpop { get; set; }

    /// <summary>How far the provider's clock may be from ours when ID token <c>exp</c> and <c>iat</c> are checked. Default 5 minutes.</summary>
    public TimeSpan IdTokenClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Other spellings of the issuer that the provider documents for its ID tokens' <c>iss</c>; see
    /// <see cref="GenericOAuthOptions.IdTokenIssuerAliases"/>. Empty: those O8Actors knows for the discovered issuer
    /// (Google's <c>accounts.google.com</c>), none for any other.
    /// </summary>
    public IList<string> IdTokenIssuerAliases { get; set; } = new List<string>();

    /// <summary>
    /// How long the metadata read from the provider is used before it is read again, so that a provider that moves an
    /// endpoint or its <c>jwks_uri</c> is followed without a restart. Default 24 hours; at least 1 minute.
    /// <see cref="TimeSpan.Zero"/> (or <see cref="Timeout.InfiniteTimeSpan"/>) reads it only once.
    /// </summary>
    /// <remarks>
    /// No login waits for the new read: the first call after the interval starts it in the background and goes on with
    /// the metadata held, which later calls use until the new metadata has arrived and passed the same checks as the
    /// first (issuer, safe endpoints, S256 for a public client, ES256 with <see cref="UseDpop"/>). A read that fails keeps
    /// the metadata held, is logged as a warning, and is tried again after a backoff (30 seconds, doubling up to
    /// 5 minutes). A login already on its way keeps what it was prepared with. The key set, and the DPoP nonces (RFC 9449
    /// section 8) of the token and UserInfo endpoints, go on while <c>jwks_uri</c>, <c>token_endpoint</c> and
    /// <c>userinfo_endpoint</c> are unchanged.
    /// </remarks>
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The shortest <see cref="MetadataRefreshInterval"/>: shorter would read the metadata for nearly every login.</summary>
    internal static readonly TimeSpan MinMetadataRefreshInterval = TimeSpan.FromMinutes(1);

    /// <summary>Whether the metadata is read again at all (<see cref="MetadataRefreshInterval"/> is neither zero nor infinite).</summary>
    internal bool RefreshesMetadata => MetadataRefreshInterval != TimeSpan.Zero && MetadataRefreshInterval != Timeout.InfiniteTimeSpan;

    /// <summary>
    /// This provider's own redirect path (see <see cref="ProviderStrategy.RedirectPath"/>); empty for the default, the
    /// callback path followed by the name (<c>https://localhost:41539/{name}</c>). Must be the callback path or lie under it.
    /// </summary>
    public string? RedirectPath { get; set; }

    /// <summary>Extra parameters added to every authorize URL; a login's own extra parameters win over them.</summary>
    /// <remarks>
    /// A <c>max_age</c> or <c>acr_values</c> here (OpenID Connect Core 1.0 section 3.1.2.1) is a requirement on every
    /// login, not only a request: each login's ID token is checked as for a login's own
    /// <see cref="AuthorizationRequest.MaxAge"/> and <see cref="AuthorizationRequest.AcrValues"/> (an <c>acr</c> among the
    /// values; an <c>auth_time</c> no older than <c>max_age</c>), and a login that fails the check fails with
    /// <see cref="LoginFailure.IdTokenInvalid"/>, whatever the provider or a page between did with the parameter. A
    /// login's own <c>acr_values</c> narrow the provider's, never widen them: the request asks for the login's values that
    /// are among the provider's, and the ID token's <c>acr</c> must be one of those (a login whose values share none with
    /// the provider's fails before the browser opens); of two <c>max_age</c> the shorter is asked for and checked. The provider's logins are then browser logins: a device login cannot carry
    /// the requirement and is refused.
    /// </remarks>
    public IDictionary<string, string> AuthorizeParameters { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra headers on every token request.</summary>
    public IDictionary<string, string> TokenRequestHeaders { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>No secret, or client authentication <c>none</c>: only PKCE proves this client at the token endpoint.</summary>
    internal bool IsPublicClient => ClientAuthentication switch
    {
        Providers.ClientAuthentication.None => true,
        Providers.ClientAuthentication.PrivateKeyJwt => false,
        // Unset: a secret means client_secret_*, else a certificate or key means private_key_jwt (the strategy's choice).
        _ => string.IsNullOrEmpty(ClientSecret) && (ClientAuthentication is not null || !HasClientKey),
    };

    /// <summary>Whether a certificate or a key is set to sign client assertions.</summary>
    internal bool HasClientKey => ClientCertificate is not null || ClientSigningKey is not null;

    /// <summary>Checks the settings and throws one clear error for the first problem found.</summary>
    /// <exception cref="ArgumentException">A setting is missing or invalid; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("An OpenID Connect provider needs a Name.", nameof(Name));
        var who = $"The OpenID Connect provider '{Name}'";
        if (!Uri.TryCreate(Issuer, UriKind.Absolute, out var issuer))
            throw new ArgumentException($"{who} needs an absolute Issuer URL, got '{Issuer}'.", nameof(Issuer));
        if (!string.IsNullOrEmpty(issuer.Query) || !string.IsNullOrEmpty(issuer.Fragment))
            throw new ArgumentException($"{who}: the Issuer must not have a query or fragment (RFC 8414 section 2), got '{Issuer}'.", nameof(Issuer));
        EndpointRules.RequireSecureAbsolute(issuer, $"{who}: Issuer", nameof(Issuer));
        if (string.IsNullOrWhiteSpace(ClientId))
            throw new ArgumentException($"{who} needs a ClientId.", nameof(ClientId));
        if (ClientAuthentication is Providers.ClientAuthentication.Basic or Providers.ClientAuthentication.Post && string.IsNullOrEmpty(ClientSecret))
            throw new ArgumentException($"{who} uses client authentication '{ClientAuthentication}' but has no ClientSecret.", nameof(ClientSecret));
        if (ClientAssertionAudience is { } audience && !Enum.IsDefined(audience))
            throw new ArgumentException($"{who} has an unknown ClientAssertionAudience value {(int)audience}.", nameof(ClientAssertionAudience));
        if ((ClientAuthentication == Providers.ClientAuthentication.PrivateKeyJwt || HasClientKey)
            && ClientAssertions.Problem(ClientCertificate, ClientSigningKey) is { } keyProblem)
            throw new ArgumentException($"{who} uses private_key_jwt: {keyProblem}", ClientSigningKey is null ? nameof(ClientCertificate) : nameof(ClientSigningKey));
        if (Resource is not null)
            EndpointRules.RequireResourceIndicator(Resource, $"{who}: Resource", nameof(Resource));
        if (!UsePkce && IsPublicClient)
            throw new ArgumentException(
                $"{who} is a public client (no client secret) with UsePkce = false. A public client must use PKCE S256 " +
                "(RFC 9700 section 2.1.1). Keep UsePkce = true.", nameof(UsePkce));
        if (DefaultScopes is not null && DefaultScopes.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{who} has an empty entry in DefaultScopes.", nameof(DefaultScopes));
        if (IdTokenClockSkew < TimeSpan.Zero || IdTokenClockSkew > IdTokens.IdTokenValidator.MaxClockSkew)
            throw new ArgumentException($"{who}: IdTokenClockSkew must be between 0 and 1 hour, got {IdTokenClockSkew}.", nameof(IdTokenClockSkew));
        if (RefreshesMetadata && MetadataRefreshInterval < MinMetadataRefreshInterval)
            throw new ArgumentException(
                $"{who}: MetadataRefreshInterval must be at least {MinMetadataRefreshInterval.TotalMinutes:0} minute, or zero to read the metadata only once; got {MetadataRefreshInterval}.",
                nameof(MetadataRefreshInterval));
        if (IdTokenIssuerAliases is not null && IdTokenIssuerAliases.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{who} has an empty entry in IdTokenIssuerAliases.", nameof(IdTokenIssuerAliases));
        if (O8Actors.Callback.RedirectPaths.Problem("/", Name, RedirectPath) is { } pathProblem)
            throw new ArgumentException(pathProblem, nameof(RedirectPath));
        if (AuthorizeParameters is not null)
        {
            AuthorizeUrlBuilder.RejectReserved(AuthorizeParameters, $"{who}: AuthorizeParameters");
            StepUp.ThrowIfInvalidForProvider(AuthorizeParameters, who);
        }
    }

    internal OidcDiscoveryOptions Clone() => new()
    {
        Name = Name,
        Issuer = Issuer,
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        ClientCertificate = ClientCertificate,
        ClientSigningKey = ClientSigningKey,
        ClientSigningKeyId = ClientSigningKeyId,
        ClientAssertionAudience = ClientAssertionAudience,
        ClientAuthentication = ClientAuthentication,
        Resource = Resource,
        DefaultScopes = new List<string>(DefaultScopes ?? []),
        UsePkce = UsePkce,
        UseDpop = UseDpop,
        IdTokenClockSkew = IdTokenClockSkew,
        MetadataRefreshInterval = MetadataRefreshInterval,
        IdTokenIssuerAliases = new List<string>(IdTokenIssuerAliases ?? []),
        RedirectPath = RedirectPath,
        AuthorizeParameters = new Dictionary<string, string>(AuthorizeParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal),
        TokenRequestHeaders = new Dictionary<string, string>(TokenRequestHeaders ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase),
    };
}
