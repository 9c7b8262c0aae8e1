namespace O8Actors.Providers;

/// <summary>
/// Ready-made strategies for well-known providers, taken from their public documentation. Each <c>XxxOptions</c>
/// method returns the settings (so a test or a proxy can point an endpoint elsewhere); each <c>Xxx</c> method builds
/// the strategy, optionally after a <c>configure</c> callback.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Preset</term><description>PKCE / refresh / RFC 9207 <c>iss</c> / client authentication</description></listheader>
/// <item><term>Discord</term><description>S256 / yes (rotating) / compared when present (issuer <c>https://discord.com</c>), not required / client_secret_basic, or none without a secret</description></item>
/// <item><term>GitHub</term><description>S256 (since July 2025) / only GitHub Apps with expiring tokens / no / client_secret_post, or none without a secret (device logins only)</description></item>
/// <item><term>Google</term><description>S256 / yes with <c>access_type=offline</c> / no (issuer known) / client_secret_post, or none</description></item>
/// <item><term>Microsoft</term><description>S256 (required for public clients) / yes with <c>offline_access</c> / no (issuer known for a tenant id) / client_secret_post, private_key_jwt (certificate credentials), or none</description></item>
/// </list>
/// Only the Microsoft preset takes <see cref="ClientAuthentication.PrivateKeyJwt"/>; the others refuse it when built, since
/// their providers accept no client assertion.
/// </remarks>
public static class ProviderPresets
{
    /// <summary>Discord's authorize endpoint as its OAuth2 documentation gives it.</summary>
    /// <remarks>
    /// The Python original used <c>https://discord.com/api/oauth2/authorize</c>, which Discord's RFC 8414 metadata also
    /// lists; both serve the same consent page. The documented one is used here.
    /// </remarks>
    public const string DiscordAuthorizationEndpoint = "https://discord.com/oauth2/authorize";

    /// <summary>Discord's token endpoint (form-encoded requests only).</summary>
    public const string DiscordTokenEndpoint = "https://discord.com/api/oauth2/token";

    /// <summary>Discord's issuer, from <c>https://discord.com/.well-known/oauth-authorization-server</c>.</summary>
    public const string DiscordIssuer = "https://discord.com";

    /// <summary>Discord's token revocation endpoint (RFC 7009), with the client's authentication.</summary>
    public const string DiscordRevocationEndpoint = "https://discord.com/api/oauth2/token/revoke";

    /// <summary>GitHub's authorize endpoint.</summary>
    public const string GitHubAuthorizationEndpoint = "https://github.com/login/oauth/authorize";

    /// <summary>GitHub's token endpoint.</summary>
    public const string GitHubTokenEndpoint = "https://github.com/login/oauth/access_token";

    /// <summary>GitHub's device authorization endpoint (RFC 8628; enable "Device Flow" in the app's settings).</summary>
    public const string GitHubDeviceAuthorizationEndpoint = "https://github.com/login/device/code";

    /// <summary>Google's issuer.</summary>
    public const string GoogleIssuer = "https://accounts.google.com";

    /// <summary>Google's authorize endpoint (OAuth 2.0 for web server and installed apps).</summary>
    public const string GoogleAuthorizationEndpoint = "https://accounts.google.com/o/oauth2/v2/auth";

    /// <summary>Google's token endpoint.</summary>
    public const string GoogleTokenEndpoint = "https://oauth2.googleapis.com/token";

    /// <summary>Google's device authorization endpoint (RFC 8628; for clients of the "TVs and Limited Input devices" type).</summary>
    public const string GoogleDeviceAuthorizationEndpoint = "https://oauth2.googleapis.com/device/code";

    /// <summary>Google's signing keys (the <c>jwks_uri</c> of its discovery document): its ID tokens are validated against them.</summary>
    public const string GoogleJwksUri = "https://www.googleapis.com/oauth2/v3/certs";

