using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.Providers;

/// <summary>
/// Settings of a plain OAuth 2.0 provider whose endpoints are known up front (RFC 6749). Settable properties so
/// the class binds from <c>IConfiguration</c>; <see cref="GenericOAuthStrategy"/> takes a validated copy.
/// </summary>
/// <remarks>
/// Collections start empty on purpose: the configuration binder appends to pre-filled lists, so defaults live in
/// the strategy (for example "no scopes configured" means the <c>scope</c> parameter is left out).
/// </remarks>
public sealed class GenericOAuthOptions
{
    /// <summary>The provider's registered name, for example <c>discord</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>The authorization endpoint (RFC 6749 section 3.1). HTTPS, or http on a loopback host for tests.</summary>
    public Uri? AuthorizationEndpoint { get; set; }

    /// <summary>The token endpoint (RFC 6749 section 3.2). HTTPS, or http on a loopback host for tests.</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>
    /// The token revocation endpoint (RFC 7009), used when an account signs out; null when the provider has none (its
    /// tokens then stay valid there until they expire). HTTPS, or http on a loopback host for tests.
    /// </summary>
    public Uri? RevocationEndpoint { get; set; }

    /// <summary>
    /// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0), where a sign-out that asks for it
    /// (<see cref="SignOutOptions.EndProviderSession"/>) sends the browser to end the user's session at the provider; null
    /// when the provider has none. HTTPS, or http on a loopback host for tests.
    /// </summary>
    public Uri? EndSessionEndpoint { get; set; }

    /// <summary>
    /// The UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), where <see cref="IOAuthLogins.GetUserInfoAsync"/> reads
    /// the signed-in user's claims with the account's access token; null when the provider has none. HTTPS, or http on a
    /// loopback host for tests.
    /// </summary>
    public Uri? UserInfoEndpoint { get; set; }

    /// <summary>
    /// The device authorization endpoint (RFC 8628 section 3.1), for device logins (<see cref="LoginMethod.Device"/>); null
    /// when the provider has none. HTTPS, or http on a loopback host for tests.
    /// </summary>
    public Uri? DeviceAuthorizationEndpoint { get; set; }

    /// <summary>
    /// The pushed authorization request endpoint (RFC 9126). When set, each login first POSTs its authorize parameters there
    /// (with the client's authentication) and opens a short URL with only <c>client_id</c> and <c>request_uri</c>: state,
    /// challenge and scopes stay off the browser's command line and history. A failed push fails the login; it never falls
    /// back to a plain URL. HTTPS, or http on a loopback host for tests.
    /// </summary>
    public Uri? PushedAuthorizationRequestEndpoint { get; set; }

    /// <summary>
    /// The provider accepts only pushed requests (<c>require_pushed_authorization_requests</c>, RFC 9126 section 5): a
    /// provider configured so needs <see cref="PushedAuthorizationRequestEndpoint"/>.
    /// </summary>
    public bool RequirePushedAuthorizationRequests { get; set; }

    /// <summary>The client id registered at the provider.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>
    /// The client secret; required for <see cref="Providers.ClientAuthentication.Basic"/> and
    /// <see cref="Providers.ClientAuthentication.Post"/>.
    /// </summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// The certificate, with its private key, whose key signs the client's assertions under
    /// <see cref="Providers.ClientAuthentication.PrivateKeyJwt"/> (RSA: RS256; ECDSA P-256: ES256); the provider knows it by
    /// its public key or thumbprint. Configuration names its PEM files instead (<c>ClientCertificateFile</c>, <c>ClientKeyFile</c>).
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Instead of <see cref="ClientCertificate"/>: the private key itself that signs the client's assertions under
    /// <see cref="Providers.ClientAuthentication.PrivateKeyJwt"/>, for a client registered with a public JWK rather than a
    /// certificate (RSA of at least 2048 bits: RS256; ECDSA P-256: ES256). Any <see cref="RSA"/> or <see cref="ECDsa"/>
    /// will do, including one whose key never leaves a store or a vault (an <c>RSACng</c> over a persisted key, a key
    /// vault's <c>RSA</c>): it is asked to sign, and its private part need not be exportable. The options do not own it;
    /// keep it alive while the provider is registered. Configuration names a file instead (<c>ClientKeyFile</c> without
    /// <c>ClientCertificateFile</c>: PEM, or a private JWK).
    /// </summary>
    public AsymmetricAlgorithm? ClientSigningKey { get; set; }

