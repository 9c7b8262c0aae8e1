using System.Diagnostics.CodeAnalysis;

namespace O8Actors.Cluster;

/// <summary>The fields of <see cref="IdTokenClaims"/>, its claims in their compact form (the common issuer sent once, here).</summary>
/// <remarks>Plain arrays behind the declared interface types: the serializer must be able to build what they hold.</remarks>
internal sealed record WireIdTokenClaims(string Subject, string Issuer, IReadOnlyList<string> Audiences, DateTimeOffset ExpiresAt,
    DateTimeOffset IssuedAt, string? Email, string? Name, WireClaimList All)
{
    /// <summary>The wire form of <paramref name="claims"/>.</summary>
    public static WireIdTokenClaims From(IdTokenClaims claims) => new(claims.Subject, claims.Issuer, claims.Audiences.ToArray(), claims.ExpiresAt,
        claims.IssuedAt, claims.Email, claims.Name, WireClaimList.From(claims.All, claims.Issuer));

    /// <summary>The claims rebuilt; false when <see cref="All"/> is malformed (<see cref="WireClaimList.TryToClaims"/>).</summary>
    public bool TryToClaims([NotNullWhen(true)] out IdTokenClaims? claims)
    {
        claims = All is not null && All.TryToClaims(Issuer, out var all)
            ? new IdTokenClaims(Subject, Issuer, Audiences, ExpiresAt, IssuedAt, Email, Name, all)
            : null;
        return claims is not null;
    }

    /// <summary>An upper bound on the bytes a serializer writes for these claims' strings (<see cref="WireSize"/>).</summary>
    public long SizeBound() => WireSize.Of([Subject, Issuer, Email, Name]) + WireSize.Of(Audiences) + All.SizeBound();

    /// <inheritdoc />
    public override string ToString() => $"WireIdTokenClaims {{ Claims = {All?.Values?.Length ?? 0} }}";
}
