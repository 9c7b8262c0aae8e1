using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using O8Actors.Providers;

namespace O8Actors.Hosting;

/// <summary>
/// Builds provider strategies from <c>O8:Providers:&lt;name&gt;</c> sections of <c>IConfiguration</c>. A section is a
/// provider when it has children; plain values (<c>O8:Providers:MaxConcurrentExchanges</c>) are limits, not providers.
/// <list type="bullet">
/// <item><c>Preset</c> = <c>discord</c> | <c>github</c> | <c>google</c> | <c>microsoft</c> (+ <c>Tenant</c>): a preset with <c>ClientId</c>/<c>ClientSecret</c> (and optional <c>DefaultScopes</c>), or with <c>ClientCertificateFile</c>/<c>ClientKeyFile</c> (or <c>ClientKeyFile</c> alone, with an optional <c>ClientSigningKeyId</c>) for <c>private_key_jwt</c>.</item>
/// <item><c>Issuer</c> without <c>AuthorizationEndpoint</c>: OpenID Connect discovery (<see cref="OidcDiscoveryOptions"/>).</item>
/// <item>otherwise a plain OAuth 2.0 provider (<see cref="GenericOAuthOptions"/>).</item>
/// </list>
/// The name is the section key unless <c>Name</c> is set. Secrets belong in user secrets or environment variables
/// (<c>O8__Providers__github__ClientSecret</c>), never in code or a committed appsettings.json.
/// </summary>
internal static class ConfiguredProviders
{
    /// <summary>The strategies configured under <paramref name="providersSection"/>.</summary>
    /// <exception cref="ArgumentException">A provider section is invalid; the message names its configuration path and the setting.</exception>
    public static IReadOnlyList<ProviderStrategy> Build(IConfigurationSection providersSection)
    {
        ArgumentNullException.ThrowIfNull(providersSection);
        var strategies = new List<ProviderStrategy>();
        foreach (var section in providersSection.GetChildren())
        {
            if (!section.GetChildren().Any()) continue; // a limit such as MaxConcurrentExchanges
            try
            {
                strategies.Add(BuildOne(section));
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
            {
                throw new ArgumentException($"Invalid O8Actors provider '{section.Path}': {ex.Message}", section.Path, ex);
            }
        }

        return strategies;
    }

    private static ProviderStrategy BuildOne(IConfigurationSection section)
    {
        var name = section["Name"] is { Length: > 0 } n ? n : section.Key;
        var preset = section["Preset"];
        if (!string.IsNullOrWhiteSpace(preset)) return BuildPreset(section, preset.Trim().ToLowerInvariant(), name);

        var isOidc = string.Equals(section["Type"], "oidc", StringComparison.OrdinalIgnoreCase)
                     || (section["Type"] is null && section["Issuer"] is { Length: > 0 } && section["AuthorizationEndpoint"] is null);
        if (isOidc)
        {
            var oidc = section.Get<OidcDiscoveryOptions>() ?? new OidcDiscoveryOptions();
            oidc.Name = name;
            var (oidcCertificate, oidcKey) = ClientCredentials(section);
            oidc.ClientCertificate ??= oidcCertificate;
            oidc.ClientSigningKey ??= oidcKey;
            return new OidcDiscoveryStrategy(oidc);
        }

        var generic = section.Get<GenericOAuthOptions>() ?? new GenericOAuthOptions();
        generic.Name = name;
        var (certificate, key) = ClientCredentials(section);
        generic.ClientCertificate ??= certificate;
        generic.ClientSigningKey ??= key;
        return new GenericOAuthStrategy(generic);
    }

    /// <summary>
    /// The <c>private_key_jwt</c> credentials named by configuration: <c>ClientCertificateFile</c> (PEM) with
    /// <c>ClientKeyFile</c> (its PEM private key; omitted when the certificate file holds the key too) is a certificate;
    /// <c>ClientKeyFile</c> alone is a bare key (a client registered with a public JWK). Neither when none is named.
    /// </summary>
    private static (X509Certificate2? Certificate, AsymmetricAlgorithm? Key) ClientCredentials(IConfigurationSection section)
    {
        var keyFile = section["ClientKeyFile"] is { Length: > 0 } k ? k : null;
        if (section["ClientCertificateFile"] is not { Length: > 0 } certificateFile)
            return (null, keyFile is null ? null : ClientKey(keyFile));
        try
        {
            return (X509Certificate2.CreateFromPemFile(certificateFile, keyFile), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            // The paths and the failure's kind only: never the key's contents.
            throw new ArgumentException(
                $"ClientCertificateFile '{certificateFile}'{(keyFile is null ? "" : $" with ClientKeyFile '{keyFile}'")} could not be loaded " +
                $"as a PEM certificate and private key ({ex.GetType().Name}).", "ClientCertificateFile", ex);
        }
    }

    /// <summary>
    /// A PEM private key (<c>PRIVATE KEY</c>, <c>EC PRIVATE KEY</c> or <c>RSA PRIVATE KEY</c>) as an ECDSA or RSA key.
    /// A public key or an encrypted one is refused by name: neither can sign from configuration alone.
    /// </summary>
    private static AsymmetricAlgorithm ClientKey(string keyFile)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"ClientKeyFile '{keyFile}' could not be read ({ex.GetType().Name}).", "ClientKeyFile", ex);
        }