    /// <summary>
    /// The <c>kid</c> of <see cref="ClientSigningKey"/>'s (or <see cref="ClientCertificate"/>'s) assertions: the key id it
    /// was registered under at the provider. Empty for the key's JWK thumbprint (RFC 7638), which is what a server computes
    /// for a JWK registered without one (for a certificate, its SHA-256 thumbprint, with <c>x5t#S256</c> beside it).
    /// </summary>
    public string? ClientSigningKeyId { get; set; }

    /// <summary>How the client authenticates at the token endpoint. Default <c>client_secret_basic</c>.</summary>
    public ClientAuthentication ClientAuthentication { get; set; } = ClientAuthentication.Basic;

    /// <summary>
    /// The audience of the client's assertions under <c>private_key_jwt</c>, for a server that takes only one kind;
    /// null (the default): the issuer identifier, or the token endpoint for a provider known to take only that
    /// (Microsoft Entra ID) or one without an issuer.
    /// </summary>
    public ClientAssertionAudience? ClientAssertionAudience { get; set; }

    /// <summary>
    /// Whether the provider's token endpoint redeems a browser login's code only for a client that authenticates, PKCE
    /// or not (GitHub answers <c>incorrect_client_credentials</c>). With <see cref="ClientAuthentication"/> None the
    /// provider then serves device logins only, and a browser login is refused at its start instead of after the user
    /// approved it. A fact about the provider, set by its preset: kept whatever secret a configure callback or the
    /// configuration gives later, so the rule follows the options as they end up.
    /// </summary>
    internal bool CodeExchangeNeedsClientAuthentication { get; set; }

    /// <summary>
    /// Whether the provider takes a client assertion (<see cref="Providers.ClientAuthentication.PrivateKeyJwt"/>) only
    /// with its token endpoint as the audience, issuer known or not (Microsoft Entra ID documents exactly that). A fact
    /// about the provider, set by its preset, as <see cref="CodeExchangeNeedsClientAuthentication"/> is.
    /// </summary>
    internal bool AssertionAudienceIsTokenEndpoint { get; set; }

    /// <summary>
    /// The API this client's tokens are for, as a resource indicator (RFC 8707): an absolute URI without a fragment, sent
    /// as <c>resource</c> on every authorize request, code exchange, refresh and device request, so the provider issues
    /// access tokens whose audience is that API alone (the audience restriction RFC 9700 section 2.3 recommends): a token
    /// that leaks from it is refused by every other API. Null (default): none sent. Configuration: <c>Resource</c>.
    /// </summary>
    public Uri? Resource { get; set; }

    /// <summary>Scopes used when a login asks for none.</summary>
    public IList<string> DefaultScopes { get; set; } = new List<string>();

    /// <summary>
    /// The scopes a request asks for: the login's <paramref name="asked"/> when it names any, else
    /// <see cref="DefaultScopes"/>. The one rule of the authorize URL, the device request and the check for an OpenID
    /// Connect request, so they cannot disagree on what a login asked for.
    /// </summary>
    internal IReadOnlyList<string> ScopesFor(IReadOnlyList<string>? asked) =>
        asked is { Count: > 0 } ? asked : DefaultScopes as IReadOnlyList<string> ?? [.. DefaultScopes ?? []];

    /// <summary>How scopes are joined in the <c>scope</c> parameter. RFC 6749 says a space; a few providers use a comma.</summary>
    public string ScopeSeparator { get; set; } = " ";

    /// <summary>The provider's issuer identifier, if it has one (RFC 8414 / RFC 9207).</summary>
    public string? Issuer { get; set; }

    /// <summary>Whether the provider puts <c>iss</c> on the authorization response (RFC 9207).</summary>
    public bool IssuerParameterSupported { get; set; }

    /// <summary>
    /// Whether to send a PKCE S256 challenge (RFC 7636). Default true; providers that do not know PKCE ignore it. Only a
    /// confidential client (with a secret) may turn it off, and O8Actors then logs a warning once.
    /// </summary>
    public bool UsePkce { get; set; } = true;

