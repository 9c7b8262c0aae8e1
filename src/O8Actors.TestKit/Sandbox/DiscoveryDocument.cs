using System.Text.Json.Nodes;

namespace O8Actors.TestKit.Sandbox;

/// <summary>The sandbox's RFC 8414 / OpenID Connect Discovery metadata.</summary>
internal static class DiscoveryDocument
{
    public static JsonObject Build(SandboxEndpoints endpoints, SandboxOptions options)
    {
        var document = Build(endpoints, options.SendIssuerParameter);
        if (options.Dpop != SandboxDpop.Off) document["dpop_signing_alg_values_supported"] = new JsonArray("ES256");
        // OpenID Connect RP-Initiated Logout 1.0 section 2.1; absent while it is off, as for a provider without it.
        if (options.EndSession) document["end_session_endpoint"] = endpoints.EndSession.AbsoluteUri;
        var pushed = options.PushedAuthorization;
        if (pushed == SandboxPushedAuthorization.Off) return document;
        document["pushed_authorization_request_endpoint"] = endpoints.PushedAuthorization.AbsoluteUri;
        document["require_pushed_authorization_requests"] = pushed == SandboxPushedAuthorization.Required;
        return document;
    }

    private static JsonObject Build(SandboxEndpoints endpoints, bool sendsIssuer) => new()
    {
        ["issuer"] = endpoints.IssuerString,
        ["authorization_endpoint"] = endpoints.Authorization.AbsoluteUri,
        ["token_endpoint"] = endpoints.Token.AbsoluteUri,
        ["introspection_endpoint"] = endpoints.Introspection.AbsoluteUri,
        ["revocation_endpoint"] = endpoints.Revocation.AbsoluteUri,
        ["userinfo_endpoint"] = endpoints.UserInfo.AbsoluteUri,
        ["revocation_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post", "private_key_jwt", "none"),
        ["jwks_uri"] = endpoints.Jwks.AbsoluteUri,
        ["device_authorization_endpoint"] = endpoints.DeviceAuthorization.AbsoluteUri,
        ["response_types_supported"] = new JsonArray("code"),
        ["response_modes_supported"] = new JsonArray("query"),
        ["grant_types_supported"] = new JsonArray("authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post", "private_key_jwt", "none"),
        ["token_endpoint_auth_signing_alg_values_supported"] = new JsonArray("RS256", "ES256"),
        ["introspection_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post", "private_key_jwt", "none"),
        ["scopes_supported"] = new JsonArray("openid", "profile", "email", "offline_access"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("ES256"),
        ["claims_supported"] = new JsonArray("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid"),
        ["backchannel_logout_supported"] = true,
        ["backchannel_logout_session_supported"] = true,
        ["authorization_response_iss_parameter_supported"] = sendsIssuer,
    };
}