    /// <summary>Google's UserInfo endpoint (the <c>userinfo_endpoint</c> of its discovery document).</summary>
    public const string GoogleUserInfoEndpoint = "https://openidconnect.googleapis.com/v1/userinfo";

    /// <summary>Google's token revocation endpoint (the <c>revocation_endpoint</c> of its discovery document).</summary>
    public const string GoogleRevocationEndpoint = "https://oauth2.googleapis.com/revoke";

    /// <summary>The Microsoft identity platform host.</summary>
    public const string MicrosoftAuthority = "https://login.microsoftonline.com";

    /// <summary>Microsoft's UserInfo endpoint, on Microsoft Graph (the <c>userinfo_endpoint</c> of every tenant's discovery document).</summary>
    public const string MicrosoftUserInfoEndpoint = "https://graph.microsoft.com/oidc/userinfo";

    /// <summary>Settings for Discord.</summary>
    /// <param name="clientId">The application's client id.</param>
    /// <param name="clientSecret">The client secret; without one the client is public and relies on PKCE.</param>
    public static GenericOAuthOptions DiscordOptions(string clientId, string? clientSecret = null) => new()
    {
        Name = "discord",
        AuthorizationEndpoint = new Uri(DiscordAuthorizationEndpoint),
        TokenEndpoint = new Uri(DiscordTokenEndpoint),
        // A sign-out revokes the refresh token there, so no grant is left live at Discord.
        RevocationEndpoint = new Uri(DiscordRevocationEndpoint),
        ClientId = clientId,
        ClientSecret = clientSecret,
        // Discord's metadata lists client_secret_basic first; the original sent the secret with HTTP Basic too.
        ClientAuthentication = string.IsNullOrEmpty(clientSecret) ? ClientAuthentication.None : ClientAuthentication.Basic,
        DefaultScopes = ["identify"],
        ScopeSeparator = " ",
        // Discord's RFC 8414 metadata is reported to advertise authorization_response_iss_parameter_supported, but
        // we cannot verify offline that every redirect carries iss, and providers have advertised it without sending
        // it. So: an iss that is present must be https://discord.com (the login compares it); a missing one is accepted.
        // Set IssuerParameterSupported = true with configure to require it.
        Issuer = DiscordIssuer,
        IssuerParameterSupported = false,
        UsePkce = true,
    };

    /// <summary>A strategy for Discord.</summary>
    /// <param name="clientId">The application's client id.</param>
    /// <param name="clientSecret">The client secret; without one the client is public and relies on PKCE.</param>
    /// <param name="configure">Changes to the preset, for example other default scopes.</param>
    public static GenericOAuthStrategy Discord(string clientId, string? clientSecret = null, Action<GenericOAuthOptions>? configure = null) =>
        Build(DiscordOptions(clientId, clientSecret), configure, "Discord", takesClientAssertions: false);

    /// <summary>Settings for a GitHub OAuth app or GitHub App.</summary>
    /// <param name="clientId">The app's client id.</param>
    /// <param name="clientSecret">
    /// The client secret; without one the client is public (<see cref="ClientAuthentication.None"/>) and serves device
    /// logins only. See <see cref="GitHub"/>.
    /// </param>
    public static GenericOAuthOptions GitHubOptions(string clientId, string? clientSecret = null) => new()
    {
        Name = "github",
        AuthorizationEndpoint = new Uri(GitHubAuthorizationEndpoint),
        TokenEndpoint = new Uri(GitHubTokenEndpoint),
        DeviceAuthorizationEndpoint = new Uri(GitHubDeviceAuthorizationEndpoint),
        ClientId = clientId,
        ClientSecret = clientSecret,
        // GitHub's device flow takes the client id alone, so a CLI that ships no secret (a public client) can sign in
        // with it; a browser login's code exchange needs the secret whatever the client (see GitHub below), so without
        // one a browser login is refused at its start.
        ClientAuthentication = string.IsNullOrEmpty(clientSecret) ? ClientAuthentication.None : ClientAuthentication.Post,
        CodeExchangeNeedsClientAuthentication = true,
        DefaultScopes = ["read:user"],
        ScopeSeparator = " ",
        // GitHub accepts S256 since 2025-07 and ignores PKCE for apps that do not send it; no iss on callbacks.
        UsePkce = true,
        // Without it GitHub answers application/x-www-form-urlencoded (which O8Actors also parses).
        TokenRequestHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Accept"] = "application/json" },
    };