    /// <summary>
    /// The provider's JSON Web Key Set (<c>jwks_uri</c>, OpenID Connect Discovery). When set, the provider is treated as
    /// OpenID Connect: every login sends a <c>nonce</c>, and an ID token in a token response is validated (signature,
    /// <c>iss</c>, <c>aud</c>, <c>exp</c>/<c>iat</c>, <c>nonce</c>) before any token is returned. Needs
    /// <see cref="Issuer"/> or <see cref="IdTokenIssuer"/>. HTTPS, or http on a loopback host for tests.
    /// </summary>
    public Uri? JwksUri { get; set; }

    /// <summary>
    /// The <c>iss</c> an ID token must carry, when it differs from <see cref="Issuer"/>. <c>{tenantid}</c> in it is filled
    /// from the token's <c>tid</c> claim (Microsoft's <c>common</c> and <c>organizations</c> endpoints).
    /// </summary>
    public string? IdTokenIssuer { get; set; }

    /// <summary>
    /// Other spellings of the issuer that the provider documents for its ID tokens' <c>iss</c>, accepted as the issuer
    /// itself (Google: <c>accounts.google.com</c> beside <c>https://accounts.google.com</c>). The claims then name the
    /// issuer (<see cref="IdTokenIssuer"/> or <see cref="Issuer"/>), so tokens in either spelling belong to one account.
    /// Empty by default: OpenID Connect asks for the exact issuer. Not with a templated <see cref="IdTokenIssuer"/>.
    /// </summary>
    public IList<string> IdTokenIssuerAliases { get; set; } = new List<string>();

    /// <summary>How far the provider's clock may be from ours when ID token <c>exp</c> and <c>iat</c> are checked. Default 5 minutes.</summary>
    public TimeSpan IdTokenClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// This provider's own redirect path (see <see cref="ProviderStrategy.RedirectPath"/>); empty for the default, the
    /// callback path followed by the name (<c>https://localhost:41539/{name}</c>). Must be the callback path or lie under it.
    /// </summary>
    public string? RedirectPath { get; set; }

    /// <summary>
    /// Whether tokens are bound to a key with DPoP (RFC 9449). Each login makes a new P-256 key, puts its thumbprint on
    /// the authorize URL (<c>dpop_jkt</c>, so the code too is bound), and signs a proof for every token request; the
    /// key stays with the account's tokens for refreshes and for API calls (<see cref="AccessTokenHandler"/>). A token response that
    /// is not <c>token_type=DPoP</c> then fails the login (a server that ignored the proof would hand out a bearer token).
    /// Default false.
    /// </summary>
    public bool UseDpop { get; set; }

