namespace O8Actors.TestKit.Sandbox;

/// <summary>The sandbox's addresses, derived from the bound base address.</summary>
internal sealed class SandboxEndpoints(Uri baseAddress)
{
    public const string AuthorizePath = "/authorize";
    public const string ConsentPath = "/authorize/consent";
    public const string TokenPath = "/token";
    public const string IntrospectionPath = "/introspect";
    public const string RevocationPath = "/revoke";
    public const string UserInfoPath = "/userinfo";
    public const string JwksPath = "/jwks";
    public const string DeviceAuthorizationPath = "/device/code";
    public const string DeviceVerificationPath = "/device";
    public const string PushedAuthorizationPath = "/par";
    public const string EndSessionPath = "/end-session";
    public const string OpenIdConfigurationPath = "/.well-known/openid-configuration";
    public const string OAuthServerMetadataPath = "/.well-known/oauth-authorization-server";

    /// <summary>The issuer identifier: scheme, host and port, no trailing slash (RFC 8414 §2).</summary>
    public string IssuerString { get; } = baseAddress.GetLeftPart(UriPartial.Authority);

    public Uri Issuer => new(IssuerString);
    public Uri Authorization { get; } = new(baseAddress, AuthorizePath);
    public Uri Consent { get; } = new(baseAddress, ConsentPath);
    public Uri Token { get; } = new(baseAddress, TokenPath);
    public Uri Introspection { get; } = new(baseAddress, IntrospectionPath);
    public Uri Revocation { get; } = new(baseAddress, RevocationPath);
    public Uri UserInfo { get; } = new(baseAddress, UserInfoPath);
    public Uri Jwks { get; } = new(baseAddress, JwksPath);
    public Uri DeviceAuthorization { get; } = new(baseAddress, DeviceAuthorizationPath);
    public Uri DeviceVerification { get; } = new(baseAddress, DeviceVerificationPath);
    public Uri PushedAuthorization { get; } = new(baseAddress, PushedAuthorizationPath);
    public Uri EndSession { get; } = new(baseAddress, EndSessionPath);
    public Uri Discovery { get; } = new(baseAddress, OpenIdConfigurationPath);
}