        var label = PemEncoding.TryFind(pem, out var fields) ? pem[fields.Label] : null;
        if (label is not ("PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY"))
            throw new ArgumentException(
                $"ClientKeyFile '{keyFile}' holds {(label is null ? "no PEM block" : $"a '{label}' block")}, not an unencrypted private key " +
                "(PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY). An encrypted key or one in a store or vault is set in code (ClientSigningKey).",
                "ClientKeyFile");
        // PKCS#8 (PRIVATE KEY) may hold either kind: ECDSA is tried first, then RSA.
        if (label != "RSA PRIVATE KEY" && TryImport(ECDsa.Create(), pem) is { } ecdsa) return ecdsa;
        if (label != "EC PRIVATE KEY" && TryImport(RSA.Create(), pem) is { } rsa) return rsa;
        throw new ArgumentException($"ClientKeyFile '{keyFile}' could not be loaded as an RSA or ECDSA private key.", "ClientKeyFile");
    }

    private static T? TryImport<T>(T key, string pem) where T : AsymmetricAlgorithm
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    private static ProviderStrategy BuildPreset(IConfigurationSection section, string preset, string name)
    {
        var clientId = section["ClientId"] ?? "";
        var secret = section["ClientSecret"] is { Length: > 0 } s ? s : null;
        var scopes = section.GetSection("DefaultScopes").Get<List<string>>();
        var redirectPath = section["RedirectPath"];
        // A certificate or a key instead of a secret (Microsoft Entra ID's certificate credentials): private_key_jwt.
        var (certificate, key) = ClientCredentials(section);
        var keyId = section["ClientSigningKeyId"];
        void Configure(GenericOAuthOptions o)
        {
            o.Name = name;
            if (scopes is { Count: > 0 }) o.DefaultScopes = scopes;
            if (!string.IsNullOrEmpty(redirectPath)) o.RedirectPath = redirectPath;
            if (certificate is null && key is null) return;
            o.ClientCertificate = certificate;
            o.ClientSigningKey = key;
            o.ClientSigningKeyId = keyId;
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
        }

        if (string.IsNullOrWhiteSpace(clientId))
            throw new ArgumentException("ClientId is required.", "ClientId");
        return preset switch
        {
            "discord" => ProviderPresets.Discord(clientId, secret, Configure),
            "github" => ProviderPresets.GitHub(clientId,
                secret ?? throw new ArgumentException("GitHub requires ClientSecret (set it in user secrets or the environment).", "ClientSecret"),
                Configure),
            "google" => ProviderPresets.Google(clientId, secret, Configure),
            "microsoft" => ProviderPresets.Microsoft(
                section["Tenant"] is { Length: > 0 } t ? t : throw new ArgumentException("The microsoft preset requires Tenant (a tenant id, 'common' or 'organizations').", "Tenant"),
                clientId, secret, Configure),
            _ => throw new ArgumentException($"Preset must be discord, github, google or microsoft, not '{preset}'.", "Preset"),
        };
    }
}