    /// <summary>
    /// Extra parameters added to every authorize URL (for example Google's <c>access_type=offline</c>); a login's own
    /// extra parameters win over them.
    /// </summary>
    /// <remarks>
    /// A <c>max_age</c> or <c>acr_values</c> here (OpenID Connect Core 1.0 section 3.1.2.1) is a requirement on every
    /// login, not only a request: each login's ID token is checked as for a login's own
    /// <see cref="AuthorizationRequest.MaxAge"/> and <see cref="AuthorizationRequest.AcrValues"/> (an <c>acr</c> among the
    /// values; an <c>auth_time</c> no older than <c>max_age</c>), and a login that fails the check fails with
    /// <see cref="LoginFailure.IdTokenInvalid"/>, whatever the provider or a page between did with the parameter. A
    /// login's own <c>acr_values</c> narrow the provider's, never widen them: the request asks for the login's values that
    /// are among the provider's, and the ID token's <c>acr</c> must be one of those (a login whose values share none with
    /// the provider's fails before the browser opens); of two <c>max_age</c> the shorter is asked for and checked. Such a provider needs <see cref="JwksUri"/> (ID tokens are validated), and its
    /// logins are browser logins: a device login cannot carry the requirement and is refused.
    /// </remarks>
    public IDictionary<string, string> AuthorizeParameters { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra headers on every token request (for example GitHub's <c>Accept: application/json</c>).</summary>
    public IDictionary<string, string> TokenRequestHeaders { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>A deep copy, so a strategy is not affected by later changes to the options it was built from.</summary>
    public GenericOAuthOptions Clone() => new()
    {
        Name = Name,
        AuthorizationEndpoint = AuthorizationEndpoint,
        TokenEndpoint = TokenEndpoint,
        RevocationEndpoint = RevocationEndpoint,
        EndSessionEndpoint = EndSessionEndpoint,
        UserInfoEndpoint = UserInfoEndpoint,
        DeviceAuthorizationEndpoint = DeviceAuthorizationEndpoint,
        PushedAuthorizationRequestEndpoint = PushedAuthorizationRequestEndpoint,
        RequirePushedAuthorizationRequests = RequirePushedAuthorizationRequests,
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        ClientCertificate = ClientCertificate,
        ClientSigningKey = ClientSigningKey,
        ClientSigningKeyId = ClientSigningKeyId,
        ClientAuthentication = ClientAuthentication,
        CodeExchangeNeedsClientAuthentication = CodeExchangeNeedsClientAuthentication,
        AssertionAudienceIsTokenEndpoint = AssertionAudienceIsTokenEndpoint,
        ClientAssertionAudience = ClientAssertionAudience,
        Resource = Resource,
        DefaultScopes = new List<string>(DefaultScopes ?? []),
        ScopeSeparator = ScopeSeparator,
        Issuer = Issuer,
        IssuerParameterSupported = IssuerParameterSupported,
        UsePkce = UsePkce,
        UseDpop = UseDpop,
        JwksUri = JwksUri,
        IdTokenIssuer = IdTokenIssuer,
        IdTokenIssuerAliases = new List<string>(IdTokenIssuerAliases ?? []),
        IdTokenClockSkew = IdTokenClockSkew,
        RedirectPath = RedirectPath,
        AuthorizeParameters = new Dictionary<string, string>(AuthorizeParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal),
        TokenRequestHeaders = new Dictionary<string, string>(TokenRequestHeaders ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase),
    };

    /// <summary>Checks the settings and throws one clear error for the first problem found.</summary>
    /// <exception cref="ArgumentException">A setting is missing or invalid; the message names it.</exception>
    public void Validate()
    {
        var who = string.IsNullOrWhiteSpace(Name) ? "The OAuth provider" : $"The OAuth provider '{Name}'";
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("An OAuth provider needs a Name (for example 'discord').", nameof(Name));
        EndpointRules.RequireSecureAbsolute(AuthorizationEndpoint, $"{who}: AuthorizationEndpoint", nameof(AuthorizationEndpoint));
        EndpointRules.RequireSecureAbsolute(TokenEndpoint, $"{who}: TokenEndpoint", nameof(TokenEndpoint));
        if (RevocationEndpoint is not null)
            EndpointRules.RequireSecureAbsolute(RevocationEndpoint, $"{who}: RevocationEndpoint", nameof(RevocationEndpoint));
        if (EndSessionEndpoint is not null)
            EndpointRules.RequireSecureAbsolute(EndSessionEndpoint, $"{who}: EndSessionEndpoint", nameof(EndSessionEndpoint));
        if (UserInfoEndpoint is not null)
            EndpointRules.RequireSecureAbsolute(UserInfoEndpoint, $"{who}: UserInfoEndpoint", nameof(UserInfoEndpoint));
        if (DeviceAuthorizationEndpoint is not null)
            EndpointRules.RequireSecureAbsolute(DeviceAuthorizationEndpoint, $"{who}: DeviceAuthorizationEndpoint", nameof(DeviceAuthorizationEndpoint));
        if (PushedAuthorizationRequestEndpoint is not null)
            EndpointRules.RequireSecureAbsolute(PushedAuthorizationRequestEndpoint, $"{who}: PushedAuthorizationRequestEndpoint", nameof(PushedAuthorizationRequestEndpoint));
        else if (RequirePushedAuthorizationRequests)
            throw new ArgumentException(
                $"{who} requires pushed authorization requests (RFC 9126) but has no PushedAuthorizationRequestEndpoint.",
                nameof(PushedAuthorizationRequestEndpoint));
        if (string.IsNullOrWhiteSpace(ClientId))
            throw new ArgumentException($"{who} needs a ClientId.", nameof(ClientId));
        if (!Enum.IsDefined(ClientAuthentication))
            throw new ArgumentException($"{who} has an unknown ClientAuthentication value {(int)ClientAuthentication}.", nameof(ClientAuthentication));
        if (ClientAssertionAudience is { } audience && !Enum.IsDefined(audience))
            throw new ArgumentException($"{who} has an unknown ClientAssertionAudience value {(int)audience}.", nameof(ClientAssertionAudience));
        if (ClientAuthentication is ClientAuthentication.Basic or ClientAuthentication.Post && string.IsNullOrEmpty(ClientSecret))
            throw new ArgumentException(
                $"{who} uses client authentication '{ClientAuthentication}' but has no ClientSecret. " +
                "Set ClientSecret, or set ClientAuthentication to None for a public client (PKCE then proves the client).",
                nameof(ClientSecret));
        if (ClientAuthentication == ClientAuthentication.PrivateKeyJwt && ClientAssertions.Problem(ClientCertificate, ClientSigningKey) is { } keyProblem)
            throw new ArgumentException($"{who} uses private_key_jwt: {keyProblem}", ClientSigningKey is null ? nameof(ClientCertificate) : nameof(ClientSigningKey));
        if (Resource is not null)
            EndpointRules.RequireResourceIndicator(Resource, $"{who}: Resource", nameof(Resource));
        if (!UsePkce && ClientAuthentication == ClientAuthentication.None)
            throw new ArgumentException(
                $"{who} is a public client (no client secret) with UsePkce = false. A public client must use PKCE S256 " +
                "(RFC 9700 section 2.1.1): nothing else stops a stolen code from being redeemed. Keep UsePkce = true.",
                nameof(UsePkce));
        if (JwksUri is not null)
        {
            EndpointRules.RequireSecureAbsolute(JwksUri, $"{who}: JwksUri", nameof(JwksUri));
            if (string.IsNullOrEmpty(IdTokenIssuer) && string.IsNullOrEmpty(Issuer))
                throw new ArgumentException(
                    $"{who} has a JwksUri but no Issuer: ID tokens are checked against the issuer. Set Issuer (or IdTokenIssuer).",
                    nameof(Issuer));
        }
        if (IdTokenIssuerAliases is { Count: > 0 } aliases)
        {
            if (aliases.Any(string.IsNullOrWhiteSpace))
                throw new ArgumentException($"{who} has an empty entry in IdTokenIssuerAliases.", nameof(IdTokenIssuerAliases));
            var idTokenIssuer = string.IsNullOrEmpty(IdTokenIssuer) ? Issuer : IdTokenIssuer;
            if (idTokenIssuer?.Contains(IdTokens.IdTokenValidator.TenantPlaceholder, StringComparison.Ordinal) == true)
                throw new ArgumentException(
                    $"{who} has IdTokenIssuerAliases and a templated ID token issuer; an alias names one issuer, not one per tenant.",
                    nameof(IdTokenIssuerAliases));
        }
        if (IdTokenClockSkew < TimeSpan.Zero || IdTokenClockSkew > IdTokens.IdTokenValidator.MaxClockSkew)
            throw new ArgumentException($"{who}: IdTokenClockSkew must be between 0 and 1 hour, got {IdTokenClockSkew}.", nameof(IdTokenClockSkew));
        if (string.IsNullOrEmpty(ScopeSeparator))
            throw new ArgumentException($"{who} needs a non-empty ScopeSeparator (RFC 6749 uses a space).", nameof(ScopeSeparator));
        if (DefaultScopes is not null && DefaultScopes.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{who} has an empty entry in DefaultScopes.", nameof(DefaultScopes));
        if (O8Actors.Callback.RedirectPaths.Problem("/", Name, RedirectPath) is { } pathProblem)
            throw new ArgumentException(pathProblem, nameof(RedirectPath));
        if (AuthorizeParameters is not null)
        {
            AuthorizeUrlBuilder.RejectReserved(AuthorizeParameters, $"{who}: AuthorizeParameters");
            StepUp.ThrowIfInvalidForProvider(AuthorizeParameters, who, validatesIdTokens: JwksUri is not null);
        }
        if (TokenRequestHeaders is not null && TokenRequestHeaders.Keys.Any(k => string.IsNullOrWhiteSpace(k)))
            throw new ArgumentException($"{who} has an empty header name in TokenRequestHeaders.", nameof(TokenRequestHeaders));
    }
}
