using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Dpop;

/// <summary>
/// The private key an account proves possession of under RFC 9449 (DPoP): an ECDSA P-256 key that signs ES256 proofs.
/// Tokens issued against it are bound to its <see cref="Thumbprint"/> (<c>cnf.jkt</c>), so a stolen access or refresh
/// token is useless without the key.
/// </summary>
/// <remarks>
/// A new key for each login, made as it starts, and kept with the tokens it binds, by the account that stores them and
/// their refreshes (<see cref="ToJwk"/> holds the private part: store it as you store a refresh token, encrypted).
/// <see cref="ToString"/> shows the thumbprint only. The app does not own the instances it is given, and
/// <see cref="Dispose"/> does nothing.
/// </remarks>
public sealed class DpopKey : IDisposable
{
    private readonly ECDsa _key;
    private readonly ECDsaSecurityKey _signingKey;

    private DpopKey(ECDsa key)
    {
        _key = key;
        var publicPart = key.ExportParameters(includePrivateParameters: false);
        X = Base64UrlEncoder.Encode(publicPart.Q.X!);
        Y = Base64UrlEncoder.Encode(publicPart.Q.Y!);
        Thumbprint = Tokens.JwkThumbprint.OfP256(X, Y);
        _signingKey = new ECDsaSecurityKey(key);
    }

    /// <summary>The JWK SHA-256 thumbprint of the public key (RFC 7638), base64url: what a bound token's <c>cnf.jkt</c> holds.</summary>
    public string Thumbprint { get; }

    /// <summary>The public key's x coordinate, base64url.</summary>
    internal string X { get; }

    /// <summary>The public key's y coordinate, base64url.</summary>
    internal string Y { get; }

    /// <summary>The key for signing proofs.</summary>
    internal ECDsaSecurityKey SigningKey => _signingKey;

    /// <summary>Makes a new random P-256 key.</summary>
    public static DpopKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Reads a key written by <see cref="ToJwk"/>.</summary>
    /// <exception cref="FormatException">The text is not a private P-256 JWK.</exception>
    public static DpopKey FromJwk(string jwk)
    {
        ArgumentException.ThrowIfNullOrEmpty(jwk);
        try
        {
            using var document = JsonDocument.Parse(jwk);
            var root = document.RootElement;
            if (root.GetProperty("kty").GetString() != "EC" || root.GetProperty("crv").GetString() != "P-256")
                throw new FormatException("A DPoP key must be an EC key on P-256.");
            var parameters = new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint
                {
                    X = Base64UrlEncoder.DecodeBytes(root.GetProperty("x").GetString()),
                    Y = Base64UrlEncoder.DecodeBytes(root.GetProperty("y").GetString()),
                },
                D = Base64UrlEncoder.DecodeBytes(root.GetProperty("d").GetString()),
            };
            return new DpopKey(ECDsa.Create(parameters));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or CryptographicException or ArgumentException)
        {
            // The message never repeats the text: it holds a private key.
            throw new FormatException("The text is not a private P-256 JWK (kty, crv, x, y, d).", e);
        }
    }

    /// <summary>The key with its private part as a JWK (JSON): a secret, to be stored encrypted beside the account's tokens.</summary>
    public string ToJwk()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: true);
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = X,
            ["y"] = Y,
            ["d"] = Base64UrlEncoder.Encode(parameters.D!),
        });
    }

    /// <summary>The public key as the <c>jwk</c> header of a proof.</summary>
    internal Dictionary<string, object> PublicJwk() => new(StringComparer.Ordinal)
    {
        ["kty"] = "EC",
        ["crv"] = "P-256",
        ["x"] = X,
        ["y"] = Y,
    };

    /// <inheritdoc />
    public override string ToString() => $"DpopKey {{ Thumbprint = {Thumbprint} }}";

    /// <summary>
    /// Does nothing: the key O8Actors hands out (<see cref="TokenSet.DpopKey"/>, <see cref="AccessToken.DpopKey"/>) is
    /// the very one the account signs its proofs and refreshes with, so an app that disposed it after use (as
    /// <see cref="IDisposable"/> invites) broke every later request of that account. The key's memory is released when
    /// nothing holds the key any more. Kept so that code written with <c>using</c> goes on compiling.
    /// </summary>
    public void Dispose()
    {
        // Nothing to do: see the summary. The ECDsa's native handle is a SafeHandle, freed by its own finalizer.
    }
}
