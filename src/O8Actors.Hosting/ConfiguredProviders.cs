using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Hosting;

/// <summary>
/// Builds provider strategies from <c>O8:Providers:&lt;name&gt;</c> sections of <c>IConfiguration</c>. A section is a
/// provider when it has children; plain values (<c>O8:Providers:MaxConcurrentExchanges</c>) are limits, not providers.
/// <list type="bullet">
/// <item><c>Preset</c> = <c>discord</c> | <c>github</c> | <c>google</c> | <c>microsoft</c> (+ <c>Tenant</c>): a preset with <c>ClientId</c>/<c>ClientSecret</c> (and optional <c>DefaultScopes</c>); the <c>microsoft</c> preset also with <c>ClientCertificateFile</c>/<c>ClientKeyFile</c> (or <c>ClientKeyFile</c> alone, with an optional <c>ClientSigningKeyId</c>) for <c>private_key_jwt</c> (the others' providers take no client assertion, so they refuse a certificate or key).</item>
/// <item><c>Type</c> = <c>oidc</c>, or no <c>Type</c> and <c>Issuer</c> without <c>AuthorizationEndpoint</c>: OpenID Connect discovery (<see cref="OidcDiscoveryOptions"/>).</item>
/// <item>otherwise (<c>Type</c> = <c>oauth2</c>, or no <c>Type</c>) a plain OAuth 2.0 provider (<see cref="GenericOAuthOptions"/>); any other <c>Type</c> fails the start.</item>
/// </list>
/// Durations (<c>IdTokenClockSkew</c>, <c>MetadataRefreshInterval</c>) follow the rule of the <c>O8</c> section's:
/// <c>30s</c>, <c>5m</c>, <c>24h</c>, <c>00:05:00</c> or a bare <c>0</c>; another bare number or <c>hours:minutes</c> fails the start.
/// <c>DefaultScopes</c> (and <c>IdTokenIssuerAliases</c>) is a list, or one value of entries separated by spaces (as an
/// environment variable gives it), not both at once; for a preset it replaces the preset's list.
/// A plain provider with <c>ClientCertificateFile</c> or <c>ClientKeyFile</c> and no <c>ClientAuthentication</c> uses
/// <c>private_key_jwt</c>, as the <c>microsoft</c> preset and a discovery provider do.
/// The name is the section key unless <c>Name</c> is set. Every other key is a property of the options the section
/// builds (a preset's too: <c>Resource</c>, <c>UseDpop</c>, <c>AuthorizeParameters</c>, …) or one of the file keys;
/// anything else fails the start naming it, as the binder alone would ignore it. So does a provider name or an
/// <c>AuthorizeParameters</c> key that two sources spell in different case (<see cref="ConfigurationSpellings"/>), and an
/// authorize parameter that is a known one in other case (<c>ACR_VALUES</c>). Secrets belong in user secrets or environment variables
/// (<c>O8__Providers__github__ClientSecret</c>), never in code or a committed appsettings.json.
/// </summary>
internal static class ConfiguredProviders
{
    /// <summary>The strategies configured under <paramref name="providersSection"/>.</summary>
    /// <param name="providersSection">The <c>O8:Providers</c> section.</param>
    /// <param name="contentRoot">
    /// The folder a relative <c>ClientCertificateFile</c> or <c>ClientKeyFile</c> is read from: the host's content root,
    /// as Kestrel reads its certificate files (a Windows service's working directory is System32); the working directory
    /// when null.
    /// </param>
    /// <param name="root">
    /// The configuration the section is of, whose sources are checked to spell each provider's name and authorize
    /// parameter alike (<see cref="ConfigurationSpellings"/>); not checked when null.
    /// </param>
    /// <param name="loaded">
    /// Where the certificates and keys read from the providers' files are added, for a caller that builds the providers
    /// only to check them and disposes what they loaded; null when the providers are kept (they hold them).
    /// </param>
    /// <exception cref="ArgumentException">A provider section is invalid; the message names its configuration path and the setting.</exception>
    public static IReadOnlyList<ProviderStrategy> Build(IConfigurationSection providersSection, string? contentRoot = null, IConfigurationRoot? root = null,
        List<IDisposable>? loaded = null)
    {
        ArgumentNullException.ThrowIfNull(providersSection);
        // Only a provider named by its key: a limit (MaxConcurrentExchanges) is read ignoring case, and a section with Name
        // set is named by that.
        if (root is not null)
            ConfigurationSpellings.RefuseMixedCase(root, providersSection, "provider", only: s => s.GetChildren().Any() && string.IsNullOrEmpty(s["Name"]));
        var strategies = new List<ProviderStrategy>();
        foreach (var section in providersSection.GetChildren())
        {
            if (!section.GetChildren().Any()) continue; // a limit such as MaxConcurrentExchanges
            try
            {
                if (root is not null) ConfigurationSpellings.RefuseMixedCase(root, section.GetSection("AuthorizeParameters"), "authorize parameter");
                CheckParameterNames(section.GetSection("AuthorizeParameters"));
                strategies.Add(BuildOne(section, contentRoot, loaded));
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
            {
                throw new ArgumentException($"Invalid O8Actors provider '{section.Path}': {ex.Message}", section.Path, ex);
            }
        }

        return strategies;
    }

    /// <summary>
    /// Builds the providers to check them only (the start builds them again), then disposes the certificates and keys
    /// they read from files, which nothing else would (their finalizers, at some later collection).
    /// </summary>
    /// <returns>What was read and disposed.</returns>
    /// <exception cref="ArgumentException">As <see cref="Build"/>.</exception>
    public static IReadOnlyList<IDisposable> Check(IConfigurationSection providersSection, string? contentRoot = null, IConfigurationRoot? root = null)
    {
        var loaded = new List<IDisposable>();
        try
        {
            Build(providersSection, contentRoot, root, loaded);
        }
        finally
        {
            foreach (var credential in loaded) credential.Dispose();
        }

        return loaded;
    }

    private static ProviderStrategy BuildOne(IConfigurationSection section, string? contentRoot, List<IDisposable>? loaded)
    {
        var name = section["Name"] is { Length: > 0 } n ? n : section.Key;
        var preset = section["Preset"];
        if (!string.IsNullOrWhiteSpace(preset))
        {
            var presetName = preset.Trim().ToLowerInvariant();
            CheckKeys(section, typeof(GenericOAuthOptions), presetName == "microsoft" ? PresetKeys.Append("Tenant") : PresetKeys, $"the {presetName} preset");
            return BuildPreset(section, presetName, name, contentRoot, loaded);
        }

        var isOidc = IsOidc(section);
        CheckKeys(section, isOidc ? typeof(OidcDiscoveryOptions) : typeof(GenericOAuthOptions), PlainKeys,
            isOidc ? "an OpenID Connect discovery provider" : "a plain OAuth 2.0 provider");
        if (isOidc)
        {
            var oidc = ProviderBindingValues.For(section, typeof(OidcDiscoveryOptions)).Get<OidcDiscoveryOptions>() ?? new OidcDiscoveryOptions();
            oidc.Name = name;
            if (ScalarList(section, "DefaultScopes") is { } oidcScopes) oidc.DefaultScopes = oidcScopes;
            if (ScalarList(section, "IdTokenIssuerAliases") is { } oidcAliases) oidc.IdTokenIssuerAliases = oidcAliases;
            var (oidcCertificate, oidcKey, oidcKeyId) = ClientCredentials(section, contentRoot, loaded);
            oidc.ClientCertificate ??= oidcCertificate;
            oidc.ClientSigningKey ??= oidcKey;
            oidc.ClientSigningKeyId ??= oidcKeyId;
            if (NamesKeyWithoutMethod(section, oidcCertificate, oidcKey)) oidc.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
            return new OidcDiscoveryStrategy(oidc);
        }

        var generic = ProviderBindingValues.For(section, typeof(GenericOAuthOptions)).Get<GenericOAuthOptions>() ?? new GenericOAuthOptions();
        generic.Name = name;
        var (certificate, key, keyId) = ClientCredentials(section, contentRoot, loaded);
        generic.ClientCertificate ??= certificate;
        generic.ClientSigningKey ??= key;
        generic.ClientSigningKeyId ??= keyId;
        if (ScalarList(section, "DefaultScopes") is { } scopes) generic.DefaultScopes = scopes;
        if (ScalarList(section, "IdTokenIssuerAliases") is { } aliases) generic.IdTokenIssuerAliases = aliases;
        if (NamesKeyWithoutMethod(section, certificate, key)) generic.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
        return new GenericOAuthStrategy(generic);
    }

    /// <summary>
    /// Whether the section names a client certificate or key file and no <c>ClientAuthentication</c>: that means
    /// <c>private_key_jwt</c> for every kind of provider, a secret beside it or not. Left to the options' own choice, a
    /// secret would win (<c>client_secret_basic</c>) and the key configured to replace it would sign nothing, without a
    /// word. An explicit <c>ClientAuthentication</c> stays the app's.
    /// </summary>
    private static bool NamesKeyWithoutMethod(IConfigurationSection section, object? certificate, object? key) =>
        (certificate is not null || key is not null) && string.IsNullOrEmpty(section["ClientAuthentication"]);

    /// <summary>
    /// Whether the section is an OpenID Connect discovery provider: <c>Type</c> says so (<c>oidc</c>) or not (<c>oauth2</c>);
    /// without it, an <c>Issuer</c> and no <c>AuthorizationEndpoint</c> is one. Any other <c>Type</c> is refused: a misspelt
    /// <c>odic</c> would otherwise make a plain provider that then fails for an endpoint it was never meant to have.
    /// </summary>
    private static bool IsOidc(IConfigurationSection section)
    {
        var type = section["Type"];
        if (string.IsNullOrWhiteSpace(type)) return section["Issuer"] is { Length: > 0 } && section["AuthorizationEndpoint"] is null;
        return type.Trim().ToLowerInvariant() switch
        {
            "oidc" => true,
            "oauth2" => false,
            _ => throw new ArgumentException(
                $"'{section.Path}:Type' is '{type}', not a provider type: oidc (OpenID Connect discovery) or oauth2 (a plain OAuth 2.0 " +
                "provider), or no Type (oidc with an Issuer and no AuthorizationEndpoint, else oauth2).", "Type"),
        };
    }

    // Keys that are configuration's own, not properties of the options: the files stand for the certificate and key.
    private static readonly string[] FileKeys = ["Name", "ClientCertificateFile", "ClientKeyFile"];
    private static readonly IEnumerable<string> PresetKeys = FileKeys.Append("Preset");
    private static readonly IEnumerable<string> PlainKeys = FileKeys.Append("Type");

    // Objects the binder cannot make from a string: configuration names them by file instead.
    private static readonly string[] ObjectProperties = ["ClientCertificate", "ClientSigningKey"];

    /// <summary>
    /// Refuses a key the section's options would not take: the binder ignores unknown keys, so a misspelt
    /// <c>Resouce</c> or a key the provider kind has no use for would otherwise start a provider without it. So, too, a map
    /// (<c>AuthorizeParameters</c>, <c>TokenRequestHeaders</c>) given one value, which the binder ignores as well.
    /// </summary>
    private static void CheckKeys(IConfigurationSection section, Type optionsType, IEnumerable<string> ownKeys, string kind)
    {
        var settable = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var known = settable.Where(p => !ObjectProperties.Contains(p.Name)).Select(p => p.Name).Concat(ownKeys).ToList();
        var maps = settable.Where(p => typeof(IDictionary<string, string>).IsAssignableFrom(p.PropertyType)).Select(p => p.Name).ToList();
        foreach (var child in section.GetChildren())
        {
            // A map given one value (O8__Providers__corp__AuthorizeParameters="acr_values=mfa") is one the binder drops
            // without a word: the provider would start without the parameter or header it was meant to send.
            if (child.Value is not null && maps.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException(
                    $"'{child.Path}' is a section of names and values ({child.Key}:<name> = <value>, in an environment variable " +
                    $"{child.Key}__<name>), not one value.", child.Key);
            if (known.Contains(child.Key, StringComparer.OrdinalIgnoreCase)) continue;
            var nearest = known.MinBy(k => O8SettingKeys.Distance(child.Key.ToLowerInvariant(), k.ToLowerInvariant()))!;
            var hint = ObjectProperties.Contains(child.Key, StringComparer.OrdinalIgnoreCase)
                ? "; name its PEM file with ClientCertificateFile or ClientKeyFile"
                : O8SettingKeys.Distance(child.Key.ToLowerInvariant(), nearest.ToLowerInvariant()) <= Math.Max(3, child.Key.Length / 3)
                    ? $"; did you mean '{nearest}'?"
                    : "";
            throw new ArgumentException($"'{child.Key}' is not a setting of {kind}{hint}", child.Key);
        }
    }

    // The authorize parameters of OAuth 2.0, OpenID Connect and the big providers, as they are spelled: a provider reads
    // them case-sensitively, and O8Actors reads acr_values and max_age (the step-up every ID token is then held to).
    private static readonly string[] KnownParameters =
    [
        "acr_values", "max_age", "prompt", "login_hint", "ui_locales", "display", "claims", "claims_locales", "id_token_hint",
        "resource", "audience", "domain_hint", "access_type", "include_granted_scopes", "hd", "response_mode", "organization",
    ];

    /// <summary>
    /// Refuses an authorize parameter that is a known one in other case (<c>ACR_VALUES</c>, as an upper-case environment
    /// variable writes it): the provider ignores it, and a step-up it names would be neither asked for nor checked.
    /// </summary>
    private static void CheckParameterNames(IConfigurationSection parameters)
    {
        foreach (var child in parameters.GetChildren())
        {
            var known = KnownParameters.FirstOrDefault(k => string.Equals(k, child.Key, StringComparison.OrdinalIgnoreCase));
            if (known is not null && !string.Equals(known, child.Key, StringComparison.Ordinal))
                throw new ArgumentException(
                    $"'{child.Path}' names the authorize parameter '{child.Key}', which providers read as '{known}' (parameter names are " +
                    $"case-sensitive; in an environment variable: AuthorizeParameters__{known}).", child.Key);
        }
    }

    /// <summary>
    /// The <c>private_key_jwt</c> credentials named by configuration: <c>ClientCertificateFile</c> (PEM) with
    /// <c>ClientKeyFile</c> (its PEM private key; omitted when the certificate file holds the key too) is a certificate;
    /// <c>ClientKeyFile</c> alone is a bare key (a client registered with a public JWK), PEM or a JWK, named by
    /// <c>ClientSigningKeyId</c> or else by the JWK's <c>kid</c>. Neither when none is named.
    /// </summary>
    private static (X509Certificate2? Certificate, AsymmetricAlgorithm? Key, string? KeyId) ClientCredentials(IConfigurationSection section,
        string? contentRoot, List<IDisposable>? loaded)
    {
        var (certificate, key, keyId) = ReadClientCredentials(section, contentRoot);
        if (certificate is not null) loaded?.Add(certificate);
        if (key is not null) loaded?.Add(key);
        return (certificate, key, keyId);
    }

    private static (X509Certificate2? Certificate, AsymmetricAlgorithm? Key, string? KeyId) ReadClientCredentials(IConfigurationSection section,
        string? contentRoot)
    {
        string FromContentRoot(string file) => contentRoot is null ? file : Path.GetFullPath(file, contentRoot);
        var keyFile = section["ClientKeyFile"] is { Length: > 0 } k ? FromContentRoot(k) : null;
        var configuredKeyId = section["ClientSigningKeyId"] is { Length: > 0 } id ? id : null;
        if (section["ClientCertificateFile"] is { Length: > 0 } certificateFile)
            return (ClientKeyFiles.Certificate(FromContentRoot(certificateFile), keyFile), null, null);
        if (keyFile is null) return (null, null, null);
        var (key, fileKeyId) = ClientKeyFiles.Key(keyFile);
        return (null, key, configuredKeyId ?? fileKeyId);
    }

    /// <summary>
    /// A list setting (<c>DefaultScopes</c>, <c>IdTokenIssuerAliases</c>) given as one value
    /// (<c>O8__Providers__github__DefaultScopes="read:user repo"</c>, a command-line argument, a JSON string), split on
    /// whitespace; null when it is a list (<c>DefaultScopes:0</c>, …, which the binder reads) or absent. The binder would
    /// silently ignore a single value for a list property. Both forms at once (a list in appsettings.json, one value in an
    /// environment variable) are refused: configuration keeps both, and the list, whichever source it came from, would win.
    /// </summary>
    /// <exception cref="ArgumentException">The setting is both one value and a list.</exception>
    private static List<string>? ScalarList(IConfigurationSection section, string key)
    {
        var setting = section.GetSection(key);
        if (setting.Value is not { } value) return null;
        if (setting.GetChildren().Any())
            throw new ArgumentException(
                $"'{setting.Path}' is set both as one value and as a list (from different configuration sources); set one form: " +
                $"one value of entries separated by spaces, or a list ({key}:0, {key}:1, …).", key);
        // Whitespace only, as RFC 6749's scope parameter separates them: a comma may be part of a scope token.
        return value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>A list setting as one value or as a list; null when the section does not name it.</summary>
    private static List<string>? ListSetting(IConfigurationSection section, string key) =>
        ScalarList(section, key) ?? section.GetSection(key).Get<List<string>>();

    private static ProviderStrategy BuildPreset(IConfigurationSection section, string preset, string name, string? contentRoot, List<IDisposable>? loaded)
    {
        var clientId = section["ClientId"] ?? "";
        var secret = section["ClientSecret"] is { Length: > 0 } s ? s : null;
        var scopes = ListSetting(section, "DefaultScopes");
        var aliases = ListSetting(section, "IdTokenIssuerAliases");
        var redirectPath = section["RedirectPath"];
        // A certificate or a key instead of a secret (Microsoft Entra ID's certificate credentials): private_key_jwt.
        var (certificate, key, keyId) = ClientCredentials(section, contentRoot, loaded);
        // Every other key the section has is a property of the preset's options (checked by CheckKeys): bound over the
        // preset's values, as a configure callback in code would set them. The lists replace the preset's (the binder would
        // append to them).
        var overrides = ProviderBindingValues.For(section, typeof(GenericOAuthOptions), IsPresetOwnKey);
        void Configure(GenericOAuthOptions o)
        {
            overrides.Bind(o);
            o.Name = name;
            if (scopes is { Count: > 0 }) o.DefaultScopes = scopes;
            if (aliases is not null) o.IdTokenIssuerAliases = aliases;
            if (!string.IsNullOrEmpty(redirectPath)) o.RedirectPath = redirectPath;
            if (certificate is null && key is null) return;
            o.ClientCertificate = certificate;
            o.ClientSigningKey = key;
            // The key id the section gave (bound above) stays when the file named none (a certificate never does).
            if (keyId is not null) o.ClientSigningKeyId = keyId;
            if (NamesKeyWithoutMethod(section, certificate, key)) o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
        }

        if (string.IsNullOrWhiteSpace(clientId))
            throw new ArgumentException("ClientId is required.", "ClientId");

        static bool IsPresetOwnKey(string path)
        {
            var key = path.Split(':')[0];
            return PresetKeys.Append("Tenant").Append("DefaultScopes").Append("IdTokenIssuerAliases")
                .Contains(key, StringComparer.OrdinalIgnoreCase);
        }
        return preset switch
        {
            "discord" => ProviderPresets.Discord(clientId, secret, Configure),
            // Without ClientSecret a public client: GitHub's device logins need none (a distributable CLI ships none), its
            // browser logins do, and GitHub refuses their code exchange without it.
            "github" => ProviderPresets.GitHub(clientId, secret, Configure),
            "google" => ProviderPresets.Google(clientId, secret, Configure),
            "microsoft" => ProviderPresets.Microsoft(
                section["Tenant"] is { Length: > 0 } t ? t : throw new ArgumentException("The microsoft preset requires Tenant (a tenant id, 'common' or 'organizations').", "Tenant"),
                clientId, secret, Configure),
            _ => throw new ArgumentException($"Preset must be discord, github, google or microsoft, not '{preset}'.", "Preset"),
        };
    }
}