    /// <summary>A strategy for GitHub. OAuth apps get no refresh token; GitHub Apps with expiring tokens do.</summary>
    /// <remarks>
    /// GitHub refuses a browser login's code exchange without the client secret, even with PKCE: it answers
    /// <c>incorrect_client_credentials</c>, which the user would meet only after approving the login in the browser. A
    /// GitHub provider without a secret therefore serves device logins (<see cref="LoginMethod.Device"/>; enable "Device
    /// Flow" in the app's settings), which GitHub grants to the client id alone: the way for an app that is handed out to
    /// its users (a CLI), which can keep no secret. Its browser logins (<see cref="LoginMethod.Browser"/>) are refused at
    /// their start, before any browser opens, with <see cref="LoginFailure.ProviderUnavailable"/>
    /// (<see cref="AuthorizationFailedException"/>); its <see cref="LoginMethod.Auto"/> logins sign in with the device
    /// grant even where a browser could be opened. Give the secret for browser logins.
    /// </remarks>
    /// <param name="clientId">The app's client id.</param>
    /// <param name="clientSecret">
    /// The client secret, sent on every token request (client_secret_post); null for a public client, which sends only
    /// its client id and serves device logins only.
    /// </param>
    /// <param name="configure">Changes to the preset, for example other default scopes.</param>
    public static GenericOAuthStrategy GitHub(string clientId, string? clientSecret = null, Action<GenericOAuthOptions>? configure = null) =>
        Build(GitHubOptions(clientId, clientSecret), configure, "GitHub", takesClientAssertions: false);

    /// <summary>
    /// The other spellings of <paramref name="issuer"/> that its provider documents for ID tokens: Google's "Validating an
    /// ID token" names both <c>https://accounts.google.com</c> and <c>accounts.google.com</c>. None for any other issuer.
    /// </summary>
    internal static List<string> KnownIssuerAliases(string? issuer) =>
        string.Equals(issuer, GoogleIssuer, StringComparison.Ordinal) ? ["accounts.google.com"] : [];

    /// <summary>
    /// Whether <paramref name="issuer"/>'s provider documents its token endpoint as the only audience of a client
    /// assertion: Microsoft Entra ID (its certificate credentials), in every cloud (public, US government, China), with
    /// its v1 issuer, and Entra External ID. The preset says so itself; a discovered Entra issuer is known by its host.
    /// </summary>
    internal static bool TakesAssertionsForTheTokenEndpointOnly(string? issuer) =>
        Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
        && (EntraHosts.Contains(uri.IdnHost) || uri.IdnHost.EndsWith(".ciamlogin.com", StringComparison.OrdinalIgnoreCase));

