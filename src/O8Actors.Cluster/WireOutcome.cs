using System.Security.Claims;

namespace O8Actors.Cluster;

/// <summary>
/// A <see cref="LoginOutcome"/> in a shape Akka.Remote's JSON serializer carries whole: the outcome records themselves
/// do, except the validated ID token claims (<see cref="System.Security.Claims.Claim"/> has no constructor a serializer
/// can use and points back to its identity), which travel here as plain fields and are rebuilt on arrival.
/// </summary>
/// <param name="Outcome">The outcome; a success without its <see cref="TokenSet.IdTokenClaims"/> and <see cref="TokenSet.DpopKey"/>.</param>
/// <param name="Claims">The success's ID token claims, when it had them.</param>
/// <param name="DpopKey">The success's DPoP key as a private JWK, when its tokens are bound (a secret, like the tokens
/// beside it: the remoting between nodes runs over TLS).</param>
internal sealed record WireOutcome(LoginOutcome Outcome, WireIdTokenClaims? Claims, string? DpopKey = null)
{
    /// <summary>The outcome's kind.</summary>
    public LoginOutcomeKind Kind => Outcome.Kind;

    /// <summary>The wire form of <paramref name="outcome"/>.</summary>
    public static WireOutcome From(LoginOutcome outcome) => outcome is LoginSucceeded success
        ? new WireOutcome(success with { Tokens = success.Tokens with { IdTokenClaims = null, DpopKey = null } },
            success.Tokens.IdTokenClaims is { } claims ? WireIdTokenClaims.From(claims) : null, success.Tokens.DpopKey?.ToJwk())
        : new WireOutcome(outcome, null);

    /// <summary>The outcome as it ended, claims and key restored.</summary>
    public LoginOutcome ToOutcome() => Outcome is LoginSucceeded success && (Claims is not null || DpopKey is not null)
        ? success with
        {
            Tokens = success.Tokens with
            {
                IdTokenClaims = Claims?.ToClaims(),
                DpopKey = DpopKey is null ? null : Dpop.DpopKey.FromJwk(DpopKey),
            },
        }
        : Outcome;

    /// <inheritdoc />
    public override string ToString() => $"WireOutcome {{ Kind = {Kind} }}";
}

/// <summary>The fields of <see cref="IdTokenClaims"/>, with each claim as type, value, value type and issuer.</summary>
internal sealed record WireIdTokenClaims(string Subject, string Issuer, IReadOnlyList<string> Audiences, DateTimeOffset ExpiresAt,
    DateTimeOffset IssuedAt, string? Email, string? Name, IReadOnlyList<WireClaim> All)
{
    /// <summary>The wire form of <paramref name="claims"/>.</summary>
    /// <remarks>Plain arrays: the serializer must be able to build what the declared interface types hold.</remarks>
    public static WireIdTokenClaims From(IdTokenClaims claims) => new(claims.Subject, claims.Issuer, claims.Audiences.ToArray(), claims.ExpiresAt,
        claims.IssuedAt, claims.Email, claims.Name, claims.All.Select(c => new WireClaim(c.Type, c.Value, c.ValueType, c.Issuer)).ToArray());

    /// <summary>The claims rebuilt.</summary>
    public IdTokenClaims ToClaims() => new(Subject, Issuer, Audiences, ExpiresAt, IssuedAt, Email, Name,
        All.Select(c => new Claim(c.Type, c.Value, c.ValueType, c.Issuer)).ToList().AsReadOnly());

    /// <inheritdoc />
    public override string ToString() => $"WireIdTokenClaims {{ Claims = {All.Count} }}";
}

/// <summary>One claim on the wire.</summary>
internal sealed record WireClaim(string Type, string Value, string ValueType, string Issuer)
{
    /// <inheritdoc />
    public override string ToString() => $"WireClaim {{ Type = {Type} }}";
}
