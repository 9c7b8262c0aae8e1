using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;

namespace O8Actors.Cluster;

/// <summary>
/// An ID token's claims on the wire, compact: one string per claim (its value), the claim types as runs (an ID token
/// lists a multi-valued claim such as <c>groups</c> as one run of thousands), and the value type and issuer only for the
/// few claims that differ from the common case (<see cref="ClaimValueTypes.String"/>, the ID token's issuer). One object
/// per claim, repeating both and the serializer's type name, made a 20,000-group ID token's outcome 7.6 MB.
/// </summary>
/// <remarks>Arrays, not interfaces: the serializer must be able to build what the declared types hold (a collection
/// expression for an <see cref="IReadOnlyList{T}"/> may make a list type it cannot).</remarks>
/// <param name="Types">The claim types, one per run of consecutive claims of that type.</param>
/// <param name="Runs">How many consecutive claims each of <paramref name="Types"/> covers.</param>
/// <param name="Values">Every claim's value, in the claims' order.</param>
/// <param name="OtherAt">The positions (ascending) of the claims whose value type or issuer is not the common one.</param>
/// <param name="OtherValueTypes">Those claims' value types, in the order of <paramref name="OtherAt"/>.</param>
/// <param name="OtherIssuers">Those claims' issuers, in the order of <paramref name="OtherAt"/>.</param>
internal sealed record WireClaimList(string[] Types, int[] Runs, string[] Values, int[] OtherAt, string[] OtherValueTypes, string[] OtherIssuers)
{
    /// <summary>The wire form of <paramref name="claims"/>, whose common issuer is <paramref name="issuer"/>.</summary>
    public static WireClaimList From(IReadOnlyList<Claim> claims, string issuer)
    {
        var types = new List<string>();
        var runs = new List<int>();
        var values = new string[claims.Count];
        var otherAt = new List<int>();
        var otherValueTypes = new List<string>();
        var otherIssuers = new List<string>();
        for (var i = 0; i < claims.Count; i++)
        {
            var claim = claims[i];
            // Claim types are compared as the claims compare them: ordinally.
            if (types.Count > 0 && string.Equals(types[^1], claim.Type, StringComparison.Ordinal)) runs[^1]++;
            else
            {
                types.Add(claim.Type);
                runs.Add(1);
            }

            values[i] = claim.Value;
            if (string.Equals(claim.ValueType, ClaimValueTypes.String, StringComparison.Ordinal) && string.Equals(claim.Issuer, issuer, StringComparison.Ordinal))
                continue;
            otherAt.Add(i);
            otherValueTypes.Add(claim.ValueType);
            otherIssuers.Add(claim.Issuer);
        }

        return new WireClaimList(types.ToArray(), runs.ToArray(), values, otherAt.ToArray(), otherValueTypes.ToArray(), otherIssuers.ToArray());
    }

    /// <summary>
    /// The claims rebuilt, in their order, with <paramref name="issuer"/> where no other was sent; false when the parts do
    /// not fit together (a message this version did not write), rather than an exception in the receiving actor.
    /// </summary>
    public bool TryToClaims(string issuer, [NotNullWhen(true)] out IReadOnlyList<Claim>? claims)
    {
        claims = null;
        if (!IsWellFormed()) return false;
        var all = new List<Claim>(Values.Length);
        var other = 0;
        for (var run = 0; run < Types.Length; run++)
        {
            for (var n = 0; n < Runs[run]; n++)
            {
                var i = all.Count;
                var odd = other < OtherAt.Length && OtherAt[other] == i;
                all.Add(new Claim(Types[run], Values[i], odd ? OtherValueTypes[other] : ClaimValueTypes.String, odd ? OtherIssuers[other] : issuer));
                if (odd) other++;
            }
        }

        claims = all.AsReadOnly();
        return true;
    }

    /// <summary>An upper bound on the bytes a serializer writes for these claims (<see cref="WireSize"/>).</summary>
    public long SizeBound() => WireSize.Of(Types) + WireSize.Of(Values) + WireSize.Of(OtherValueTypes) + WireSize.Of(OtherIssuers)
        + WireSize.OfNumbers(Runs.Length + OtherAt.Length);

    private bool IsWellFormed()
    {
        // Nothing here can be null in a message this version wrote.
        if (Types is null || Runs is null || Values is null || OtherAt is null || OtherValueTypes is null || OtherIssuers is null) return false;
        if (Types.Length != Runs.Length || OtherAt.Length != OtherValueTypes.Length || OtherAt.Length != OtherIssuers.Length) return false;
        long total = 0;
        foreach (var run in Runs)
        {
            if (run < 1) return false;
            total += run;
        }

        if (total != Values.Length) return false;
        for (var k = 0; k < OtherAt.Length; k++)
            if (OtherAt[k] < 0 || OtherAt[k] >= Values.Length || (k > 0 && OtherAt[k] <= OtherAt[k - 1])) return false;
        return Types.Concat(Values).Concat(OtherValueTypes).Concat(OtherIssuers).All(s => s is not null);
    }

    /// <inheritdoc />
    public override string ToString() => $"WireClaimList {{ Count = {Values?.Length ?? 0} }}";
}
