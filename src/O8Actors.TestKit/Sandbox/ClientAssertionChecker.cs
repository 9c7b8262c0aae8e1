using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>private_key_jwt</c> client authentication (RFC 7523 sections 2.2 and 3, OpenID Connect Core section 9): the
/// assertion's type, its signature by the client's registered key (its certificate's or its public key; RS256 or ES256), the <c>kid</c> when the key was
/// registered with one, <c>iss</c> and
/// <c>sub</c> both the client id (and <c>client_id</c>, when sent, the same), <c>aud</c> this server's issuer, its token
/// endpoint or the endpoint asked, an <c>exp</c> not passed and at most ten minutes ahead on the sandbox's clock, an
/// <c>nbf</c> and <c>iat</c>, when sent, not ahead of it, and a <c>jti</c> this server has not seen while the assertion
/// could be accepted (a captured assertion cannot be replayed). Each claim is read as the JSON type RFC 7519 gives it (a
/// date a number of seconds some date holds), so a malformed assertion is refused too. Every failure is <c>invalid_client</c>.
/// </summary>
internal static class ClientAssertionChecker
{
    private const string JwtBearer = O8Actors.Providers.ClientAssertions.JwtBearerType;
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    public static ClientAuthentication Check(HttpRequest request, IReadOnlyDictionary<string, string> form, SandboxState state)
    {
        if (form.Get("client_assertion_type") != JwtBearer)
            return ClientAuthentication.Invalid($"client_assertion_type must be {JwtBearer}.");
        if (UntrustedJwt.TryParse(form.Get("client_assertion")) is not { } assertion)
            return ClientAuthentication.Invalid("The client assertion is not a JWT.");

        var clientId = assertion.ClaimString("iss");
        if (string.IsNullOrEmpty(clientId) || assertion.ClaimString("sub") != clientId)
            return ClientAuthentication.Invalid("The client assertion's iss and sub must both be the client id.");
        if (form.Get("client_id") is { } formId && formId != clientId)
            return ClientAuthentication.Invalid("client_id differs from the client assertion's iss.");
        var client = state.Clients.Find(clientId);
        if (client is null) return ClientAuthentication.Invalid("Unknown client.");
        if (client.AuthMethod != ClientAuthMethod.PrivateKeyJwt)
            return ClientAuthentication.Invalid($"This client must authenticate with {client.AuthMethodName}.");

        if (client.PublicKeyId is { } keyId && assertion.HeaderString("kid") != keyId)
            return ClientAuthentication.Invalid("The client assertion's kid does not name the client's registered key.");
        if (!IsSignedByClient(assertion, client))
            return ClientAuthentication.Invalid("The client assertion's signature does not verify with the client's registered key.");
        var endpoints = state.Endpoints!;
        var here = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        string[] audiences = [endpoints.IssuerString, endpoints.Token.AbsoluteUri, here];
        if (!assertion.Audiences().Any(audiences.Contains))
            return ClientAuthentication.Invalid("The client assertion's aud is not this server.");

        // On the sandbox's clock, which a test may move.
        var now = state.Time.GetUtcNow();
        if (!assertion.TryGetDate("exp", out var exp) || !assertion.TryGetDate("nbf", out var nbf) || !assertion.TryGetDate("iat", out var iat))
            return ClientAuthentication.Invalid("The client assertion's exp, nbf or iat is not a date (seconds since 1970).");
        if (exp is not { } expires) return ClientAuthentication.Invalid("The client assertion has no exp.");
        // Compared as expires <= now - skew: expires + skew overflows for the last second a date can hold (year 9999).
        if (expires <= now - Skew) return ClientAuthentication.Invalid("The client assertion has expired.");
        if (expires - now > MaxLifetime) return ClientAuthentication.Invalid("The client assertion is valid for too long (at most ten minutes).");
        if (nbf > now + Skew) return ClientAuthentication.Invalid("The client assertion is not valid yet (its nbf).");
        if (iat > now + Skew) return ClientAuthentication.Invalid("The client assertion was issued in the future (its iat).");
        // Kept until the assertion expires: a replay after that is refused as expired.
        if (assertion.ClaimString("jti") is not { Length: > 0 } jti || !state.AssertionIds.TryUse(jti, expires + Skew, now))
            return ClientAuthentication.Invalid("The client assertion was used before (its jti).");
        return ClientAuthentication.Ok(client);
    }

    private static bool IsSignedByClient(UntrustedJwt assertion, SandboxClient client)
    {
        if (client.Certificate is not { } certificate) return client.PublicKey is { } publicKey && assertion.IsSignedBy(publicKey);
        using AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)certificate.GetECDsaPublicKey() ?? certificate.GetRSAPublicKey();
        return key is not null && assertion.IsSignedBy(key);
    }
}