    private static readonly HashSet<string> EntraHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn", "sts.windows.net",
    };

    /// <summary>Settings for Google (OpenID Connect and Google APIs).</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="clientSecret">
    /// The client secret, which Google issues to desktop clients too (such an app cannot keep it secret, and need not: PKCE
    /// guards its codes); Google's token endpoint refuses every grant without it, so <see cref="Google"/> requires it.
    /// </param>
    public static GenericOAuthOptions GoogleOptions(string clientId, string? clientSecret = null) => new()
    {
        Name = "google",
        AuthorizationEndpoint = new Uri(GoogleAuthorizationEndpoint),
        TokenEndpoint = new Uri(GoogleTokenEndpoint),
        DeviceAuthorizationEndpoint = new Uri(GoogleDeviceAuthorizationEndpoint),
        UserInfoEndpoint = new Uri(GoogleUserInfoEndpoint),
        // A sign-out revokes the grant there (Google's revocation ends the whole grant, refresh token and access tokens).
        RevocationEndpoint = new Uri(GoogleRevocationEndpoint),
        ClientId = clientId,
        ClientSecret = clientSecret,
        ClientAuthentication = string.IsNullOrEmpty(clientSecret) ? ClientAuthentication.None : ClientAuthentication.Post,
        DefaultScopes = ["openid", "email", "profile"],
        ScopeSeparator = " ",
        // Google's discovery document does not advertise RFC 9207, so iss is not required on callbacks.
        Issuer = GoogleIssuer,
        IdTokenIssuerAliases = KnownIssuerAliases(GoogleIssuer),
        IssuerParameterSupported = false,
        // OpenID Connect: each login sends a nonce and the ID token is validated against Google's keys.
        JwksUri = new Uri(GoogleJwksUri),
        UsePkce = true,
        // A refresh token only comes with access_type=offline, and again after the first consent only with prompt=consent.
        AuthorizeParameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["access_type"] = "offline",
            ["prompt"] = "consent",
        },
    };

    /// <summary>A strategy for Google.</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="clientSecret">
    /// The client secret (desktop clients have one too): required, here or by <paramref name="configure"/>, since Google's
    /// token endpoint answers a code exchange, a refresh and a device poll without it with <c>client_secret is missing</c>,
    /// PKCE or not; refused here rather than after the user approved the first login.
    /// </param>
    /// <param name="configure">
    /// Changes to the preset, for example <c>prompt=select_account consent</c> (keep <c>consent</c>: without it a user who
    /// granted access before gets no refresh token).
    /// </param>
    /// <exception cref="ArgumentException">No client secret.</exception>
    public static GenericOAuthStrategy Google(string clientId, string? clientSecret = null, Action<GenericOAuthOptions>? configure = null) =>
        Build(GoogleOptions(clientId, clientSecret), configure, "Google", takesClientAssertions: false, needsClientSecret: true);

    /// <summary>Settings for Microsoft Entra ID (identity platform v2.0 endpoints).</summary>
    /// <param name="tenant"><c>common</c> (default when empty), <c>organizations</c>, <c>consumers</c>, a tenant id or a tenant domain.</param>
    /// <param name="clientId">The application (client) id.</param>
    /// <param name="clientSecret">The client secret of a web app; null for a public client (PKCE is then required).</param>
    public static GenericOAuthOptions MicrosoftOptions(string tenant, string clientId, string? clientSecret = null)
    {
        tenant = string.IsNullOrWhiteSpace(tenant) ? "common" : tenant.Trim();
        if (tenant.Contains('/') || tenant.Contains('?') || tenant.Contains('#'))
            throw new ArgumentException($"The Microsoft tenant '{tenant}' is not a tenant name or id.", nameof(tenant));
        var baseUrl = $"{MicrosoftAuthority}/{Uri.EscapeDataString(tenant)}/oauth2/v2.0";
        return new GenericOAuthOptions
        {
            Name = "microsoft",
            AuthorizationEndpoint = new Uri($"{baseUrl}/authorize"),
            TokenEndpoint = new Uri($"{baseUrl}/token"),
            DeviceAuthorizationEndpoint = new Uri($"{baseUrl}/devicecode"),
            // RP-initiated logout; Entra ID takes as post_logout_redirect_uri only a URI registered as a redirect URI,
            // which the provider's redirect URI is.
            EndSessionEndpoint = new Uri($"{baseUrl}/logout"),
            // Microsoft Graph serves UserInfo for every tenant; it takes the Graph access token a login gets when it asks
            // for no other API's scopes (the preset's default scopes).
            UserInfoEndpoint = new Uri(MicrosoftUserInfoEndpoint),
            ClientId = clientId,
            ClientSecret = clientSecret,
            ClientAuthentication = string.IsNullOrEmpty(clientSecret) ? ClientAuthentication.None : ClientAuthentication.Post,
            DefaultScopes = ["openid", "profile", "offline_access"],
            ScopeSeparator = " ",
            // The multi-tenant endpoints (common, organizations) publish a templated issuer,
            // https://login.microsoftonline.com/{tenantid}/v2.0, that only the signed-in user's tenant fills in, and a
            // domain name resolves to a tenant id we do not know offline. Only a tenant id gives a fixed issuer.
            // Entra ID does not send iss on the authorization response, so the issuer is informational.
            Issuer = Guid.TryParse(tenant, out var id) ? $"{MicrosoftAuthority}/{id:D}/v2.0" : null,
            IssuerParameterSupported = false,
            // OpenID Connect: each login sends a nonce and the ID token is validated against the tenant's keys. Without a
            // tenant id the ID token's iss is checked against the template, filled with the token's own (signed) tid.
            JwksUri = new Uri($"{MicrosoftAuthority}/{Uri.EscapeDataString(tenant)}/discovery/v2.0/keys"),
            IdTokenIssuer = Guid.TryParse(tenant, out _) ? null : $"{MicrosoftAuthority}/{IdTokens.IdTokenValidator.TenantPlaceholder}/v2.0",
            UsePkce = true,
            // Entra ID's certificate credentials: the assertion's aud is the token endpoint, not the issuer.
            AssertionAudienceIsTokenEndpoint = true,
        };
    }

    /// <summary>A strategy for Microsoft Entra ID.</summary>
    /// <param name="tenant"><c>common</c> (default when empty), <c>organizations</c>, <c>consumers</c>, a tenant id or a tenant domain.</param>
    /// <param name="clientId">The application (client) id.</param>
    /// <param name="clientSecret">The client secret of a web app; null for a public client.</param>
    /// <param name="configure">Changes to the preset, for example Graph scopes.</param>
    public static GenericOAuthStrategy Microsoft(string tenant, string clientId, string? clientSecret = null, Action<GenericOAuthOptions>? configure = null) =>
        Build(MicrosoftOptions(tenant, clientId, clientSecret), configure, "Microsoft Entra ID", takesClientAssertions: true);

    private static GenericOAuthStrategy Build(
        GenericOAuthOptions options, Action<GenericOAuthOptions>? configure, string provider, bool takesClientAssertions, bool needsClientSecret = false)
    {
        configure?.Invoke(options);
        // Refused here, at start: the provider would refuse the assertion only at the first code exchange, after the user
        // had approved the login in the browser. Its documented token endpoint methods are client secrets (and none).
        if (!takesClientAssertions && options.ClientAuthentication == ClientAuthentication.PrivateKeyJwt)
            throw new ArgumentException(
                $"Provider '{options.Name}': {provider} does not accept private_key_jwt client assertions; its token endpoint " +
                "takes the client secret. Set ClientSecret instead of a client certificate or key.",
                nameof(options.ClientAuthentication));
        // A secret the configure callback gave is sent as the preset sends its own (its method was chosen without it).
        if (needsClientSecret && !string.IsNullOrEmpty(options.ClientSecret) && options.ClientAuthentication == ClientAuthentication.None)
            options.ClientAuthentication = ClientAuthentication.Post;
        if (needsClientSecret && string.IsNullOrEmpty(options.ClientSecret))
            throw new ArgumentException(
                $"Provider '{options.Name}': {provider}'s token endpoint refuses a code exchange, a refresh and a device poll without the " +
                "client secret, PKCE or not (desktop clients get one too; such an app cannot keep it secret, and need not). Set ClientSecret.",
                nameof(options.ClientSecret));
        return new GenericOAuthStrategy(options);
    }
}
