using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>private_key_jwt</c> client authentication (RFC 7523 sections 2.2 and 3, OpenID Connect Core section 9): the
/// assertion's type, its signature by the client's registered key (its certificate's or its public key; RS256 or ES256), the <c>kid</c> when the key was
/// registered with one, <c>iss</c> and
/// <c>sub</c> both the client id (and <c>client_id</c>, when sent, the same), <c>aud</c> this server's issuer, its token
/// endpoint or the endpoint asked, an <c>exp</c> not passed and at most ten minutes ahead on the sandbox's clock, and a
/// <c>jti</c> this server has not seen (a captured assertion cannot be replayed). Every failure is <c>invalid_client</c>.
/// </summary>
internal static class ClientAssertionChecker
{
    private const string JwtBearer = O8Actors.Providers.ClientAssertions.JwtBearerType;
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    public static async Task<ClientAuthentication> CheckAsync(HttpRequest request, IReadOnlyDictionary<string, string> form, SandboxState state)
    {
        if (form.Get("client_assertion_type") != JwtBearer)
            return ClientAuthentication.Invalid($"client_assertion_type must be {JwtBearer}.");
        JsonWebToken assertion;
        try
        {
            assertion = new JsonWebToken(form.Get("client_assertion") ?? "");
        }
        catch (ArgumentException)
        {
            return ClientAuthentication.Invalid("The client assertion is not a JWT.");
        }

        var clientId = assertion.Issuer;
        if (string.IsNullOrEmpty(clientId) || assertion.Subject != clientId)
            return ClientAuthentication.Invalid("The client assertion's iss and sub must both be the client id.");
        if (form.Get("client_id") is { } formId && formId != clientId)
            return ClientAuthentication.Invalid("client_id differs from the client assertion's iss.");
        var client = state.Clients.Find(clientId);
        if (client is null) return ClientAuthentication.Invalid("Unknown client.");
        if (client.AuthMethod != ClientAuthMethod.PrivateKeyJwt)
            return ClientAuthentication.Invalid($"This client must authenticate with {client.AuthMethodName}.");

        if (client.PublicKeyId is { } keyId && assertion.Kid != keyId)
            return ClientAuthentication.Invalid("The client assertion's kid does not name the client's registered key.");
        var endpoints = state.Endpoints!;
        var here = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(assertion.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = PublicKey(client),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
            ValidateIssuer = false,
            ValidAudiences = [endpoints.IssuerString, endpoints.Token.AbsoluteUri, here],
            // Checked below on the sandbox's clock, which a test may move.
            ValidateLifetime = false,
        }).ConfigureAwait(false);
        if (!validation.IsValid)
        {
            return validation.Exception is SecurityTokenInvalidAudienceException
                ? ClientAuthentication.Invalid("The client assertion's aud is not this server.")
                : ClientAuthentication.Invalid("The client assertion's signature does not verify with the client's registered key.");
        }

        var now = state.Time.GetUtcNow();
        if (!assertion.TryGetPayloadValue<long>("exp", out var expSeconds))
            return ClientAuthentication.Invalid("The client assertion has no exp.");
        var expires = DateTimeOffset.FromUnixTimeSeconds(expSeconds);
        if (expires + Skew <= now) return ClientAuthentication.Invalid("The client assertion has expired.");
        if (expires - now > MaxLifetime) return ClientAuthentication.Invalid("The client assertion is valid for too long (at most ten minutes).");
        if (string.IsNullOrEmpty(assertion.Id) || !state.SeenAssertionIds.TryAdd(assertion.Id, 0))
            return ClientAuthentication.Invalid("The client assertion was used before (its jti).");
        return ClientAuthentication.Ok(client);
    }

    private static SecurityKey PublicKey(SandboxClient client) => client.Certificate is { } certificate
        ? certificate.GetECDsaPublicKey() is { } certificateEcdsa ? new ECDsaSecurityKey(certificateEcdsa) : new RsaSecurityKey(certificate.GetRSAPublicKey()!)
        : client.PublicKey switch
        {
            ECDsa ecdsa => new ECDsaSecurityKey(ecdsa),
            RSA rsa => new RsaSecurityKey(rsa),
            var other => throw new InvalidOperationException($"A {other?.GetType().Name ?? "missing"} key cannot check assertions."),
        };
}
